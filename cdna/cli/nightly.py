"""`cdna nightly`: run the night's stages in order as child processes, record and report what happened.

Each stage runs as its own `cdna` process (its log to LAKE/_runs/nightly-<date>/<stage>.log, its JSON
result on stdout), so a crash in one stage never takes the scheduler down with it and every stage is
exactly what an operator would run by hand. Exit codes: 0 ok, 3 some inputs failed (the night went
on), 1 a stage failed outright (the night stopped there; later stages would read stale inputs).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from cdna.contracts.results import (
    FeaturesResult,
    MineResult,
    PrivacyScanResult,
    RecommendResult,
    RetrainResult,
    StageResult,
    TranscribeResult,
    parse_stage_result,
)
from cdna.core.config import Config
from cdna.core.lake import Lake, atomic_write_text, partition_lock
from cdna.core.procs import child_process_kwargs

R = TypeVar("R", bound=StageResult)

__all__ = ["NightOptions", "NightResult", "StageOutcome", "night_stages", "nights", "run_night"]

STATUS_BY_CODE = {0: "ok", 3: "partial"}


@dataclass(frozen=True)
class NightOptions:
    """What one night run does.

    Attributes:
        lake: the lake.
        day: the night's Korea-time date.
        engine: transcription engine (local | ray).
        config_path: --config file passed on to every stage.
        force: rerun a night already recorded as complete.
        purge: run retention after the stages.
        dry_run_purge: list what retention would delete without deleting.
    """

    lake: Lake
    day: date
    engine: str = "local"
    config_path: Path | None = None
    force: bool = False
    purge: bool = True
    dry_run_purge: bool = False


@dataclass
class StageOutcome:
    """How one stage of the night ended."""

    name: str
    argv: list[str]
    exit_code: int
    status: str
    wall_s: float
    log: str
    result: StageResult | None = None
    run_records: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class NightResult:
    """The record of one night: stages, retention and the exit code."""

    day: str
    status: str
    exit_code: int
    started_at: str
    finished_at: str = ""
    wall_s: float = 0.0
    skipped: bool = False
    message: str = ""
    stages: list[StageOutcome] = field(default_factory=list)
    retention: dict[str, Any] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)


def night_stages(opts: NightOptions) -> list[tuple[str, list[str]]]:
    """The stage commands of one night, in order."""
    lake, day = str(opts.lake.root), opts.day.isoformat()
    return [
        ("transcribe", ["transcribe", "--lake", lake, "--date", day, "--engine", opts.engine]),
        ("mine", ["mine", "--lake", lake, "--date", day]),
        ("features", ["features", "materialize", "--lake", lake, "--as-of", day]),
        ("recommend", ["recommend", "--all", "--lake", lake, "--as-of", day]),
        ("retrain", ["retrain", "--if-needed", "--lake", lake]),
    ]


def _has_champion(opts: NightOptions) -> bool:
    """Whether the registry has a champion model (read-only; never creates the registry)."""
    from cdna.recommend.registry import read_registry

    return read_registry(opts.lake.root).champion is not None


def nights(start: date, end: date) -> list[date]:
    """Every date from start to end inclusive, in order."""
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def record_path(lake: Lake, day: date) -> Path:
    """Where a night's JSON record lives."""
    return lake.runs / f"nightly-{day.isoformat()}.json"


def _record_names(lake: Lake) -> set[str]:
    return {p.name for p in lake.runs.glob("*.json")} if lake.runs.is_dir() else set()


def _new_run_records(lake: Lake, before: set[str]) -> list[dict[str, Any]]:
    """Run records a stage wrote: the files that were not there before it started."""
    out = []
    if lake.runs.is_dir():
        for path in sorted(lake.runs.glob("*.json")):
            if path.name.startswith("nightly-") or path.name in before:
                continue
            try:
                out.append(json.loads(path.read_text(encoding="utf-8")))
            except (OSError, json.JSONDecodeError):
                continue
    return out


def _stop_stage(proc: subprocess.Popen[str], grace_s: float = 30.0) -> None:
    """After Ctrl-C: let the stage unwind (release its partition locks, remove temporary files), then kill it.

    subprocess.run would SIGKILL it 0.25 s after the interrupt, mid-cleanup, leaving its lock file behind
    (issue 18). A terminal's Ctrl-C reached the stage too (same process group); a stage still running after
    a few seconds gets its own SIGINT, which covers a night signalled alone (`kill -INT`).
    """
    for signal_first in (False, True):
        if signal_first and proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=5.0 if not signal_first else grace_s)
            return
        except subprocess.TimeoutExpired:
            continue
    proc.kill()
    proc.wait()


