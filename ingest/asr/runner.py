"""Run a transcription job: find the calls, skip those done, lock partitions, fan out, write atomically.

Engines: a local process pool (one model per process) or a Ray actor pool (one model per actor). Finished
calls are buffered and flushed as Parquet files of complete calls (temp name + rename), so SIGKILL at any
moment loses only calls in flight, and a rerun skips every call already written with the same model.
"""

from __future__ import annotations

import contextlib
import os
import re
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.parquet as pq

from cdna.contracts.schemas import CALLS, conform
from cdna.core.errors import InputError, LakeError
from cdna.core.lake import Lake, RunRecord, atomic_write_parquet, partition_lock, private_dir
from cdna.core.procs import die_with_parent
from cdna.ingest.asr.audio import AudioError, decode_audio
from cdna.ingest.asr.backends import Backend, load_backend
from cdna.ingest.asr.model import resolve_model
from cdna.ingest.asr.options import PIPELINE_VERSION, AsrOptions
from cdna.ingest.asr.pipeline import CallJob, transcribe_call

__all__ = [
    "Outcome",
    "RunSummary",
    "done_calls",
    "jobs_from_folder",
    "jobs_from_manifest",
    "model_id_for",
    "run_transcription",
]

_NOT_AUDIO_SUFFIXES = {".tsv", ".csv", ".json", ".txt", ".md", ".yaml", ".yml", ".parquet", ".lock", ".tmp"}
_FLUSH_SECONDS = 20.0


@dataclass(frozen=True)
class Outcome:
    """What a worker returns for one call.

    Attributes:
        job: the call.
        table: its transcript rows (None when it failed).
        audio_s: decoded seconds (0 when decoding failed).
        reason / message: failure code and text (None on success).
        wall_s: seconds the worker spent on it.
        container: the container found by probing, when it differs from the file's extension.
    """

    job: CallJob
    table: pa.Table | None
    audio_s: float
    reason: str | None = None
    message: str | None = None
    wall_s: float = 0.0
    container: str | None = None


@dataclass
class RunSummary:
    """Figures of one run (also written as the run record).

    Attributes:
        run_id: the run's id.
        model_id: model id written to every row.
        seen / done / skipped: calls found, transcribed now, and skipped as already transcribed.
        failures: failed outcomes with reasons.
        no_speech: calls that decoded but held no speech (hold music, noise): no rows, not failures.
        mislabelled: calls whose probed container differs from their file extension (decoded anyway).
        audio_s / wall_s: audio decoded (calls found silent included) and wall time.
        segments: rows written.
        outputs: Parquet files written.
        record: path of the run record.
    """

    run_id: str
    model_id: str
    seen: int = 0
    done: int = 0
    skipped: int = 0
    failures: list[Outcome] = field(default_factory=list)
    no_speech: list[Outcome] = field(default_factory=list)
    mislabelled: list[Outcome] = field(default_factory=list)
    audio_s: float = 0.0
    wall_s: float = 0.0
    segments: int = 0
    outputs: list[Path] = field(default_factory=list)
    record: Path | None = None

    @property
    def rtf(self) -> float:
        """Real-time factor: wall seconds per audio second."""
        return self.wall_s / self.audio_s if self.audio_s else 0.0


# ---------------------------------------------------------------- finding calls


