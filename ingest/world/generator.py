"""Assemble the synthetic bank chunk by chunk and stream it into a lake (the only I/O of the world)."""

from __future__ import annotations

import gc
import json
import os
import shutil
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from multiprocessing import get_context
from pathlib import Path
from zoneinfo import ZoneInfo

import av
import numpy as np
import psutil
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from cdna.contracts.schemas import (
    CALLS,
    CONTACTS,
    CUSTOMERS,
    HOLDINGS,
    PRODUCTS,
    TRANSACTIONS,
    TRANSCRIPTS,
    TS,
    WEB_EVENTS,
)
from cdna.core.config import IntentTaxonomy, ProductCatalog, WorldConfig
from cdna.core.lake import Lake, RunRecord, atomic_write_parquet, private_dir
from cdna.core.secrets import SecretKey
from cdna.ingest.asr.options import PIPELINE_VERSION
from cdna.ingest.world.behaviour import (
    DAY_US,
    KST_US,
    MemoVocab,
    draw_holdings,
    draw_life_events,
    draw_transactions,
    draw_web_events,
)
from cdna.ingest.world.calls import draw_calls
from cdna.ingest.world.population import Population, draw_population, name_pool
from cdna.ingest.world.scripts import Persona, Turn, asr_like, call_script, make_persona
from cdna.ingest.world.vocab import EVENTS

__all__ = [
    "SYNTHETIC_ASR_MODEL",
    "WorldChunk",
    "WorldOptions",
    "WorldSummary",
    "generate_chunk",
    "write_world",
]

SYNTHETIC_ASR_MODEL = "synthetic-asr"
_KST = ZoneInfo("Asia/Seoul")


@dataclass(frozen=True)
class WorldOptions:
    """Everything that determines a generated bank (same options → byte-identical tables).

    Attributes:
        config: the `world` section of the configuration.
        audio: render `config.audio_calls` calls to stereo WAV (espeak-ng) or use the shipped recordings.
        link_key: the partner-linkage key; with it the telecom partner's delivery, keyed by its pseudonyms,
            is written to LAKE/_truth/partners/ (the key itself is never written).
    """

    config: WorldConfig
    audio: bool = False
    link_key: SecretKey | None = None

    @property
    def end_us(self) -> int:
        """End of the last day (Korea time) in µs since the epoch, UTC."""
        end = datetime.combine(self.config.end_date + timedelta(days=1), datetime.min.time(), _KST)
        return int(end.timestamp() * 1_000_000) - 1

    @property
    def start_date(self) -> date:
        return self.config.end_date - timedelta(days=int(self.config.months * 30.44))

    @property
    def start_us(self) -> int:
        start = datetime.combine(self.start_date, datetime.min.time(), _KST)
        return int(start.timestamp() * 1_000_000)


@dataclass
class AudioJob:
    """A call to render (or to take from the shipped recordings) after its chunk is generated."""

    call_id: str
    day: date
    turns: list[Turn]
    seed: tuple[int, ...]
    prerendered: Path | None = None


@dataclass
class WorldChunk:
    """Tables of one chunk of customers, ready to append to the lake."""

    customers: pa.Table
    holdings: pa.Table
    transactions: pa.Table
    web_events: pa.Table
    calls: pa.Table
    transcripts: pa.Table
    truth_events: pa.Table
    truth_calls: pa.Table
    truth_scripts: pa.Table
    contacts: pa.Table
    audio_jobs: list[AudioJob] = field(default_factory=list)


@dataclass
class WorldSummary:
    """What `write_world` wrote: row counts per table, output paths, audio files and figures."""

    lake: Path
    counts: dict[str, int]
    audio_files: list[Path]
    audio_source: str
    wall_s: float
    peak_rss_mb: float
    run_record: Path | None = None


def _ts(values: np.ndarray) -> pa.Array:
    return pa.array(values.astype(np.int64), pa.int64()).cast(TS)


