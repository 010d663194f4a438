"""The mining runner: reads the lake, calls the pure miner per Korea day, writes signals atomically.

LAKE/signals/date=D/signals.parquet is replaced as a whole under a partition lock, so a rerun never
duplicates rows; a partition whose inputs and model version are unchanged is skipped (unless forced).
"""

from __future__ import annotations

import hashlib
import shutil
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from cdna.contracts.parts import read_raw
from cdna.contracts.schemas import SIGNALS, TRANSACTIONS, TRANSCRIPTS, conform, read_table
from cdna.core.config import NlpConfig, load_decoder_terms
from cdna.core.errors import LakeError
from cdna.core.lake import Lake, RunRecord, atomic_write_parquet, partition_lock
from cdna.nlp.intents import load_seed, make_intent_model, seed_version
from cdna.nlp.interests import InterestClassifier
from cdna.nlp.mine import MineOptions, Models, empty_signals, mine_calls, mine_memos

__all__ = ["MineSummary", "fit_models", "read_signals", "run_mine"]

SIGNALS_FILE = "signals.parquet"
_FINGERPRINT = b"cdna_inputs_fingerprint"


@dataclass
class MineSummary:
    """What `cdna mine` did.

    Attributes:
        days_written / days_skipped: Korea days whose partition was written or left as is.
        signals: rows written by kind.
        pii: masked items by type.
        run_record: path of the run record.
        outputs: partition files written.
    """

    days_written: list[str] = field(default_factory=list)
    days_skipped: list[str] = field(default_factory=list)
    signals: Counter[str] = field(default_factory=Counter)
    pii: Counter[str] = field(default_factory=Counter)
    counts: Counter[str] = field(default_factory=Counter)
    run_record: Path | None = None
    outputs: list[str] = field(default_factory=list)


def fit_models(cfg: NlpConfig, model: str | None = None, backend: str | None = None) -> Models:
    """Train the intent model on the seed set (and the memo classifier) as configured."""
    backend = backend or cfg.intent_backend
    estimator = make_intent_model(
        backend, model or cfg.intent_model, cfg.tokenizer, cfg.intent_threshold, cfg.max_intents
    )
    texts, labels, _ = load_seed()
    estimator.fit(texts, labels)
    version = f"intent-{backend}-{seed_version()}"
    return Models(estimator, InterestClassifier().fit(), version)


def _transcript_days(lake: Lake) -> dict[str, list[Path]]:
    out: dict[str, list[Path]] = {}
    if lake.transcripts.is_dir():
        for folder in sorted(lake.transcripts.glob("date=*")):
            files = sorted(folder.glob("*.parquet"))
            if files:
                out[folder.name.split("=", 1)[1]] = files
    return out


def _read_transcripts(files: list[Path]) -> pa.Table:
    tables = [read_table(f, TRANSCRIPTS) for f in files]
    return pa.concat_tables(tables) if tables else TRANSCRIPTS.schema.empty_table()


def _transactions_by_day(lake: Lake, days: set[str] | None) -> tuple[dict[str, pa.Table], list[Path]]:
    files = lake.raw_parts("transactions")  # every import's part, one row per txn_id (issue 15)
    if not files:
        return {}, []
    table = read_raw(lake, TRANSACTIONS).select(["txn_id", "customer_id", "ts", "memo", "merchant"])
    # pyarrow formats tz-aware timestamps in their own zone: shift to Korea time first.
    shifted = table.column("ts").cast(pa.timestamp("us", tz="Asia/Seoul"))
    local = pc.strftime(shifted, format="%Y-%m-%d")
    table = table.append_column("day", local)
    out: dict[str, pa.Table] = {}
    wanted = days if days is not None else set(pc.unique(local).to_pylist())
    for day in sorted(wanted):
        part = table.filter(pc.equal(table.column("day"), day))
        if part.num_rows:
            out[day] = part.drop_columns(["day"])
    return out, files


def _fingerprint(files: list[Path], version: str, extra: str) -> str:
    h = hashlib.sha256(f"{version}|{extra}".encode())
    for f in files:
        st = f.stat()
        h.update(f"{f}|{st.st_size}|{st.st_mtime_ns}".encode())
    return h.hexdigest()[:16]


