"""`cdna serve`, `cdna keys` and `cdna audit`: the staff service and its administration."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from cdna.cli.state import parse_day, state
from cdna.core.errors import CdnaError

if TYPE_CHECKING:
    from cdna.cli.state import State
    from cdna.core.lake import Lake
    from cdna.core.secrets import SecretKey

__all__ = ["AuditTamperedError", "register"]

_EXTRA = {"allow_extra_args": True, "ignore_unknown_options": True}

LakeOpt = Annotated[
    Path | None, typer.Option("--lake", "-l", help="Lake folder (default: CDNA_LAKE or config).")
]


class AuditTamperedError(CdnaError):
    """The audit log's hash chain does not verify."""

    exit_code = 1


def register(app: typer.Typer) -> None:
    """Add the service, key, audit and scheduling commands to the CLI."""

    @app.command(rich_help_panel="Stages")
    def serve(
        ctx: typer.Context,
        lake: LakeOpt = None,
        host: Annotated[str | None, typer.Option(help="Address to listen on (default 127.0.0.1).")] = None,
        port: Annotated[int | None, typer.Option(help="Port (default 8080).")] = None,
        workers: Annotated[int | None, typer.Option(help="Worker processes (default 1).")] = None,
        reload_interval: Annotated[
            float | None, typer.Option(help="Seconds between polls of the champion alias and serving files.")
        ] = None,
    ) -> None:
        """Run the staff API and the Korean console (/console) on uvicorn.

        Keys come from [bold]cdna keys create[/]; every customer lookup is written to LAKE/audit/.

        Example: [bold]cdna serve --lake ./demo --port 8080[/]
        """
        import os

        import uvicorn

        from cdna.serve.settings import ENV_SETTINGS, ServeSettings

        st = state(ctx)
        lk = st.lake(lake)
        settings = ServeSettings.from_config(
            st.config.serve, lk.root, host=host, port=port, workers=workers, reload_interval_s=reload_interval
        )
        from cdna.serve.server import check_port, serve_app

        o = st.output
        check_port(settings.host, settings.port)  # a taken port fails before anything is announced
        url = f"http://{settings.host}:{settings.port}"
        o.say(f"starting the staff API on {url} (lake {lk.root}) — loading serving data …")
        common: dict[str, Any] = {
            "host": settings.host,
            "port": settings.port,
            "log_level": "warning",
            "access_log": False,
        }
        if settings.workers > 1:
            os.environ[ENV_SETTINGS] = settings.to_env()
            app_ref = "cdna.serve.app:create_app_from_env"
            o.say(f"{settings.workers} worker processes; /readyz answers 200 once each has loaded")
            # uvicorn's supervisor turns SIGTERM/SIGINT into stopping the workers (each drains and signs an
            # audit checkpoint in its lifespan shutdown) and returns: exit 0 (tests/serve/test_serve_workers.py)
            uvicorn.run(app_ref, factory=True, workers=settings.workers, **common)  # type: ignore[arg-type]
            o.say("staff API stopped")
        else:
            from cdna.serve.app import create_app

            def listening() -> None:
                o.say(f"staff API listening on [bold]{url}[/] — console {url}/console, API docs {url}/docs")

            # SIGTERM (systemd stop, kill) drains open requests and ends with exit 0
            serve_app(create_app(settings), on_listening=listening, **common)
            o.say("staff API stopped")

    keys_app = typer.Typer(help="Issue and revoke API keys of the staff service.", no_args_is_help=True)
    app.add_typer(keys_app, name="keys", rich_help_panel="Tools")

    @keys_app.command("create")
    def keys_create(
        ctx: typer.Context,
        name: Annotated[str, typer.Option("--name", help="Who holds the key (unique among active keys).")],
        role: Annotated[str, typer.Option("--role", help="staff, ml or admin.")] = "staff",
        lake: LakeOpt = None,
    ) -> None:
        """Issue a key; the key alone is printed on the last line (it is stored only as a hash).

        Example: [bold]KEY=$(cdna keys create --role staff --name kim --lake ./demo | tail -1)[/]
        """
        from cdna.serve.keys import KeyStore, keys_path

        st = state(ctx)
        lk = st.lake(lake)
        store = KeyStore(keys_path(lk.root))
        key = store.create(name, role)
        if st.json:
            print(json.dumps({"name": name, "role": role, "key": key}))
            return
        st.output.say(
            f"issued a [bold]{role}[/] key for [bold]{name}[/] (shown once; stored hashed in {store.path})"
        )
        print(key)

    @keys_app.command("revoke")
    def keys_revoke(
        ctx: typer.Context,
        name: Annotated[str, typer.Argument(help="Name of the key.")],
        lake: LakeOpt = None,
    ) -> None:
        """Revoke the active key with this name; it stops working at once."""
        from cdna.serve.keys import KeyStore, keys_path

        st = state(ctx)
        rec = KeyStore(keys_path(st.lake(lake).root)).revoke(name)
        st.output.result({"revoked": rec.name, "role": rec.role, "revoked_at": rec.revoked_at})

    @keys_app.command("list")
    def keys_list(ctx: typer.Context, lake: LakeOpt = None) -> None:
        """List issued keys (names, roles, dates; never the keys)."""
        from rich.table import Table

        from cdna.serve.keys import KeyStore, keys_path

        st = state(ctx)
        recs = KeyStore(keys_path(st.lake(lake).root)).list()
        table = Table("name", "role", "prefix", "created", "revoked", show_edge=False)
        for r in recs:
            table.add_row(r.name, r.role, r.prefix + "…", r.created_at, r.revoked_at or "")
        st.output.result({"keys": [r.__dict__ for r in recs]}, table)

    audit_app = typer.Typer(help="Check and export the hash-chained access log.", no_args_is_help=True)
    app.add_typer(audit_app, name="audit", rich_help_panel="Tools")

    def _audit_key(st: State, lk: Lake, key_file: Path | None) -> SecretKey:
        from cdna.core.secrets import load_key

        cfg = st.config.serve
        if key_file is not None:
            return load_key("audit", key_file, None, lk.root)
        return load_key("audit", cfg.audit_key_file, cfg.audit_key_env, lk.root)

    @audit_app.command("verify")
    def audit_verify(
        ctx: typer.Context,
        lake: LakeOpt = None,
        key_file: Annotated[
            Path | None,
            typer.Option("--key-file", help="Audit key file (default: config serve.audit_key_file)."),
        ] = None,
        anchors: Annotated[
            Path | None,
            typer.Option(
                "--anchors",
                help="Checkpoints exported earlier (`cdna audit anchors`): each must still be there.",
            ),
        ] = None,
    ) -> None:
        """Check the hash chain and the signed checkpoints; fails (exit 1) naming the first row that fails.

        Catches edited, deleted, swapped and re-hashed rows, a deleted tail and an emptied log; with
        --anchors also a log truncated together with its checkpoints.
        """
        from cdna.serve.audit import AuditLog, audit_path

        st = state(ctx)
        lk = st.lake(lake)
        path = audit_path(lk.root)
        if not path.is_file():
            raise AuditTamperedError(
                f"no audit log at {path}",
                hint="if the service has run on this lake, the log was removed: report it",
            )
        key = _audit_key(st, lk, key_file)
        exported = None
        if anchors is not None:
            exported = [
                json.loads(line) for line in anchors.read_text(encoding="utf-8").splitlines() if line.strip()
            ]
        log = AuditLog(path, read_only=True)
        try:
            res = log.verify(key, exported)
        finally:
            log.close()
        if not res.ok:
            where = f" at row {res.bad_seq}" if res.bad_seq is not None else ""
            raise AuditTamperedError(
                f"audit log {path} fails verification{where}: {res.reason}",
                hint="rows from this one on cannot be trusted; compare with the last exported checkpoints and report it",
            )
        st.output.result(
            {
                "ok": True,
                "rows": res.rows,
                "checkpoints": res.checkpoints,
                "unanchored_rows": res.unanchored,
                "key_id": key.key_id,
                "path": str(path),
            },
            f"audit log ok: {res.rows:,} rows chain-verified, {res.checkpoints:,} signed checkpoints "
            f"(key {key.key_id}); {res.unanchored:,} rows after the last checkpoint ({path})",
        )

    @audit_app.command("anchors")
    def audit_anchors(
        ctx: typer.Context,
        out: Annotated[
            Path | None, typer.Option("--out", "-o", help="JSON Lines file (default: stdout).")
        ] = None,
        lake: LakeOpt = None,
    ) -> None:
        """Export the signed checkpoints as JSON Lines, for a system the log's administrator cannot change.

        Later, `cdna audit verify --anchors FILE` fails if any of them is gone from the log.
        """
        from cdna.core.lake import atomic_write_text
        from cdna.serve.audit import AuditLog, audit_path

        st = state(ctx)
        path = audit_path(st.lake(lake).root)
        if not path.is_file():
            raise CdnaError(f"no audit log at {path}", hint="the log is created when the service starts")
        log = AuditLog(path, read_only=True)
        try:
            cps = log.checkpoints()
        finally:
            log.close()
        text = "".join(json.dumps(c.to_dict()) + "\n" for c in cps)
        if out is None:
            sys.stdout.write(text)
        else:
            atomic_write_text(out, text)
            st.output.say(f"{len(cps):,} signed checkpoints → {out}")

    @audit_app.command("export")
    def audit_export(
        ctx: typer.Context,
        from_: Annotated[str, typer.Option("--from", help="First day (YYYY-MM-DD, Korea time).")],
        to: Annotated[str, typer.Option("--to", help="Last day, inclusive (YYYY-MM-DD, Korea time).")],
        out: Annotated[
            Path | None, typer.Option("--out", "-o", help="JSON Lines file (default: stdout).")
        ] = None,
        lake: LakeOpt = None,
    ) -> None:
        """Export the rows of a day range as JSON Lines, with their hashes (for compliance)."""
        from cdna.core.lake import atomic_write_text
        from cdna.serve.audit import AuditLog, audit_path

        st = state(ctx)
        start, end = parse_day(from_, "--from"), parse_day(to, "--to")
        assert start is not None and end is not None  # both options are required
        if end < start:
            raise CdnaError(f"--to {end} is before --from {start}")
        path = audit_path(st.lake(lake).root)
        if not path.is_file():
            raise CdnaError(f"no audit log at {path}", hint="the log is created by the first customer lookup")
        rows = AuditLog(path, read_only=True).export(start, end, st.config.timezone)
        text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
        if out is None:
            sys.stdout.write(text)
        else:
            atomic_write_text(out, text)
            st.output.say(f"{len(rows):,} audit rows {start}..{end} → {out}")