def _run_stage(name: str, argv: list[str], opts: NightOptions, log_dir: Path) -> StageOutcome:
    log_dir.mkdir(parents=True, exist_ok=True)
    log = log_dir / f"{name}.log"
    cmd = [sys.executable, "-m", "cdna", "--json"]
    if opts.config_path:
        cmd += ["--config", str(opts.config_path)]
    cmd += argv
    before = _record_names(opts.lake)
    t0 = time.perf_counter()
    env = {**os.environ, "COLUMNS": "160", "PYTHONUNBUFFERED": "1"}
    with open(log, "w", encoding="utf-8") as fh:
        fh.write(f"$ cdna --json {' '.join(argv)}\n")
        fh.flush()
        # the stage ends with the night, whatever ends the night (SIGKILL included, issue 15)
        proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=fh, text=True, **child_process_kwargs(env=env)
        )
        try:
            stdout, _ = proc.communicate()
        except KeyboardInterrupt:
            _stop_stage(proc)
            raise
        if stdout:
            fh.write("\n--- result (stdout) ---\n" + stdout)
    result = parse_stage_result(name, stdout) if stdout.strip() else None
    status = STATUS_BY_CODE.get(proc.returncode, "failed")
    return StageOutcome(
        name,
        argv,
        proc.returncode,
        status,
        round(time.perf_counter() - t0, 2),
        str(log),
        result,
        _new_run_records(opts.lake, before),
    )


def _result(res: NightResult, model: type[R], *names: str) -> R | None:
    for s in reversed(res.stages):
        if s.name in names and isinstance(s.result, model):
            return s.result
    return None


_PURGED = {"audio": "audio folders", "transcripts": "transcript folders", "runs": "run logs"}


def retention_text(retention: dict[str, Any]) -> str:
    """What retention did, in one clause ("retention removed 361 transcript folders (1.2 GB)")."""
    summary = retention.get("summary") or {}
    if not retention:
        return "retention skipped"
    if not summary:
        return "retention removed nothing"
    parts = [
        f"{int(v['items']):,} {_PURGED.get(k, k)} ({float(v['bytes']) / 1e9:.1f} GB)"
        for k, v in summary.items()
    ]
    verb = "would remove" if retention.get("dry_run") else "removed"
    return f"retention {verb} " + ", ".join(parts)


def one_line(res: NightResult, report: Path) -> str:
    """The night in one line for `cdna --quiet nightly` (cron mail, log files)."""
    decision = _result(res, RetrainResult, "retrain", "retrain-bootstrap")
    if decision is None:
        retrain = "retrain not run"
    elif not decision.ran:
        retrain = "retrain not needed"
    else:
        retrain = (
            f"retrain {'promoted v' + str(decision.champion) if decision.promoted else 'kept the champion'}"
        )
    if res.skipped:
        return f"nightly {res.day} {res.status}: already complete, nothing to do"
    return (
        f"nightly {res.day} {res.status} in {res.wall_s:,.0f} s: {len(res.stages)} stages; {retrain}; "
        f"{retention_text(res.retention)}; report {report}"
    )


def headline(res: NightResult) -> dict[str, Any]:
    """The figures the morning shift looks at first, read from the stages' typed results."""
    asr = _result(res, TranscribeResult, "transcribe")
    mine = _result(res, MineResult, "mine")
    feats = _result(res, FeaturesResult, "features")
    recs = _result(res, RecommendResult, "recommend")
    decision = _result(res, RetrainResult, "retrain", "retrain-bootstrap")
    retrain = _result(res, RetrainResult, "retrain")
    out: dict[str, Any] = {"durations_s": {s.name: s.wall_s for s in res.stages}}
    if asr:
        out["recordings"] = {
            "files_seen": asr.files_seen,
            "done": asr.done,
            "skipped": asr.skipped,
            "no_speech": asr.no_speech,
        }
        out["audio_hours"] = round(asr.audio_s / 3600, 3)
        out["real_time_factor"] = asr.rtf
        out["files_failed"] = [f.model_dump() for f in asr.failed]
    if mine:
        out["pii_masked_by_type"] = mine.pii_masked
        out["signals_by_kind"] = mine.signals
    if feats:
        out["feature_rows"] = feats.rows
        out["feature_views"] = len(feats.views)
    if recs:
        out["recommendations"] = {
            "customers": recs.customers,
            "rows": recs.rows,
            "model_version": recs.model_version,
            "suppressed_by_rule": recs.suppressed,
        }
    if decision:
        out["retrain"] = {
            "ran": decision.ran,
            "promoted": decision.promoted,
            "reasons": decision.reasons,
            "champion": decision.champion,
        }
        if decision.metrics:
            # metrics are {metric: {model: value}}; the morning report shows the trained model's figure
            out["retrain"]["map@5"] = (decision.metrics.get("map@5") or {}).get("model")
    scan = _result(res, PrivacyScanResult, "privacy")
    if scan:
        out["privacy_scan"] = {
            "findings": scan.findings,
            "by_type": scan.by_type,
            "places": [f"{p.get('path')} · {p.get('where')} · {p.get('type')}" for p in scan.places[:20]],
        }
    drift = next((t for t in (retrain.triggers if retrain else []) if t.get("name") == "drift"), None)
    if drift:
        out["feature_drift"] = drift.get("detail")
    return out


