"""Per-invocation CLI state: the parsed config and output mode (created once in the root callback)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import typer

from cdna.cli.console import Output
from cdna.core.config import Config, load_config
from cdna.core.errors import ConfigError
from cdna.core.lake import Lake

__all__ = ["State", "exit_for", "parse_day", "state"]


@dataclass
class State:
    """Options given before the command (`cdna --config F --quiet …`) and the config they load."""

    config_path: Path | None = None
    quiet: bool = False
    json: bool = False
    debug: bool = False
    _config: Config | None = field(default=None, repr=False)

    @property
    def config(self) -> Config:
        """The configuration, loaded on first use."""
        if self._config is None:
            self._config = load_config(self.config_path)
        return self._config

    @property
    def output(self) -> Output:
        return Output(quiet=self.quiet, json=self.json)

    def lake(self, lake: Path | None, create: bool = False) -> Lake:
        """The lake from --lake, else CDNA_LAKE / config `lake`."""
        return Lake.at(lake if lake is not None else self.config.lake, create=create)


def state(ctx: typer.Context) -> State:
    """The State of this invocation."""
    obj = ctx.find_root().obj
    if not isinstance(obj, State):
        obj = State()
        ctx.find_root().obj = obj
    return obj


def exit_for(failures: int) -> None:
    """Exit 3 when some inputs failed (partial success)."""
    if failures:
        raise typer.Exit(code=3)


_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def parse_day(value: str | None, option: str = "--as-of") -> date | None:
    """A YYYY-MM-DD option value as a date (None stays None); a ConfigError (exit 2) names the option."""
    if value is None:
        return None
    try:
        # strictly YYYY-MM-DD: Python also reads "20250701" as a date, which the hint never promised (issue 18)
        if not _DAY.fullmatch(value):
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        raise ConfigError(
            f"{option} {value!r} is not a date", hint="use YYYY-MM-DD (a Korea-time calendar day)"
        ) from None