def _korea_day(ts: datetime | None, tz: str) -> date:
    moment = ts if ts is not None else datetime.now(UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(ZoneInfo(tz)).date()


def jobs_from_folder(folder: Path, day: date | None, tz: str) -> list[CallJob]:
    """Every recording under `folder` (recursively; hidden files and table/text sidecars ignored).

    call_id is the file name without extension, customer_id is empty, the partition is `day` (default:
    today in Korea time).
    """
    target = day or _korea_day(None, tz)
    files = sorted(
        p
        for p in folder.rglob("*")
        if p.is_file()
        and not any(part.startswith(".") for part in p.relative_to(folder).parts)
        and p.suffix.lower() not in _NOT_AUDIO_SUFFIXES
    )
    return [CallJob(p.stem, str(p), target) for p in files]


def _read_manifest(path: Path) -> pa.Table:
    try:
        if path.is_dir() or path.suffix.lower() == ".parquet":
            return pq.read_table(path)
        if path.suffix.lower() in (".csv", ".tsv"):
            import pyarrow.csv as pcsv

            delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
            return pcsv.read_csv(path, parse_options=pcsv.ParseOptions(delimiter=delimiter))
    except (pa.ArrowInvalid, OSError) as exc:
        raise InputError(f"{path}: not a readable calls manifest ({exc})") from exc
    raise InputError(
        f"{path}: a manifest must be Parquet, CSV or TSV",
        hint="pass a folder of recordings, or a calls table with call_id and audio_path columns",
    )


def jobs_from_manifest(path: Path, day: date | None, tz: str, root: Path | None = None) -> list[CallJob]:
    """Calls of a manifest (the calls contract; only call_id and audio_path are required) that have audio.

    Relative audio paths are resolved against `root` (the lake) when given, else the manifest's folder.
    With `day`, only calls whose Korea-time start date is `day` are taken (all, when they have no start).
    """
    table = _read_manifest(path)
    if "audio_path" not in table.column_names or "call_id" not in table.column_names:
        raise InputError(
            f"{path}: a calls manifest needs the columns call_id and audio_path; has {table.column_names}",
            hint="the lake's raw/calls table has them (cdna world --audio writes it)",
        )
    relaxed = conform(table, _relaxed_calls(), source=str(path))
    base = root if root is not None else (path if path.is_dir() else path.parent)
    jobs = []
    for row in relaxed.to_pylist():
        audio = row["audio_path"]
        if not audio or row.get("channel_layout") == "none":
            continue
        started = row.get("started_at")
        call_day = _korea_day(started, tz) if started is not None else day or _korea_day(None, tz)
        if day is not None and started is not None and call_day != day:
            continue
        audio_path = Path(audio)
        if not audio_path.is_absolute():
            audio_path = base / audio_path
        layout = row.get("channel_layout") or "auto"
        jobs.append(
            CallJob(str(row["call_id"]), str(audio_path), call_day, row.get("customer_id"), started, layout)
        )
    return jobs


def _relaxed_calls() -> Any:
    from dataclasses import replace

    schema = pa.schema([f.with_nullable(f.name != "call_id") for f in CALLS.schema])
    return replace(CALLS, schema=schema)


# ---------------------------------------------------------------- skip rule


def model_id_for(opts: AsrOptions) -> str:
    """The model id a run with these options writes (the skip rule compares it)."""
    return f"{resolve_model(opts.model, opts.backend).model_id}/{opts.backend}"


def _no_speech_partition(lake: Lake, day: date | str) -> Path:
    """LAKE/_state/no_speech/date=D: calls decoded with no speech in them (no transcript rows to find)."""
    return lake.no_speech(day)


def done_calls(lake: Lake, model_id: str, days: Iterable[date] | None = None) -> set[str]:
    """Call ids already transcribed with this model id (only the given partitions, when given).

    A call is done when LAKE/transcripts/ holds its rows, or when it decoded with no speech in it (hold
    music, line noise): those leave no rows, so a ledger under LAKE/_state/no_speech/ keeps a rerun from
    decoding them again.
    """
    if days is not None:
        folders = [
            f(lake, d) for d in sorted(set(days)) for f in (_transcripts_partition, _no_speech_partition)
        ]
    else:
        folders = sorted(lake.transcripts.glob("date=*")) + sorted(
            _no_speech_partition(lake, "*").parent.glob("date=*")
        )
    done: set[str] = set()
    for folder in folders:
        for file in sorted(folder.glob("*.parquet")):
            if file.name.startswith((".", "_")):
                continue
            try:
                table = pq.read_table(file, columns=["call_id", "model_id"])
            except (pa.ArrowInvalid, OSError, KeyError):
                continue  # another writer's file without these columns; never ours
            ids = table.column("call_id").to_pylist()
            models = table.column("model_id").to_pylist()
            done.update(c for c, m in zip(ids, models, strict=True) if m == model_id)
    return done


def _transcripts_partition(lake: Lake, day: date | str) -> Path:
    return lake.transcripts_day(day)


# ---------------------------------------------------------------- workers


def _process(job: CallJob, backend: Backend, opts: AsrOptions) -> Outcome:
    t0 = time.perf_counter()
    audio_s = 0.0
    found: str | None = None
    try:
        audio = decode_audio(Path(job.path), opts.max_duration_s)
        audio_s = audio.duration_s
        found = audio.container if audio.container_mismatch(Path(job.path)) else None
        table = transcribe_call(job, audio, backend, opts)
        return Outcome(job, table, audio_s, wall_s=time.perf_counter() - t0, container=found)
    except AudioError as exc:
        message = str(exc).split("\n")[0]
        return Outcome(job, None, audio_s, exc.reason, message, time.perf_counter() - t0, found)
    except Exception as exc:  # noqa: BLE001 - one bad file never stops the batch (issue #3)
        message = f"{job.path}: {type(exc).__name__}: {exc}"[:500]
        return Outcome(job, None, audio_s, "error", message, time.perf_counter() - t0, found)


_WORKER: Backend | None = None


def _init_worker(opts: AsrOptions) -> None:
    global _WORKER
    die_with_parent()  # a killed `cdna transcribe` takes its workers with it (issue 15)
    os.environ.setdefault("OMP_NUM_THREADS", str(opts.threads_per_worker))
    _WORKER = load_backend(opts)


def _work(job: CallJob, opts: AsrOptions) -> Outcome:
    assert _WORKER is not None, "worker not initialised"
    return _process(job, _WORKER, opts)


def _local_outcomes(jobs: list[CallJob], opts: AsrOptions) -> Iterator[Outcome]:
    if opts.workers == 1 or len(jobs) == 1:
        backend = load_backend(opts)
        for job in jobs:
            yield _process(job, backend, opts)
        return
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor, as_completed

    workers = min(opts.workers, len(jobs))
    # spawn, not fork: CTranslate2/ONNX thread pools do not survive a fork
    with ProcessPoolExecutor(workers, mp.get_context("spawn"), _init_worker, (opts,)) as pool:
        futures = [pool.submit(_work, job, opts) for job in jobs]
        for future in as_completed(futures):
            yield future.result()


class _RayWorker:
    """A Ray actor holding one loaded model."""

    def __init__(self, opts: AsrOptions) -> None:
        self.opts = opts
        self.backend = load_backend(opts)

    def run(self, job: CallJob) -> Outcome:
        return _process(job, self.backend, self.opts)


def _ray_outcomes(jobs: list[CallJob], opts: AsrOptions) -> Iterator[Outcome]:
    try:
        import ray
        from ray.util.actor_pool import ActorPool
    except ImportError as exc:  # pragma: no cover - ray is a core dependency
        raise InputError("--engine ray needs the ray package", hint="pip install 'ray[default]'") from exc
    started = False
    if not ray.is_initialized():
        ray.init(address=opts.ray_address, include_dashboard=False, log_to_driver=False)
        started = True
    try:
        num_gpus = 1.0 / opts.workers if opts.device == "cuda" else 0
        actor = ray.remote(num_cpus=opts.threads_per_worker, num_gpus=num_gpus)(_RayWorker)
        actors = [actor.remote(opts) for _ in range(min(opts.workers, len(jobs)))]  # type: ignore[attr-defined]
        pool = ActorPool(actors)
        yield from pool.map_unordered(lambda a, job: a.run.remote(job), jobs)
        for a in actors:
            ray.kill(a)  # type: ignore[arg-type]
    finally:
        if started:
            ray.shutdown()


# ---------------------------------------------------------------- the run


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()


class _Writer:
    """Buffers finished calls per partition; each flush is one atomic Parquet file of complete calls."""

    def __init__(self, lake: Lake, run_id: str, model_id: str, flush_every: int) -> None:
        self.lake, self.prefix, self.flush_every = lake, f"{_slug(model_id)}-{run_id}", flush_every
        self.model_id = model_id
        self.buffers: dict[date, list[pa.Table]] = {}
        self.quiet: dict[date, list[tuple[str, str]]] = {}
        self.last_flush = time.monotonic()
        self.seq = 0
        self.outputs: list[Path] = []

    def add(self, outcome: Outcome) -> None:
        assert outcome.table is not None
        self.buffers.setdefault(outcome.job.day, []).append(outcome.table)
        buffered = sum(len(v) for v in self.buffers.values())
        if buffered >= self.flush_every or time.monotonic() - self.last_flush > _FLUSH_SECONDS:
            self.flush()

    def add_no_speech(self, outcome: Outcome) -> None:
        """Remember a call that decoded with no speech, and why, so a rerun skips it."""
        self.quiet.setdefault(outcome.job.day, []).append((outcome.job.call_id, outcome.message or ""))

    def flush(self) -> None:
        for day, tables in sorted(self.buffers.items()):
            if tables:
                self.seq += 1
                path = self.lake.transcripts_day(day) / f"{self.prefix}-{self.seq:05d}.parquet"
                private_dir(self.lake.transcripts)  # unmasked speech text: owner-only (issue 14)
                self.outputs.append(atomic_write_parquet(pa.concat_tables(tables), path, private=True))
        for day, quiet in sorted(self.quiet.items()):
            self.seq += 1
            ledger = pa.table(
                {
                    "call_id": [c for c, _ in quiet],
                    "model_id": [self.model_id] * len(quiet),
                    "why": [w for _, w in quiet],  # what each attempt (VAD on, VAD off) found
                }
            )
            atomic_write_parquet(
                ledger, _no_speech_partition(self.lake, day) / f"{self.prefix}-{self.seq:05d}.parquet"
            )
        self.buffers.clear()
        self.quiet.clear()
        self.last_flush = time.monotonic()


def run_transcription(
    jobs: list[CallJob],
    lake: Lake,
    opts: AsrOptions,
    inputs: list[str] | None = None,
    on_outcome: Callable[[Outcome, RunSummary], None] | None = None,
    on_start: Callable[[int, int], None] | None = None,
) -> RunSummary:
    """Transcribe `jobs` into LAKE/transcripts/, skipping calls done with the same model; write a run record.

    Args:
        jobs: calls to transcribe (from `jobs_from_folder` or `jobs_from_manifest`).
        lake: the output lake.
        opts: the run's options (engine, workers, model …).
        inputs: what to record as the run's inputs.
        on_outcome: called after each call with its outcome and the running summary (progress bars).
        on_start: called once with (calls to do, calls skipped) before any work starts.

    Raises:
        LockedError: another run holds one of the partitions.
    """
    model_id = model_id_for(opts)
    run = RunRecord("transcribe", inputs=inputs or [])
    summary = RunSummary(run.run_id, model_id, seen=len(jobs))
    unique: dict[str, CallJob] = {}
    for job in jobs:
        if job.call_id in unique:
            summary.failures.append(
                Outcome(
                    job,
                    None,
                    0.0,
                    "duplicate",
                    f"{job.path}: call_id {job.call_id} appears twice in the input",
                )
            )
        else:
            unique[job.call_id] = job
    days = sorted({j.day for j in unique.values()})
    with contextlib.ExitStack() as stack:
        for day in days:
            stack.enter_context(partition_lock(lake, f"transcripts-date={day}"))
        done = done_calls(lake, model_id, days)
        todo = [j for j in unique.values() if j.call_id not in done]
        summary.skipped = len(unique) - len(todo)
        if on_start is not None:
            on_start(len(todo), summary.skipped)
        writer = _Writer(lake, run.run_id, model_id, opts.flush_every)
        t0 = time.perf_counter()
        outcomes = _ray_outcomes(todo, opts) if opts.engine == "ray" else _local_outcomes(todo, opts)
        try:
            for outcome in outcomes if todo else ():
                summary.wall_s = time.perf_counter() - t0
                summary.audio_s += outcome.audio_s  # decoded audio, silent calls included
                if outcome.container is not None:
                    summary.mislabelled.append(outcome)
                if outcome.table is not None:
                    writer.add(outcome)
                    summary.done += 1
                    summary.segments += outcome.table.num_rows
                elif outcome.reason == "no_speech":
                    summary.no_speech.append(outcome)
                    writer.add_no_speech(outcome)
                else:
                    summary.failures.append(outcome)
                if on_outcome is not None:
                    on_outcome(outcome, summary)
        finally:  # Ctrl-C or a crashed worker: keep every call already finished
            writer.flush()
        summary.wall_s = time.perf_counter() - t0
        summary.outputs = writer.outputs
    _record(run, summary, opts, lake)
    return summary


def _record(run: RunRecord, summary: RunSummary, opts: AsrOptions, lake: Lake) -> None:
    run.outputs = [str(p.relative_to(lake.root)) for p in summary.outputs]
    run.counts = {
        "files_seen": summary.seen,
        "done": summary.done,
        "skipped": summary.skipped,
        "failed": len(summary.failures),
        "no_speech": len(summary.no_speech),
        "segments": summary.segments,
        "audio_s": round(summary.audio_s, 2),
        "wall_s": round(summary.wall_s, 2),
    }
    for o in summary.failures:
        run.fail(o.job.path, o.reason or "error", call_id=o.job.call_id, message=o.message)
    run.extra = {
        "model": opts.model,
        "model_id": summary.model_id,
        "backend": opts.backend,
        "engine": opts.engine,
        "device": opts.device,
        "compute_type": opts.resolved_compute_type,
        "workers": opts.workers,
        "threads_per_worker": opts.threads_per_worker,
        "pipeline_version": PIPELINE_VERSION,
        "rtf": round(summary.rtf, 4),
        "no_speech": [
            {"item": o.job.path, "call_id": o.job.call_id, "why": o.message} for o in summary.no_speech
        ],
        # decoded by content: files whose bytes are another container than their extension says
        "containers": [
            {"item": o.job.path, "call_id": o.job.call_id, "container": o.container}
            for o in summary.mislabelled
        ],
    }
    summary.record = run.finish(lake)


def check_lake(lake: Lake) -> Path:
    """The lake's calls manifest folder, or a LakeError saying how to make one."""
    folder = lake.raw("calls")
    if not folder.is_dir() or not any(folder.glob("*.parquet")):
        raise LakeError(
            f"no calls manifest in {folder}",
            hint=f"run `cdna world --audio --out {lake.root}`, or pass --input FOLDER_OR_MANIFEST",
        )
    return folder
