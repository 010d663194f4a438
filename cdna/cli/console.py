"""Terminal output: logs and progress on stderr, results on stdout, `--quiet` and `--json` modes."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

__all__ = ["Output", "setup_logging"]


class JsonLogFormatter(logging.Formatter):
    """One JSON object per log record and line: time (UTC ISO), level, logger, message."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as a single-line JSON document."""
        from datetime import UTC, datetime

        doc = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        return json.dumps(doc, ensure_ascii=False)


def setup_logging(level: str, quiet: bool, log_format: str = "plain") -> None:
    """Logs on stderr, one line per record, never wrapped (ids and counts only — never transcript or memo text).

    plain: "2025-07-01 02:30:01 INFO cdna.nlp: message"; json: one JSON object per line. Issue 18: the
    terminal-width handler wrapped cron logs at 80 columns.
    """
    handler = logging.StreamHandler()
    if log_format == "json":
        handler.setFormatter(JsonLogFormatter())
    else:
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s", datefmt="%Y-%m-%d %H:%M:%S")
        )
    logging.basicConfig(
        level=logging.WARNING if quiet else getattr(logging, level), handlers=[handler], force=True
    )
    for noisy in ("faster_whisper", "ray", "urllib3", "mlflow", "alembic", "httpx", "numba"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


@dataclass
class Output:
    """Where a command prints: `err` for people (progress, tables), `out` for results (JSON in --json mode).

    Attributes:
        quiet: no progress bars or chatter; results and errors only.
        json: print results as one JSON document on stdout.
    """

    quiet: bool = False
    json: bool = False

    def __post_init__(self) -> None:
        # soft_wrap: a long line stays one line in a log file (a cron job has an 80-column "terminal")
        self.err = Console(stderr=True, quiet=self.quiet and not self.json, soft_wrap=True)
        self.out = Console(soft_wrap=True, highlight=False)

    def say(self, message: Any) -> None:
        """A line for people (suppressed by --quiet and --json)."""
        if not self.quiet and not self.json:
            self.err.print(message)

    def result(self, data: dict[str, Any], human: Any = None, schema: type[BaseModel] | None = None) -> None:
        """The command's result: JSON with --json, else the human rendering (or the dict).

        With `schema` (a model of cdna.contracts.results) the data is checked against it first, so what the
        nightly run parses is what the command printed.
        """
        if schema is not None:  # checked as JSON, exactly as `cdna nightly` will read it
            schema.model_validate_json(json.dumps(data, ensure_ascii=False, default=str))
        if self.json:
            print(json.dumps(data, ensure_ascii=False, indent=2, default=str))
        elif human is not None:
            self.out.print(human)
        else:
            for key, value in data.items():
                self.out.print(f"{key}: {value}")

    def error(self, message: str) -> None:
        """An error for people, always shown (stderr)."""
        Console(stderr=True, soft_wrap=True).print(f"[bold red]error:[/] {message}", highlight=False)

    @contextmanager
    def progress(self, description: str, total: float | None, unit: str = "") -> Iterator[Any]:
        """A progress bar on stderr; yields `advance(n=1, **fields)`."""
        if self.quiet or self.json:
            yield lambda *a, **k: None
            return
        columns = [
            SpinnerColumn(),
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn(unit),
            TextColumn("{task.fields[info]}"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
        ]
        with Progress(*columns, console=self.err, transient=False) as prog:
            task = prog.add_task(description, total=total, info="")

            def advance(
                n: float = 1,
                info: str | None = None,
                completed: float | None = None,
                total: float | None = None,
            ) -> None:
                if total is not None:
                    prog.update(task, total=total)
                if completed is not None:
                    prog.update(task, completed=completed)
                else:
                    prog.advance(task, n)
                if info is not None:
                    prog.update(task, info=info)

            yield advance