def _privacy_scan(
    opts: NightOptions, res: NightResult, log_dir: Path, on_stage: Callable[[str, str], None] | None
) -> None:
    """Last step of every night: personal data at rest outside the raw zone fails the night (issue 14)."""
    if on_stage:
        on_stage("privacy", "start")
    outcome = _run_stage("privacy", ["privacy", "scan", "--lake", str(opts.lake.root)], opts, log_dir)
    if outcome.exit_code != 0:
        outcome.status = "failed"
        found = getattr(outcome.result, "findings", 0)
        note = (
            f"privacy scan found {found:,} item(s) of personal data outside the raw zone (see the report)"
            if found
            else f"privacy scan did not finish (exit {outcome.exit_code}); read {outcome.log}"
        )
        res.message = f"{res.message}; {note}" if res.status == "failed" else note
        res.status, res.exit_code = "failed", 1
    res.stages.append(outcome)
    if on_stage:
        on_stage("privacy", outcome.status)


def run_night(
    opts: NightOptions, config: Config, on_stage: Callable[[str, str], None] | None = None
) -> NightResult:
    """Run one night under the lake's nightly lock; returns (and writes) its record."""
    from cdna.ingest.retention import apply_purge, plan_purge

    started = datetime.now(UTC)
    t0 = time.perf_counter()
    res = NightResult(opts.day.isoformat(), "running", 0, started.isoformat(timespec="seconds"))
    path = record_path(opts.lake, opts.day)
    with partition_lock(opts.lake, "nightly"):
        if path.exists() and not opts.force:
            previous = json.loads(path.read_text(encoding="utf-8"))
            if previous.get("status") == "ok":
                res.status, res.skipped = "ok", True
                res.message = (
                    f"night {opts.day} already complete (finished {previous.get('finished_at')}); "
                    "nothing to do — use --force to run it again"
                )
                return res
        log_dir = opts.lake.runs / f"nightly-{opts.day.isoformat()}"
        stages = night_stages(opts)
        if not _has_champion(opts):
            # First night of a lake: batch scoring needs a champion, so train one before scoring.
            at = [n for n, _ in stages].index("recommend")
            # --no-rescore: the recommend stage right after scores everyone with the new champion anyway
            stages.insert(
                at, ("retrain-bootstrap", ["retrain", "--no-rescore", "--lake", str(opts.lake.root)])
            )
        for name, argv in stages:
            if on_stage:
                on_stage(name, "start")
            outcome = _run_stage(name, argv, opts, log_dir)
            res.stages.append(outcome)
            if on_stage:
                on_stage(name, outcome.status)
            if outcome.status == "failed":
                res.status, res.exit_code = "failed", 1
                res.message = (
                    f"stage '{name}' failed (exit {outcome.exit_code}); the night stopped there and "
                    f"earlier outputs are intact — read {outcome.log}"
                )
                break
        else:
            partial = [s.name for s in res.stages if s.status == "partial"]
            res.status, res.exit_code = ("partial", 3) if partial else ("ok", 0)
            res.message = (
                f"some inputs failed in: {', '.join(partial)} (see the report)"
                if partial
                else "every stage finished"
            )
            if opts.purge:
                plan = plan_purge(opts.lake, config.retention, opts.day)
                dry = opts.dry_run_purge or config.retention.dry_run
                removed = 0 if dry else apply_purge(plan)
                res.retention = {
                    "dry_run": dry,
                    "removed": removed,
                    "summary": plan.summary(),
                    "items": [
                        {
                            "kind": i.kind,
                            "path": str(i.path),
                            "date": str(i.day),
                            "bytes": i.bytes,
                            "reason": i.reason,
                        }
                        for i in plan.items
                    ],
                    "kept": [{"path": p, "reason": r} for p, r in plan.kept],
                }
            if res.status != "failed":
                # the summary names what retention removed (issue 18: 361 folders went unmentioned)
                res.message += "; " + retention_text(res.retention)
        _privacy_scan(opts, res, log_dir, on_stage)
        res.finished_at = datetime.now(UTC).isoformat(timespec="seconds")
        res.wall_s = round(time.perf_counter() - t0, 2)
        res.summary = headline(res)
        data = asdict(res)
        for stage, outcome in zip(data["stages"], res.stages, strict=True):
            stage["result"] = outcome.result.model_dump(mode="json") if outcome.result is not None else None
        atomic_write_text(path, json.dumps(data, ensure_ascii=False, indent=2, default=str))
        from cdna.core.runs import render_night_html

        atomic_write_text(path.with_suffix(".html"), render_night_html(data))
    return res