def _ids(prefix: str, numbers: np.ndarray) -> pa.Array:
    digits = pa.array(numbers.astype(np.int64)).cast(pa.string())
    return pc.binary_join_element_wise(pa.scalar(prefix), digits, "")


def _kst_day(ts_us: int) -> date:
    return date(1970, 1, 1) + timedelta(days=int((ts_us + KST_US) // DAY_US))


def generate_chunk(
    opts: WorldOptions,
    catalog: ProductCatalog,
    intents: IntentTaxonomy,
    chunk: int,
    first: int,
    n: int,
    names: list[str],
    prerendered: list | None = None,
    audio_calls: int = 0,
) -> WorldChunk:
    """Generate customers first…first+n−1 and everything they do (pure: no file is touched)."""
    cfg = opts.config
    rng = np.random.default_rng([cfg.seed, chunk])
    start_us, end_us = opts.start_us, opts.end_us
    pop = draw_population(rng, first, n, cfg.end_date, opts.start_date)
    events = draw_life_events(rng, pop, cfg.noise_share, start_us, end_us)
    opens = draw_holdings(rng, pop, catalog, events, start_us, end_us)
    vocab = MemoVocab()
    tx = draw_transactions(
        rng, pop, events, opens, catalog, vocab, names, cfg.txn_per_month, start_us, end_us
    )
    wc, wt, wp = draw_web_events(rng, pop, events, opens, catalog, start_us, end_us)
    plan = draw_calls(rng, pop, events, opens, catalog, intents, cfg.calls_per_customer, start_us, end_us)

    ids = pop.ids
    base = chunk * 1_000_000_000
    order = np.lexsort((opens.ts, opens.cust))
    holdings = pa.table(
        {
            "event_id": _ids("H", base + np.arange(len(order))),
            "customer_id": pa.array(ids[opens.cust[order]]),
            "product_id": pa.array(np.array(catalog.ids)[opens.product[order]]),
            "event": pa.array(opens.event[order]),
            "ts": _ts(opens.ts[order]),
            "channel": pa.array(opens.channel[order]),
            "ingested_at": pa.nulls(len(order), TS),
        }
    )
    strings = pa.array(vocab.values, pa.string())
    transactions = pa.table(
        {
            "txn_id": _ids("T", base + np.arange(len(tx.cust))),
            "customer_id": pa.array(ids[tx.cust]),
            "ts": _ts(tx.ts),
            "amount": pa.array(tx.amount.astype(np.float64)),
            "direction": pa.DictionaryArray.from_arrays(
                pa.array(tx.direction.astype(np.int8)), pa.array(["out", "in"])
            ).cast(pa.string()),
            "memo": pa.DictionaryArray.from_arrays(pa.array(tx.memo), strings).cast(pa.string()),
            "merchant": pc.if_else(
                pc.equal(pa.array(tx.merchant), vocab.id("")),
                pa.scalar(None, pa.string()),
                pa.DictionaryArray.from_arrays(pa.array(tx.merchant), strings).cast(pa.string()),
            ),
            "channel": pa.DictionaryArray.from_arrays(pa.array(tx.channel), strings).cast(pa.string()),
            "ingested_at": pa.nulls(len(tx.cust), TS),
        }
    )
    app = rng.random(len(wc)) < 0.7
    web_events = pa.table(
        {
            "event_id": _ids("W", base + np.arange(len(wc))),
            "customer_id": pa.array(ids[wc]),
            "ts": _ts(wt),
            "channel": pa.array(np.where(app, "app", "web")),
            "page_category": pa.array(wp),
            "session_id": _ids("S", base + (np.arange(len(wc)) // 3)),
            "dwell_s": pa.array(np.round(rng.lognormal(3.3, 0.8, len(wc)), 1)),
            "ingested_at": pa.nulls(len(wc), TS),
        }
    )
    truth_events = pa.table(
        {
            "customer_id": pa.array(ids[events.cust]),
            "event": pa.array([EVENTS[int(k)].id for k in events.kind], pa.string()),
            "event_name": pa.array([EVENTS[int(k)].name for k in events.kind], pa.string()),
            "ts": _ts(events.ts),
        }
    )
    chunk_out = _calls_tables(opts, plan, pop, ids, chunk, prerendered, audio_calls)
    return WorldChunk(
        pop.to_table(),
        holdings,
        transactions,
        web_events,
        truth_events=truth_events,
        contacts=_contacts_table(cfg.seed, pop, chunk),
        **chunk_out,
    )


def _contacts_table(seed: int, pop: Population, chunk: int) -> pa.Table:
    """Each customer's name and mobile phone: the persona they give in their calls (same seed), so a
    teller's search finds the caller; a landline persona gets a mobile of its own."""
    names, phones = [], []
    for c in range(len(pop.ids)):
        persona = make_persona(
            np.random.default_rng([seed, 1, chunk, c]),
            date(1970, 1, 1) + timedelta(days=int(pop.birth_days[c])),
            str(pop.gender[c]),
            str(pop.sido[c]),
            str(pop.sigungu[c]),
        )
        phone = persona.phone
        if not phone.startswith("010-"):
            digits = np.random.default_rng([seed, 4, chunk, c]).integers(0, 10, 8)
            phone = "010-{}-{}".format("".join(map(str, digits[:4])), "".join(map(str, digits[4:])))
        names.append(persona.name)
        phones.append(phone)
    joined = pop.join_days.astype("int64") * 86_400_000_000  # contact details registered when they joined
    return pa.table(
        {
            "customer_id": pa.array(pop.ids),
            "name": pa.array(names, pa.string()),
            "phone": pa.array(phones, pa.string()),
            "updated_at": _ts(joined),
            "ingested_at": pa.nulls(len(pop.ids), TS),
        }
    )


def _calls_tables(
    opts: WorldOptions, plan, pop, ids: np.ndarray, chunk: int, prerendered: list | None, audio_calls: int
) -> dict:
    """Scripts for every planned call, ASR-like transcripts for calls not rendered, and the manifest."""
    seed = opts.config.seed
    n_calls = len(plan.cust)
    call_ids = [f"CL{chunk:03d}{i:06d}" for i in range(n_calls)]
    # The latest calls of the first chunk are the ones recorded as audio (the demo's "last night").
    audio_idx = set(np.argsort(plan.ts, kind="stable")[::-1][:audio_calls].tolist()) if audio_calls else set()
    personas: dict[int, Persona] = {}
    m_call, m_cust, m_start, m_dur, m_audio = [], [], [], [], []
    t_rows: dict[str, list] = {
        k: []
        for k in (
            "call_id",
            "customer_id",
            "started_at",
            "channel",
            "speaker",
            "segment_index",
            "start_s",
            "end_s",
            "text",
            "avg_logprob",
            "no_speech_prob",
        )
    }
    s_call, s_turn, s_speaker, s_text = [], [], [], []
    r_call, r_cust, r_intents, r_cause, r_audio = [], [], [], [], []
    jobs: list[AudioJob] = []
    for i in range(n_calls):
        c = int(plan.cust[i])
        persona = personas.get(c)
        if persona is None:
            prng = np.random.default_rng([seed, 1, chunk, c])
            persona = personas[c] = make_persona(
                prng,
                date(1970, 1, 1) + timedelta(days=int(pop.birth_days[c])),
                str(pop.gender[c]),
                str(pop.sido[c]),
                str(pop.sigungu[c]),
            )
        crng = np.random.default_rng([seed, 2, chunk, i])
        intents = list(plan.intents[i])
        turns = call_script(crng, intents, persona, product_hint=plan.hint[i])
        started = int(plan.ts[i])
        day = _kst_day(started)
        audio_path = None
        if i in audio_idx:
            pre = None
            if prerendered:
                pre = prerendered[len(jobs) % len(prerendered)]
                turns, intents = list(pre.turns), list(pre.intents)
                audio_path = Lake.audio_ref(day, f"{call_ids[i]}{pre.audio.suffix}")
            else:
                audio_path = Lake.audio_ref(day, f"{call_ids[i]}.wav")
            jobs.append(AudioJob(call_ids[i], day, turns, (seed, 3, chunk, i), pre.audio if pre else None))
        # Timeline: speaking rate of Korean phone speech (~8 syllables/s) plus pauses between turns.
        clock = float(crng.uniform(0.5, 1.5))
        seg_no = {0: 0, 1: 0}
        for j, turn in enumerate(turns):
            dur = 0.6 + len(turn.text) / 7.5
            ch = 0 if turn.speaker == "agent" else 1
            s_call.append(call_ids[i])
            s_turn.append(j)
            s_speaker.append(turn.speaker)
            s_text.append(turn.text)
            if audio_path is None:
                t_rows["call_id"].append(call_ids[i])
                t_rows["customer_id"].append(ids[c])
                t_rows["started_at"].append(started)
                t_rows["channel"].append(ch)
                t_rows["speaker"].append(turn.speaker)
                t_rows["segment_index"].append(seg_no[ch])
                t_rows["start_s"].append(round(clock, 2))
                t_rows["end_s"].append(round(clock + dur, 2))
                t_rows["text"].append(asr_like(turn.text, crng))
                t_rows["avg_logprob"].append(round(float(crng.normal(-0.38, 0.14)), 3))
                t_rows["no_speech_prob"].append(round(float(crng.beta(1, 30)), 4))
                seg_no[ch] += 1
            clock += dur + float(crng.uniform(0.3, 1.2))
        m_call.append(call_ids[i])
        m_cust.append(ids[c])
        m_start.append(started)
        m_dur.append(round(clock + 1.0, 1))
        m_audio.append(audio_path)
        r_call.append(call_ids[i])
        r_cust.append(ids[c])
        r_intents.append(intents)
        r_cause.append(plan.cause[i])
        r_audio.append(audio_path is not None)
    n_t = len(t_rows["call_id"])
    agents = np.random.default_rng([seed, 4, chunk]).integers(1, 60, n_calls)
    queues = np.array(["대출", "카드", "예금", "일반", "외환"])
    calls = pa.table(
        {
            "call_id": pa.array(m_call, pa.string()),
            "customer_id": pa.array(m_cust, pa.string()),
            "started_at": _ts(np.array(m_start, dtype=np.int64)),
            "duration_s": pa.array(m_dur, pa.float64()),
            "audio_path": pa.array(m_audio, pa.string()),
            "channel_layout": pa.array(["stereo_agent_left"] * n_calls, pa.string()),
            "agent_id": pa.array([f"A{a:03d}" for a in agents], pa.string()),
            "queue": pa.array(
                queues[np.random.default_rng([seed, 5, chunk]).integers(0, 5, n_calls)], pa.string()
            ),
        }
    )
    transcripts = pa.table(
        {
            "call_id": pa.array(t_rows["call_id"], pa.string()),
            "customer_id": pa.array(t_rows["customer_id"], pa.string()),
            "started_at": _ts(np.array(t_rows["started_at"], dtype=np.int64)),
            "channel": pa.array(t_rows["channel"], pa.int16()),
            "speaker": pa.array(t_rows["speaker"], pa.string()),
            "segment_index": pa.array(t_rows["segment_index"], pa.int32()),
            "start_s": pa.array(t_rows["start_s"], pa.float64()),
            "end_s": pa.array(t_rows["end_s"], pa.float64()),
            "text": pa.array(t_rows["text"], pa.string()),
            "avg_logprob": pa.array(t_rows["avg_logprob"], pa.float64()),
            "no_speech_prob": pa.array(t_rows["no_speech_prob"], pa.float64()),
            "model_id": pa.array([SYNTHETIC_ASR_MODEL] * n_t, pa.string()),
            "pipeline_version": pa.array([PIPELINE_VERSION] * n_t, pa.string()),
        }
    )
    truth_calls = pa.table(
        {
            "call_id": pa.array(r_call, pa.string()),
            "customer_id": pa.array(r_cust, pa.string()),
            "intents": pa.array(r_intents, pa.list_(pa.string())),
            "cause": pa.array(r_cause, pa.string()),
            "has_audio": pa.array(r_audio, pa.bool_()),
        }
    )
    truth_scripts = pa.table(
        {
            "call_id": pa.array(s_call, pa.string()),
            "turn": pa.array(s_turn, pa.int32()),
            "speaker": pa.array(s_speaker, pa.string()),
            "text": pa.array(s_text, pa.string()),
        }
    )
    return {
        "calls": calls,
        "transcripts": transcripts,
        "truth_calls": truth_calls,
        "truth_scripts": truth_scripts,
        "audio_jobs": jobs,
    }


def products_table(catalog: ProductCatalog) -> pa.Table:
    """The catalogue as the `products` table."""
    return pa.table(
        {
            "product_id": pa.array(catalog.ids, pa.string()),
            "name": pa.array([p.name for p in catalog.products], pa.string()),
            "family": pa.array([p.family for p in catalog.products], pa.string()),
            "min_age": pa.array([p.min_age for p in catalog.products], pa.int16()),
            "max_age": pa.array([p.max_age for p in catalog.products], pa.int16()),
            "requires_income": pa.array([p.requires_income for p in catalog.products], pa.bool_()),
        }
    )


class _Streams:
    """One ParquetWriter per table, written under temporary names and renamed together at the end."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.writers: dict[Path, pq.ParquetWriter] = {}
        self.tmp: dict[Path, Path] = {}

    def append(self, path: Path, table: pa.Table, schema: pa.Schema) -> None:
        if path not in self.writers:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.tmp")
            self.tmp[path] = tmp
            # Everything the world writes is raw zone (names, memos, transcripts): owner-only from the
            # first byte (issue 14); the writer reopens the file and keeps its mode.
            tmp.unlink(missing_ok=True)
            os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
            self.writers[path] = pq.ParquetWriter(tmp, schema, compression="zstd")
        self.writers[path].write_table(table.select(schema.names).cast(schema), row_group_size=1 << 20)

    def close(self) -> list[Path]:
        for path, writer in self.writers.items():
            writer.close()
            self.tmp[path].replace(path)
        return list(self.writers)


def synthetic_bank(root: Path | str, link_key: SecretKey | None = None, **world: object) -> Lake:
    """A synthetic bank without audio in a lake at `root`, from the default config's `world` section.

    `world` overrides config keys (e.g. customers=2000, seed=7); with `link_key` the telecom partner's
    pseudonymised delivery is written too. Used by tests and benchmarks.
    """
    from cdna.core.config import load_config, load_intents, load_products

    lake = Lake.at(root, create=True)
    cfg = load_config(environ={}).world.model_copy(update=world)
    write_world(WorldOptions(cfg, link_key=link_key), load_products(), load_intents(), lake)
    return lake


def write_world(
    opts: WorldOptions,
    catalog: ProductCatalog,
    intents: IntentTaxonomy,
    lake: Lake,
    progress: Callable[[int, int], None] | None = None,
    render: Callable[[list[Turn], Path, np.random.Generator], object] | None = None,
    prerendered: list | None = None,
) -> WorldSummary:
    """Generate the whole bank into `lake` (raw/, transcripts/, audio/, _truth/) and record the run."""
    cfg = opts.config
    run = RunRecord("world", extra={"options": json.loads(cfg.model_dump_json()), "audio": opts.audio})
    names = name_pool()
    for stale in (lake.raw_root, lake.truth):
        if stale.exists():
            shutil.rmtree(stale)
    for old in lake.transcripts.glob(f"date=*/{SYNTHETIC_ASR_MODEL}*.parquet"):
        old.unlink()
    streams = _Streams(lake.root)
    atomic_write_parquet(products_table(catalog).cast(PRODUCTS.schema), lake.raw_file("products"))
    counts: dict[str, int] = {"products": len(catalog.ids)}
    jobs: list[AudioJob] = []
    n_chunks = -(-cfg.customers // cfg.chunk_customers)
    peak = 0.0
    proc = psutil.Process()
    parts = _generate_chunks(opts, catalog, intents, names, prerendered, n_chunks)
    bank_ids: list[np.ndarray] = []  # for the partner's subscribers (a few MB even for millions)
    birth_years: list[np.ndarray] = []
    for chunk, part in enumerate(parts):
        for name, table, schema in (
            ("customers", part.customers, CUSTOMERS.schema),
            ("holdings", part.holdings, HOLDINGS.schema),
            ("transactions", part.transactions, TRANSACTIONS.schema),
            ("web_events", part.web_events, WEB_EVENTS.schema),
            ("calls", part.calls, CALLS.schema),
            ("contacts", part.contacts, CONTACTS.schema),
        ):
            streams.append(lake.raw_file(name), table, schema)
            counts[name] = counts.get(name, 0) + table.num_rows
        for name, table in (
            ("life_events", part.truth_events),
            ("call_reasons", part.truth_calls),
            ("call_scripts", part.truth_scripts),
        ):
            streams.append(lake.truth / f"{name}.parquet", table, table.schema)
        _append_transcripts(streams, lake, part.transcripts)
        bank_ids.append(np.asarray(part.customers.column("customer_id").to_pylist(), dtype=object))
        birth_years.append(pc.year(part.customers.column("birth_date")).to_numpy(zero_copy_only=False))
        counts["transcripts"] = counts.get("transcripts", 0) + part.transcripts.num_rows
        jobs.extend(part.audio_jobs)
        peak = max(peak, proc.memory_info().rss / 2**20)
        del part
        gc.collect()
        pa.default_memory_pool().release_unused()
        if progress:
            progress(chunk + 1, n_chunks)
    outputs = streams.close()
    if opts.link_key is not None:
        outputs += _write_partner(opts, lake, np.concatenate(bank_ids), np.concatenate(birth_years), counts)
    rendered = _write_audio(lake, jobs, render)
    _fix_audio_durations(lake, rendered)
    audio_files = [p for p, _ in rendered.values()]
    counts["audio_files"] = len(audio_files)
    source = "none" if not opts.audio else ("shipped recordings" if prerendered else "espeak-ng")
    run.outputs = [str(p.relative_to(lake.root)) for p in outputs + audio_files]
    run.counts = {k: float(v) for k, v in counts.items()}
    run.extra["audio_source"] = source
    peak = max(peak, proc.memory_info().rss / 2**20)
    run.extra["peak_rss_mb"] = round(peak, 1)
    path = run.finish(lake)
    return WorldSummary(lake.root, counts, audio_files, source, run.wall_s or 0.0, peak, path)


def _write_partner(
    opts: WorldOptions, lake: Lake, ids: np.ndarray, birth_years: np.ndarray, counts: dict[str, int]
) -> list[Path]:
    """The telecom partner's delivery (its own columns, keyed by pseudonyms) and the truth of who is in it."""
    import pyarrow.csv as pcsv

    from cdna.ingest.world.partner import draw_telecom_delivery

    assert opts.link_key is not None
    rng = np.random.default_rng([opts.config.seed, 7_000_001])
    delivery = draw_telecom_delivery(rng, ids, birth_years, opts.config.end_date, opts.link_key)
    lake.partner_deliveries.mkdir(parents=True, exist_ok=True)
    path = lake.partner_deliveries / "telecom.csv"
    pcsv.write_csv(delivery.table, path)
    truth = atomic_write_parquet(delivery.members, lake.truth_file("partner_telecom_members"))
    counts["partner_telecom_rows"] = delivery.table.num_rows
    counts["partner_telecom_customers"] = delivery.members.num_rows
    return [path, truth]


def _generate_chunks(
    opts: WorldOptions,
    catalog: ProductCatalog,
    intents: IntentTaxonomy,
    names: list[str],
    prerendered: list | None,
    n_chunks: int,
) -> Iterator[WorldChunk]:
    """Chunks in order; with workers > 1 the next chunks are generated in other processes meanwhile."""
    cfg = opts.config

    def args(chunk: int) -> tuple:
        first = chunk * cfg.chunk_customers
        n = min(cfg.chunk_customers, cfg.customers - first)
        audio_calls = cfg.audio_calls if (opts.audio and chunk == 0) else 0
        pre = prerendered if opts.audio else None
        return (opts, catalog, intents, chunk, first, n, names, pre, audio_calls)

    if cfg.workers == 1 or n_chunks == 1:
        for chunk in range(n_chunks):
            yield generate_chunk(*args(chunk))
        return
    # Spawned workers: forking a process that already runs Arrow/DuckDB threads is unsafe.
    # One chunk per worker process: a fresh process returns all of a chunk's memory to the system.
    with ProcessPoolExecutor(
        max_workers=cfg.workers, mp_context=get_context("spawn"), max_tasks_per_child=1
    ) as pool:
        pending: deque[Future[WorldChunk]] = deque()
        for chunk in range(n_chunks):
            pending.append(pool.submit(generate_chunk, *args(chunk)))
            if len(pending) >= cfg.workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def _append_transcripts(streams: _Streams, lake: Lake, table: pa.Table) -> None:
    """Append a chunk's transcript segments to one file per Korea-time call date."""
    if not table.num_rows:
        return
    local = pc.add(table.column("started_at").cast(pa.timestamp("us")), pa.scalar(KST_US, pa.duration("us")))
    days = pc.floor_temporal(local, unit="day").cast(pa.date32())
    table = table.append_column("_day", days)
    for day in sorted(pc.unique(days).to_pylist()):
        part = table.filter(pc.equal(table.column("_day"), pa.scalar(day, pa.date32()))).drop_columns(
            ["_day"]
        )
        path = lake.transcripts_day(day) / f"{SYNTHETIC_ASR_MODEL}.parquet"
        private_dir(lake.transcripts)
        streams.append(path, part, TRANSCRIPTS.schema)


def _write_audio(lake: Lake, jobs: list[AudioJob], render: Callable | None) -> dict[str, tuple[Path, float]]:
    """Render (or copy) each job's recording; return call id -> (file, duration in seconds)."""
    out: dict[str, tuple[Path, float]] = {}
    for job in jobs:
        folder = lake.audio_day(job.day)
        folder.mkdir(parents=True, exist_ok=True)
        if job.prerendered is not None:
            dest = folder / f"{job.call_id}{job.prerendered.suffix}"
            shutil.copyfile(job.prerendered, dest)
            with av.open(str(dest)) as container:
                duration = float(container.duration or 0) / av.time_base
        else:
            if render is None:
                continue
            dest = folder / f"{job.call_id}.wav"
            rendered = render(job.turns, dest, np.random.default_rng(list(job.seed)))
            duration = float(getattr(rendered, "duration_s", 0.0))
        out[job.call_id] = (dest, round(duration, 1))
    return out


def _fix_audio_durations(lake: Lake, rendered: dict[str, tuple[Path, float]]) -> None:
    """Put the real length of rendered recordings into the calls manifest."""
    if not rendered:
        return
    path = lake.raw_file("calls")
    calls = pq.read_table(path)
    durations = [
        rendered[c][1] if c in rendered else d
        for c, d in zip(
            calls.column("call_id").to_pylist(), calls.column("duration_s").to_pylist(), strict=True
        )
    ]
    calls = calls.set_column(
        calls.schema.get_field_index("duration_s"), "duration_s", pa.array(durations, pa.float64())
    )
    atomic_write_parquet(calls.cast(CALLS.schema), path)
