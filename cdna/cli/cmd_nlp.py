"""`cdna mine`, `cdna mask`, `cdna intent`: Korean NLP signals (issue #4)."""

from __future__ import annotations

import json
import select
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Annotated, Any

import typer
from rich.table import Table

from cdna.cli.state import exit_for, parse_day, state
from cdna.contracts.results import MineResult

__all__ = ["iter_lines", "register"]

_MAX_LINE = 1 << 20  # longer lines are cut (and reported) so one line cannot hold the stream hostage
_BATCH = 64


def iter_lines(stream: IO[bytes]) -> Iterator[tuple[int, str, str | None]]:
    """(line number, text, problem) per input line; bytes are decoded per line, bad bytes replaced."""
    for n, raw in enumerate(stream, start=1):
        problem = None
        if len(raw) > _MAX_LINE:
            raw, problem = raw[:_MAX_LINE], f"line longer than {_MAX_LINE} bytes, cut"
        text = raw.decode("utf-8", errors="replace").rstrip("\r\n")
        if "\ufffd" in text and problem is None:
            problem = "invalid UTF-8 bytes replaced"
        yield n, text, problem


def _input_waiting() -> bool:
    """Whether more input can be read without blocking (so interactive use gets answers line by line)."""
    try:
        ready, _, _ = select.select([sys.stdin], [], [], 0)
    except (OSError, ValueError, TypeError):
        return True
    return bool(ready)


def _warn(line: int, problem: str) -> None:
    print(f"cdna: line {line}: {problem}", file=sys.stderr)


