"""The `cdna` command line: one command per stage, plus `demo` that runs them all on a synthetic bank."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Annotated

import click
import typer

from cdna.cli.console import Output, setup_logging
from cdna.cli.state import State
from cdna.core.errors import CdnaError
from cdna.core.version import __version__

# typer >= 0.24 raises its own exception classes (it vendors click); accept both families.
_EXIT: tuple[type[BaseException], ...] = (click.exceptions.Exit, typer.Exit)
_ABORT: tuple[type[BaseException], ...] = (click.exceptions.Abort, typer.Abort)
_USAGE: tuple[type[BaseException], ...] = (click.ClickException,)
try:
    from typer._click.exceptions import ClickException as _TyperClickException

    _USAGE += (_TyperClickException,)
except ImportError:  # pragma: no cover - typer without a vendored click
    pass

__all__ = ["app", "main", "raised_while_interrupted"]

HELP = """Customer DNA — turn what bank customers [bold]say and write[/] into explained product recommendations.

Stages run in this order, each reading the previous stage's tables in the lake (--lake DIR or CDNA_LAKE):

  [bold]world[/] → [bold]transcribe[/] → [bold]mine[/] → [bold]features[/] → [bold]train / retrain[/] → [bold]recommend[/] → [bold]serve[/]

Start with [bold]cdna demo[/]: it builds a small synthetic Korean bank and runs every stage end to end.

Exit codes: 0 ok · 2 usage or configuration error · 3 partial failure (some inputs rejected) · 1 crash.
"""

app = typer.Typer(
    help=HELP,
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        print(f"cdna {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config", "-c", envvar="CDNA_CONFIG", help="YAML file overriding configs/default.yaml."
        ),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars or chatter.")] = False,
    json_: Annotated[
        bool, typer.Option("--json", help="Print the result as JSON on stdout (for batch use).")
    ] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks of unexpected errors.")] = False,
    log_format: Annotated[
        str,
        typer.Option(
            "--log-format",
            help="plain: one unwrapped line per log record; json: one JSON object per line (for log shippers).",
        ),
    ] = "plain",
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Global options go before the command: `cdna --json evaluate --lake L`."""
    if log_format not in ("plain", "json"):
        raise CdnaError(
            f"--log-format {log_format!r} is not one of: plain, json", hint="e.g. --log-format json"
        )
    if config is not None and not config.is_file():
        # every command, not only those that read the config, refuses a --config that is not there (issue 18)
        from cdna.core.errors import ConfigError

        raise ConfigError(f"config file not found: {config}", hint="check the --config path (or CDNA_CONFIG)")
    st = State(config_path=config, quiet=quiet, json=json_, debug=debug)
    ctx.obj = st
    setup_logging("INFO", quiet or json_, log_format)


def _register() -> None:
    from cdna.cli import (
        cmd_campaign,
        cmd_data,
        cmd_features,
        cmd_ingest,
        cmd_link,
        cmd_mlflow,
        cmd_nightly,
        cmd_nlp,
        cmd_privacy,
        cmd_recommend,
        cmd_serve,
        cmd_stream,
        cmd_transcribe,
        demo,
    )

    cmd_ingest.register(app)
    cmd_transcribe.register(app)
    cmd_nlp.register(app)
    cmd_features.register(app)
    cmd_recommend.register(app)
    cmd_campaign.register(app)
    cmd_serve.register(app)
    cmd_mlflow.register(app)
    cmd_stream.register(app)
    cmd_nightly.register(app)
    cmd_data.register(app)
    cmd_link.register(app)
    cmd_privacy.register(app)
    demo.register(app)


_register()


_GLOBAL_FLAGS = ("--json", "--quiet", "-q", "--debug")
_INTERRUPTED = "interrupted (Ctrl-C): finished partitions are kept and locks released; rerun the same command to continue"


def global_options_first(args: list[str]) -> list[str]:
    """Global flags given after the command (`cdna evaluate --json`) moved before it, where typer reads them.

    Issue 18: `--json` was accepted per command by some commands only. Everything after `--` is left alone.
    """
    if "--" in args:
        cut = args.index("--")
        return global_options_first(args[:cut]) + args[cut:]
    flags = [a for a in args if a in _GLOBAL_FLAGS]
    rest = [a for a in args if a not in _GLOBAL_FLAGS]
    fmt: list[str] = []
    if "--log-format" in rest[1:]:
        i = rest.index("--log-format", 1)
        fmt, rest = rest[i : i + 2], rest[:i] + rest[i + 2 :]
    return [*dict.fromkeys(flags), *fmt, *rest]


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `cdna` console script; returns the process exit code."""
    args = global_options_first(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    out = Output()
    try:
        result = app(args=args, prog_name="cdna", standalone_mode=False)
        code = result if isinstance(result, int) else 0
        if code == 130:  # typer turns Ctrl-C into a silent exit code 130 (issue 18: it printed nothing)
            out.error(_INTERRUPTED)
    except _EXIT as exc:
        code = int(getattr(exc, "exit_code", 0) or 0)
        if isinstance(exc.__cause__, KeyboardInterrupt):  # typer turns Ctrl-C into a silent Exit(130)
            out.error(_INTERRUPTED)
    except _ABORT:
        out.error(
            "interrupted (Ctrl-C): finished partitions are kept and locks released; rerun the same command to continue"
        )
        code = 130
    except _USAGE as exc:
        exc.show()  # type: ignore[attr-defined]
        code = int(getattr(exc, "exit_code", 2) or 2)
    except CdnaError as exc:
        out.error(str(exc))
        code = exc.exit_code
    except KeyboardInterrupt:
        out.error(
            "interrupted (Ctrl-C): finished partitions are kept and locks released; rerun the same command to continue"
        )
        code = 130
    except Exception as exc:  # noqa: BLE001 - the last line of defence turns crashes into exit 1
        if raised_while_interrupted(exc):
            # Ctrl-C landed inside clean-up code (a pool or progress thread not started yet) that then failed:
            # the user interrupted, nothing crashed (issue 18: "a clean Ctrl-C").
            if debug:
                logging.exception("error while unwinding from Ctrl-C")
            out.error(_INTERRUPTED)
            code = 130
        else:
            if debug:
                logging.exception("unexpected error")
            out.error(
                f"unexpected {type(exc).__name__}: {exc}\n  → rerun with --debug for the traceback, "
                "and report it with the command line you used"
            )
            code = 1
    if __name__ == "__main__":
        sys.exit(code)
    return code


def raised_while_interrupted(exc: BaseException) -> bool:
    """Whether `exc` was raised while a KeyboardInterrupt was being handled (anywhere in its chain)."""
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        if isinstance(cur, KeyboardInterrupt):
            return True
        seen.add(id(cur))
        cur = cur.__cause__ or cur.__context__
    return False


def _console_main() -> None:
    sys.exit(main())