def run_mine(
    lake: Lake,
    cfg: NlpConfig,
    day: date | None = None,
    force: bool = False,
    models: Models | None = None,
    progress: Callable[[str], Any] | None = None,
    on_total: Callable[[int], Any] | None = None,
) -> MineSummary:
    """Mine signals for every Korea day with transcripts or memos (or only `day`) into LAKE/signals/.

    Args:
        lake: the lake.
        cfg: NLP options (tokenizer, intent backend, thresholds, purge).
        day: only this Korea day.
        force: rewrite partitions even when their inputs did not change.
        models: fitted models (trained from the seed set when None).
        progress: called with each finished day.
        on_total: called once with the number of days to mine (a progress bar's total, issue 18).

    Returns:
        Days written and skipped, counts, and the run record path.
    """
    t_days = _transcript_days(lake)
    if not t_days and not (lake.raw("transactions").is_dir()):
        raise LakeError(
            f"nothing to mine in {lake.root}: no transcripts/date=*/ and no raw/transactions",
            hint=f"run `cdna world --out {lake.root}` or `cdna transcribe --lake {lake.root}` first",
        )
    wanted = {day.isoformat()} if day else None
    memo_days, txn_files = _transactions_by_day(lake, wanted)
    days = sorted((set(t_days) | set(memo_days)) if wanted is None else wanted)
    if on_total is not None:
        on_total(len(days))
    models = models or fit_models(cfg)
    options = MineOptions(
        intent_threshold=cfg.intent_threshold,
        max_intents=cfg.max_intents,
        complaint_threshold=cfg.complaint_threshold,
        min_interest_score=cfg.min_interest_score,
        min_avg_logprob=cfg.min_avg_logprob,
        echo_terms=tuple(load_decoder_terms()),
    )
    run = RunRecord("mine", inputs=[str(lake.transcripts), str(lake.raw("transactions"))])
    run.extra = {
        "intent_model": models.intent_version,
        "interest_model": models.interest_version,
        "tokenizer": cfg.tokenizer,
    }
    summary = MineSummary()
    txn_key = _fingerprint(txn_files, "", "")
    for d in days:
        files = t_days.get(d, [])
        memos = memo_days.get(d)
        key = _fingerprint(
            files,
            f"{models.intent_version}|{models.interest_version}|floor={cfg.min_avg_logprob}",
            f"{txn_key}|{memos.num_rows if memos is not None else 0}",
        )
        out_dir = lake.signals_day(d)
        target = out_dir / SIGNALS_FILE
        if not force and target.exists():
            try:
                meta = pq.read_schema(target).metadata or {}
                same = meta.get(_FINGERPRINT) == key.encode()
            except (OSError, pa.ArrowInvalid):
                same = False
            if same:
                summary.days_skipped.append(d)
                continue
        try:
            with partition_lock(lake, lake.rel(lake.signals_day(d))):
                calls = mine_calls(_read_transcripts(files), models, options) if files else None
                memo = mine_memos(memos, models, options) if memos is not None else None
                parts = [r.signals for r in (calls, memo) if r is not None]
                table = pa.concat_tables(parts) if parts else empty_signals()
                table = conform(table, SIGNALS, f"signals {d}")
                # The input fingerprint rides in the file's own metadata: one atomic write per day.
                meta = {_FINGERPRINT: key.encode(), b"cdna_run_id": run.run_id.encode()}
                path = atomic_write_parquet(table.replace_schema_metadata(meta), target)
                for r in (calls, memo):
                    if r is not None:
                        summary.pii.update(r.pii)
                        summary.counts.update(r.counts)
                for kind, n in Counter(table.column("kind").to_pylist()).items():
                    summary.signals[kind] += n
                summary.days_written.append(d)
                summary.outputs.append(str(path))
                if cfg.purge_unmasked_transcripts:
                    for f in files:
                        f.unlink(missing_ok=True)
                    if files and not any(files[0].parent.iterdir()):
                        shutil.rmtree(files[0].parent, ignore_errors=True)
        except Exception as exc:  # one bad day must not stop the others (recorded, exit code 3)
            run.fail(lake.rel(lake.signals_day(d)), f"{type(exc).__name__}: {exc}")
        if progress:
            progress(d)
    run.outputs = summary.outputs
    run.counts = {
        "days_written": len(summary.days_written),
        "days_skipped": len(summary.days_skipped),
        **{f"pii_{k.lower()}": v for k, v in sorted(summary.pii.items())},
        **{f"signals_{k}": v for k, v in sorted(summary.signals.items())},
        **dict(summary.counts),
    }
    summary.run_record = run.finish(lake)
    return summary


def read_signals(lake: Lake) -> pa.Table:
    """All signals in the lake (for the demo and tests)."""
    files = sorted(lake.signals.glob(f"date=*/{SIGNALS_FILE}")) if lake.signals.is_dir() else []
    if not files:
        return empty_signals()
    return pa.concat_tables([read_table(f, SIGNALS) for f in files])