def register(app: typer.Typer) -> None:
    """Add the NLP commands to the CLI."""

    @app.command(rich_help_panel="Stages")
    def mine(
        ctx: typer.Context,
        lake: Annotated[
            Path | None,
            typer.Option("--lake", "-l", help="Lake folder (default: CDNA_LAKE or config `lake`)."),
        ] = None,
        date_: Annotated[str | None, typer.Option("--date", help="Only this Korea day, YYYY-MM-DD.")] = None,
        force: Annotated[
            bool, typer.Option("--force", help="Rewrite partitions whose inputs did not change.")
        ] = False,
        backend: Annotated[str | None, typer.Option(help="Intent backend: sklearn or transformers.")] = None,
        model: Annotated[
            str | None, typer.Option(help="Local model folder for --backend transformers.")
        ] = None,
    ) -> None:
        """Mine masked intents, interests and complaints from transcripts and memos into LAKE/signals/.

        Reads LAKE/transcripts/date=*/ (customer turns when speaker roles exist) and raw/transactions
        (memos by Korea day); writes LAKE/signals/date=D/signals.parquet atomically per day. Personal
        data is masked before any evidence is written; a rerun replaces or skips, never duplicates.

        Example: [bold]cdna mine --lake ./demo --date 2025-06-30[/]
        """
        from cdna.nlp.store import fit_models, run_mine

        st = state(ctx)
        o = st.output
        target = st.lake(lake)
        day = parse_day(date_, "--date")
        cfg = st.config.nlp
        with o.progress("training the intent model (seed set)", None) as advance:
            models = fit_models(cfg, model=model, backend=backend)  # elapsed time shows while it trains
        with o.progress("mining", None, "days") as advance:
            summary = run_mine(
                target,
                cfg,
                day,
                force=force,
                models=models,
                progress=lambda d: advance(1, info=d),
                on_total=lambda n: advance(0, total=n),  # "12/396 days" with an ETA, not "12/?"
            )
        table = Table(title=f"signals → {target.signals}", show_edge=False)
        table.add_column("what")
        table.add_column("count", justify="right")
        for kind, n in sorted(summary.signals.items()):
            table.add_row(f"signals: {kind}", f"{n:,}")
        for kind, n in summary.pii.most_common():
            table.add_row(f"masked: {kind}", f"{n:,}")
        table.add_row("days written", str(len(summary.days_written)))
        table.add_row("days skipped (unchanged)", str(len(summary.days_skipped)))
        o.result(
            {
                "lake": str(target.root),
                "days_written": summary.days_written,
                "days_skipped": summary.days_skipped,
                "signals": dict(summary.signals),
                "pii_masked": dict(summary.pii),
                "run_record": str(summary.run_record),
            },
            table,
            schema=MineResult,
        )
        record = json.loads(Path(str(summary.run_record)).read_text()) if summary.run_record else {}
        failures = record.get("failures", [])
        for f in failures[:10]:
            o.error(f"{f['item']}: {f['reason']}")
        exit_for(len(failures))

    @app.command(rich_help_panel="Tools")
    def mask(
        spans: Annotated[
            bool, typer.Option("--spans", help="Write JSON lines with the typed spans instead of text.")
        ] = False,
        types: Annotated[str | None, typer.Option(help="Comma-separated PII types (default: all).")] = None,
    ) -> None:
        """Mask personal data in text lines from stdin: [RRN] [PHONE] [CARD] [ACCOUNT] [EMAIL] [NAME] [ADDRESS].

        Everything that is not personal data is written exactly as read; spoken numbers count too
        (공일공 일이삼사 …). Bad lines (invalid UTF-8, control characters, very long) are masked and reported
        on stderr; the stream goes on.

        Example: [bold]echo "제 번호는 공일공 일이삼사 오육칠팔이에요" | cdna mask[/]
        """
        from cdna.nlp.pii import PII_TYPES, MaskOptions
        from cdna.nlp.pii import mask as mask_text

        chosen = frozenset(t.strip().upper() for t in types.split(",")) if types else frozenset(PII_TYPES)
        unknown = chosen - set(PII_TYPES)
        if unknown:
            raise typer.BadParameter(
                f"unknown PII type(s) {sorted(unknown)}; allowed: {', '.join(PII_TYPES)}"
            )
        options = MaskOptions(types=chosen)
        out = sys.stdout
        for n, text, problem in iter_lines(sys.stdin.buffer):
            if problem:
                _warn(n, problem)
            try:
                result = mask_text(text, options)
                line = (
                    json.dumps(
                        {
                            "line": n,
                            "text": result.text,
                            "spans": [{"type": s.type, "start": s.start, "end": s.end} for s in result.spans],
                        },
                        ensure_ascii=False,
                    )
                    if spans
                    else result.text
                )
            except Exception as exc:  # never pass an unmasked line through
                _warn(n, f"could not be masked ({type(exc).__name__}); written as [UNMASKABLE]")
                line = json.dumps({"line": n, "error": "unmaskable"}) if spans else "[UNMASKABLE]"
            out.write(line + "\n")
            out.flush()

    @app.command(rich_help_panel="Tools")
    def intent(
        ctx: typer.Context,
        backend: Annotated[str | None, typer.Option(help="sklearn (default) or transformers.")] = None,
        model: Annotated[
            str | None, typer.Option(help="Local model folder for --backend transformers.")
        ] = None,
        top: Annotated[int, typer.Option(help="Intents per line (most probable first).")] = 3,
        epochs: Annotated[
            int,
            typer.Option(
                help="Fine-tuning epochs on the seed set for --backend transformers (0 = use as is)."
            ),
        ] = 3,
    ) -> None:
        """Classify call-center utterances from stdin into intents; writes one JSON line per input line.

        Each line is masked first, then classified: {"line": n, "intents": [{"id", "name", "p"}, …]}.
        Empty or undecodable lines get an "error" field; the stream goes on.

        Example: [bold]echo "주담대 금리 좀 알아보려고요" | cdna intent[/]
        """
        from cdna.core.config import load_intents
        from cdna.nlp.intents import load_seed
        from cdna.nlp.pii import mask as mask_text
        from cdna.nlp.store import fit_models

        st = state(ctx)
        cfg = st.config.nlp
        if backend == "transformers" or (backend is None and cfg.intent_backend == "transformers"):
            from cdna.nlp.intents import make_intent_model

            estimator = make_intent_model("transformers", model or cfg.intent_model, epochs=epochs)
            texts, labels, _ = load_seed()
            estimator.fit(texts, labels)
        else:
            estimator = fit_models(cfg, backend="sklearn").intents
        names = {i.id: i.name for i in load_intents().intents}
        classes = [str(c) for c in estimator.classes_]
        batch: list[tuple[int, str, str | None]] = []

        def flush() -> None:
            good = [(n, t) for n, t, p in batch if t.strip()]
            proba = estimator.predict_proba([t for _, t in good]) if good else []
            by_line = {n: row for (n, _), row in zip(good, proba, strict=True)}
            for n, _text, problem in batch:
                rec: dict[str, Any] = {"line": n}
                if n in by_line:
                    row = by_line[n]
                    order = row.argsort()[::-1][:top]
                    rec["intents"] = [
                        {
                            "id": classes[j],
                            "name": names.get(classes[j], classes[j]),
                            "p": round(float(row[j]), 4),
                        }
                        for j in order
                    ]
                else:
                    rec["intents"] = []
                    rec["error"] = "empty line"
                if problem:
                    rec["warning"] = problem
                sys.stdout.write(json.dumps(rec, ensure_ascii=False) + "\n")
            sys.stdout.flush()
            batch.clear()

        for n, text, problem in iter_lines(sys.stdin.buffer):
            try:
                masked = mask_text(text[:20000]).text
            except Exception:  # classification still works on the text without the masking step
                masked, problem = "", (problem or "") + " could not be masked; skipped"
            batch.append((n, masked, problem))
            if len(batch) >= _BATCH or not _input_waiting():
                flush()
        flush()
