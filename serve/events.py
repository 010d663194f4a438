"""One handler for events, whether they come over HTTP (`POST /v1/events`) or a Redis Stream (`cdna stream`).

A batch is checked event by event; the good events not seen before are appended to the lake
(LAKE/events/date=D/<table>/), added to the in-memory source rows, and the touched customers get new
feature vectors (only the views those tables feed), new scores from the champion, the decision policy and
new recommendations in the online stores; triggers may open or merge leads. Event ids are recorded last,
after every effect, and every effect is idempotent (rows keyed by event id, vectors recomputed from rows,
leads merged by customer and product), so a redelivered event after a crash changes nothing twice.
"""

from __future__ import annotations

import gc
import logging
import random
import sqlite3
import threading
import time
from collections import defaultdict
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from cdna.core.config import (
    Config,
    InquiryTrigger,
    PageViewTrigger,
    load_intents,
    load_policy,
    load_products,
    load_triggers,
)
from cdna.core.errors import CdnaError
from cdna.core.heap import freeze_heap
from cdna.core.lake import Lake
from cdna.ingest.events import EventProblem, append_events, event_day, event_tables, parse_events
from cdna.recommend.lead_store import LeadStore
from cdna.recommend.leads import Lead, LeadInputs, find_leads
from cdna.recommend.policy import apply_policy, check_policy
from cdna.recommend.reasons import Evidence, Explainer, ReasonContext

__all__ = ["BatchResult", "EventProcessor"]

_log = logging.getLogger("cdna.events")

# Rows from which reasons come from the kept SHAP table rather than LightGBM's pred_contrib (0.14 ms a
# row): an event's few rows are faster asked directly, a batch's hundreds from the warm table.
_TABLE_FROM = 64
_EXPLAINER_MEMO = 200_000  # worded (feature, product, value) keys kept before the explainer is renewed


@dataclass
class BatchResult:
    """What one batch did.

    Attributes:
        received: events in the batch.
        applied: new events whose effects were stored.
        duplicates: events whose id was seen before (nothing changed).
        problems: the refused events, with index and field.
        customers: customers whose vectors and recommendations were recomputed.
        suppressed: rule id -> offers the policy removed from those customers' top k.
        leads_new / leads_merged: leads opened and merged.
        timings: seconds per step.
    """

    received: int
    applied: int = 0
    duplicates: int = 0
    problems: list[EventProblem] = field(default_factory=list)
    customers: list[str] = field(default_factory=list)
    suppressed: dict[str, int] = field(default_factory=dict)
    leads_new: int = 0
    leads_merged: int = 0
    timings: dict[str, float] = field(default_factory=dict)


class _Ledger:
    """Event ids whose effects are stored (LAKE/events/_ledger.sqlite)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._con = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._con.execute("PRAGMA busy_timeout = 5000")
        self._con.execute("PRAGMA journal_mode = WAL")
        self._con.execute("PRAGMA synchronous = NORMAL")
        self._con.execute(
            "CREATE TABLE IF NOT EXISTS seen (event_id TEXT PRIMARY KEY, customer_id TEXT NOT NULL, "
            "received_at REAL NOT NULL) WITHOUT ROWID"
        )

    def seen(self, ids: list[str]) -> set[str]:
        out: set[str] = set()
        for i in range(0, len(ids), 500):
            part = ids[i : i + 500]
            q = ",".join("?" * len(part))
            out |= {
                r[0] for r in self._con.execute(f"SELECT event_id FROM seen WHERE event_id IN ({q})", part)
            }
        return out

    def record(self, rows: list[tuple[str, str]]) -> None:
        now = time.time()
        self._con.execute("BEGIN IMMEDIATE")
        self._con.executemany("INSERT OR IGNORE INTO seen VALUES (?, ?, ?)", [(e, c, now) for e, c in rows])
        self._con.execute("COMMIT")


class EventProcessor:
    """Applies event batches to one lake: lake rows, online vectors, recommendations, leads.

    Attributes:
        lake: the lake.
        config: the configuration (features, recommend, timezone).
    """

    def __init__(
        self, lake: Lake, config: Config, features_store: Any = None, recs_store: Any = None
    ) -> None:
        from cdna.features.live import LiveFeatures
        from cdna.features.online_redis import open_online_store
        from cdna.recommend.runner import feature_set, reason_context, registry

        self.lake = lake
        self.config = config
        self.fs = feature_set(config)
        self._numeric = frozenset(f.name for v in self.fs.views for f in v.features)
        self.catalog = load_products()
        self.intents = load_intents()
        self.policy = load_policy()
        check_policy(self.policy, self.catalog, self.intents.ids)
        self.triggers = load_triggers()
        self.events_folder = lake.events
        self.live = LiveFeatures(self.fs, lake.root, self.events_folder)
        self._live_for = _inode(lake.online_features_db)
        backend, url = config.serve.online_store, config.serve.redis_url
        self.features = features_store or open_online_store(
            lake.online_features_db, backend, url, "cdna:features"
        )
        self.recs = recs_store or open_online_store(
            lake.online_recommendations_db, backend, url, "cdna:recommendations"
        )
        self.ledger = _Ledger(lake.events_ledger)
        self.leads = LeadStore(lake.leads_db)
        self.ctx: ReasonContext = reason_context(config, self.fs, self.policy)
        self._registry = registry(lake, config)
        self.version, self.bundle = self._registry.champion()
        self.explainer = self._explainer()
        self._registry_key = (
            _mtime(lake.mlflow_db),
            _mtime(lake.mlflow_db.with_name(lake.mlflow_db.name + "-wal")),
        )
        self._lock = threading.Lock()
        self._reads = ThreadPoolExecutor(1, thread_name_prefix="cdna-event-reads")
        self._products = set(self.catalog.ids)
        self._intent_ids = set(self.intents.ids)
        self.branches = self._branches()
        self._last_sweep: pd.Timestamp | None = None

    def _branches(self) -> dict[str, str]:
        """Customer id -> owning branch (the customer's 시군구; the synthetic bank has no branch table)."""
        import duckdb

        folder = self.lake.raw("customers")
        if not folder.is_dir():
            return {}
        con = duckdb.connect()
        try:
            rows = con.execute(
                f"SELECT customer_id, region_sido || ' ' || region_sigungu FROM read_parquet('{folder}/*.parquet')"
            ).fetchall()
        finally:
            con.close()
        return {str(c): str(b) for c, b in rows}

    # ------------------------------------------------------------------ the batch

    def process(self, raw: list[Any]) -> BatchResult:
        """Apply one batch (JSON-like dicts); returns what changed and which events were refused."""
        with self._lock:
            return self._process(raw)

    def _process(self, raw: list[Any]) -> BatchResult:
        t0 = time.perf_counter()
        self._follow_nightly()
        res = BatchResult(received=len(raw))
        good, problems = parse_events(raw, self._products, self._intent_ids)
        known = []
        for i, ev in good:
            if ev.customer_id not in self.live.customers:
                problems.append(
                    EventProblem(i, "customer_id", f"unknown customer {ev.customer_id!r}", ev.event_id)
                )
            else:
                known.append(ev)
        res.problems = sorted(problems, key=lambda p: p.index)
        seen = self.ledger.seen([ev.event_id for ev in known])
        new = [ev for ev in known if ev.event_id not in seen]
        res.duplicates = len(known) - len(new)
        if not new:
            res.timings["total_s"] = time.perf_counter() - t0
            return res
        tz = self.config.timezone
        by_day: dict[date, list[Any]] = defaultdict(list)
        for ev in new:
            by_day[event_day(ev, tz)].append(ev)
        all_tables: dict[str, list[pa.Table]] = defaultdict(list)
        for day, evs in sorted(by_day.items()):
            tables = event_tables(evs)
            paths = append_events(self.events_folder, tables, day)
            self.live.mark_loaded(paths)
            for name, t in tables.items():
                all_tables[name].append(t)
        merged = {name: pa.concat_tables(ts) for name, ts in all_tables.items()}
        self.live.catch_up()  # rows other workers or the stream consumer wrote meanwhile
        self.live.add(merged)
        res.timings["append_s"] = time.perf_counter() - t0
        day_of: dict[str, date] = {}
        for ev in new:
            d = event_day(ev, tz)
            day_of[ev.customer_id] = max(d, day_of.get(ev.customer_id, d))
        tables_of: dict[str, set[str]] = defaultdict(set)
        for name, t in merged.items():
            for c in set(t.column("customer_id").to_pylist()) - {None}:
                tables_of[c].add(name)
        current = self._current(sorted(day_of))
        groups = _day_groups(day_of, current)
        primed = self.live.primed_day
        if primed is not None and max(groups) > primed:
            # a new day before the nightly replaced the store: its vectors are primed beside the batches
            self.live.prime_later(max(groups))
        # the rows reasons cite and the rows triggers read are fetched on the second core (a reader
        # connection) while this thread computes vectors and scores (issue 16, item 6)
        evidence = {d: self._reads.submit(self._evidence, cs, d) for d, cs in groups.items()}
        leads = self._reads.submit(self._find_leads, new, merged) if self.triggers.triggers else None
        try:
            self._refresh(current, groups, tables_of, evidence, res)
            res.timings["rescore_s"] = time.perf_counter() - t0 - res.timings["append_s"]
            if leads is not None:
                self._store_leads(*leads.result(), res)
        finally:
            jobs: list[Future[Any]] = [*evidence.values(), *([leads] if leads is not None else [])]
            wait(jobs)  # nothing of this batch still runs when the next one starts
        self.ledger.record([(ev.event_id, ev.customer_id) for ev in new])
        res.applied = len(new)
        res.customers = sorted(day_of)
        res.timings["total_s"] = time.perf_counter() - t0
        return res

    def _follow_nightly(self) -> None:
        """Reload the lake's rows when a new materialisation replaced the online store (the nightly ran).

        The in-memory rows are those of the start; vectors recomputed from them after a nightly import would
        lose what the night added.
        """
        from cdna.features.live import LiveFeatures

        self._follow_champion()
        now = _inode(self.lake.online_features_db)
        if now == self._live_for:
            return
        _log.info("a new online materialisation: reloading the lake's rows for the event path")
        old = self.live
        self.live = LiveFeatures(self.fs, self.lake.root, self.events_folder)
        self._live_for = now
        old.close()
        gc.unfreeze()  # the old rows may be collected now
        self._prime(self._sample(200), beside=True)
        freeze_heap()  # the start-up froze the old rows (serve.app): the new ones take their place

    def _follow_champion(self) -> None:
        """Score with the new champion after a promotion (the registry's files changed and its alias moved)."""
        db = self.lake.mlflow_db
        key = (_mtime(db), _mtime(db.with_name(db.name + "-wal")))
        if key == self._registry_key:
            return
        self._registry_key = key
        version = self._registry.alias("champion")
        if version is not None and version != self.version:
            self.version, self.bundle = self._registry.champion()
            self.explainer = self._explainer()
            _log.info("event path scores with champion version %s", self.version)

    def _explainer(self) -> Explainer | None:
        """The champion's explainer, kept across batches: its SHAP table and worded sentences warm up.

        The event path's model calls are small: one LightGBM thread each, so a call never waits for a
        second core another process holds (this processor's own copy of the model).
        """
        model = self.bundle.model
        if not hasattr(model, "booster_"):
            return None
        model.set_params(n_jobs=1)
        return Explainer(model, self.ctx, 3, table_from=_TABLE_FROM)

    def warm(self, customers: int = 5_000) -> None:
        """Explain the stored recommendations of up to `customers` customers once, before the first batch.

        A cold SHAP table asks LightGBM tree by tree for every new decision pattern (0.5 s for a batch of
        500 events); after the stored vectors' patterns are tabled a batch asks for a few. Every
        customer's vector of the next day is computed too (`LiveFeatures.prime`).
        """
        vectors = self._sample(customers)
        self._prime(vectors)
        if self.explainer is not None and vectors:
            self._warm_explainer(vectors)

    def _warm_explainer(self, vectors: dict[str, dict[str, Any]]) -> None:
        from cdna.recommend.scoring import batch_recommend

        t0 = time.perf_counter()
        with self._lock:
            batch_recommend(
                self.bundle,
                _frame(vectors, self._numeric),
                self.catalog,
                self.intents,
                self.config.recommend,
                self.ctx,
                str(self.version),
                policy=self.policy,
                explainer=self.explainer,
            )
        _log.info("explainer warmed on %d customers in %.1f s", len(vectors), time.perf_counter() - t0)

    def _sample(self, n: int) -> dict[str, dict[str, Any]]:
        """The stored vectors of up to `n` customers drawn at random (seeded), those that have one."""
        ids = sorted(self.live.customers)
        random.Random(0).shuffle(ids)
        return {c: v for c, v in self._current(ids[:n]).items() if v}

    def _prime(self, vectors: dict[str, dict[str, Any]], beside: bool = False) -> None:
        """Compute every customer's vector of the day after the stored ones (the day events come for).

        `beside`: on a thread of its own while batches go on (after a nightly reload, on the request path),
        where the rows allow it.
        """
        days = [str(v["as_of"])[:10] for v in vectors.values() if v.get("as_of")]
        if not days:
            return
        day = date.fromisoformat(max(days)) + timedelta(days=1)
        if not (beside and self.live.prime_later(day)):
            self.live.prime(day)

    def _current(self, customers: list[str]) -> dict[str, dict[str, Any]]:
        from cdna.core.errors import UnknownCustomerError

        out: dict[str, dict[str, Any]] = {}
        for c in customers:
            try:
                out[c] = self.features.get(c)
            except (UnknownCustomerError, CdnaError):
                out[c] = {}
        return out

    def _refresh(
        self,
        current: dict[str, dict[str, Any]],
        groups: dict[date, list[str]],
        tables: dict[str, set[str]],
        evidence: dict[date, Future[Evidence]],
        res: BatchResult,
    ) -> None:
        """New vectors, scores, policy and recommendations of the touched customers.

        `current`: their stored vectors; `groups`: as-of day -> customers; `tables`: customer id -> the
        tables that got their rows; `evidence`: as-of day -> the rows their reasons may cite.
        """
        vectors: dict[str, dict[str, Any]] = {}
        for d, cs in groups.items():
            got = self.live.update({c: current[c] for c in cs}, tables, d)
            for c in cs:
                # keep what the batch adds beside the views (segments) and take every recomputed column
                vectors[c] = {**current[c], **got.get(c, {})}
        self.features.put_many(vectors)
        feats = _frame(vectors, self._numeric)
        for d, cs in groups.items():
            part = feats if len(groups) == 1 else feats[feats["customer_id"].isin(cs)].reset_index(drop=True)
            self._rescore(part, d, evidence[d].result(), res)

    def _rescore(self, feats: pd.DataFrame, as_of: date, evidence: Evidence, res: BatchResult) -> None:
        from cdna.recommend.realtime import rescore

        out = rescore(
            self.bundle,
            feats,
            self.catalog,
            self.intents,
            self.config.recommend,
            self.ctx,
            str(self.version),
            self.policy,
            evidence,
            self._fresh_explainer(),
        )
        for rule, n in out.counts.items():
            res.suppressed[rule] = res.suppressed.get(rule, 0) + n
        rows = {
            c: {
                "as_of": str(as_of),
                "model_version": str(self.version),
                "recommendations": items,
            }
            for c, items in out.items.items()
        }
        self.recs.put_many(rows)

    def _fresh_explainer(self) -> Explainer | None:
        """The kept explainer, renewed once its memo of worded sentences grows past a bound."""
        if self.explainer is not None and self.explainer.memo_size > _EXPLAINER_MEMO:
            self.explainer = self._explainer()
        return self.explainer

    def _evidence(self, customers: list[str], as_of: date) -> Evidence:
        from cdna.recommend.reasons import evidence_window

        cutoff = evidence_window(as_of, self.config.timezone)
        sig, web, memos = self.live.evidence_rows(customers, cutoff)
        return Evidence(sig, web, cutoff, memos).index()

    # ------------------------------------------------------------------ leads

    def _find_leads(self, new: list[Any], tables: dict[str, pa.Table]) -> tuple[list[Lead], pd.Timestamp]:
        """The leads the triggers find after this batch (before the policy), and the batch's latest time."""
        now = pd.Timestamp(max(ev.ts for ev in new))
        waits = [t.days for t in self.triggers.triggers if isinstance(t, InquiryTrigger)]
        windows = [t.window_days for t in self.triggers.triggers if isinstance(t, PageViewTrigger)]
        # page-view triggers look at the customers who viewed pages now; inquiry triggers at the calls
        # whose wait ended since the last sweep (the first batch looks back one day only: older
        # unanswered inquiries are not news)
        since = self._last_sweep if self._last_sweep is not None else now - pd.Timedelta(days=1)
        web_table = tables.get("web_events")
        viewers = (
            sorted(set(web_table.column("customer_id").to_pylist()))
            if web_table is not None and windows
            else []
        )
        calls_from = since - pd.Timedelta(days=max(waits, default=0))
        calls_to = now - pd.Timedelta(days=min(waits, default=0))
        web, calls, opens = self.live.lead_rows(
            viewers, now, max(windows, default=1) + 1, calls_from, calls_to
        )
        dep = tables.get("transactions")
        deposits = pd.DataFrame(columns=["customer_id", "ts", "txn_id", "amount"])
        if dep is not None:
            d = dep.select(["customer_id", "ts", "txn_id", "amount", "direction"]).to_pandas()
            deposits = d[d["direction"] == "in"].drop(columns=["direction"])
        inp = LeadInputs(web, deposits, calls, opens, now, since)
        return find_leads(self.triggers, inp, self.intents, self.catalog), now

    def _store_leads(self, found: list[Lead], now: pd.Timestamp, res: BatchResult) -> None:
        """Open or merge the leads the policy allows; close expired ones."""
        if found:
            feats = _frame(self._current(sorted({lead.customer_id for lead in found})), self._numeric)
            scores = pd.DataFrame(
                {
                    "customer_id": [lead.customer_id for lead in found],
                    "product_id": [lead.product_id for lead in found],
                    "score": 1.0,
                }
            ).drop_duplicates(["customer_id", "product_id"])
            kept = apply_policy(scores, feats, self.policy, self.catalog).kept
            allowed = set(zip(kept["customer_id"], kept["product_id"], strict=True))
            found = [lead for lead in found if (lead.customer_id, lead.product_id) in allowed]
            res.leads_new, res.leads_merged = self.leads.upsert(found, self.branches)
        self.leads.close_expired(now)
        self._last_sweep = now if self._last_sweep is None else max(self._last_sweep, now)

    def close(self) -> None:
        """Release stores and the in-memory rows."""
        self._reads.shutdown()
        self.live.close()
        self.leads.close()


def _day_groups(day_of: dict[str, date], current: dict[str, dict[str, Any]]) -> dict[date, list[str]]:
    """As-of day -> customers: each customer's latest event day, or its stored vector's day when later."""
    groups: dict[date, list[str]] = defaultdict(list)
    for c, d in day_of.items():
        stored = current[c].get("as_of")
        if stored and str(stored) > str(d):
            d = date.fromisoformat(str(stored)[:10])  # a late event: keep the vector's (later) day
        groups[d].append(c)
    return dict(groups)


def _frame(vectors: dict[str, dict[str, Any]], numeric: frozenset[str]) -> pd.DataFrame:
    """Vectors as the scorer's feature frame (the snapshot's columns and dtypes, as_of as a date).

    `numeric`: the feature columns; one that comes as objects (nulls, numbers read from JSON) becomes
    numbers when all its values are. The columns are replaced at once: one by one cost most of the
    call for an event's one row (issue 16, item 6).
    """
    df = pd.DataFrame.from_records([{"customer_id": c, **v} for c, v in vectors.items()])
    if "as_of" in df.columns:
        df["as_of"] = pd.to_datetime(df["as_of"]).dt.date
    fix: dict[str, Any] = {}
    for name, dtype in df.dtypes.items():
        if dtype != np.dtype("O") or name not in numeric:
            continue
        have = int(df[name].notna().sum())
        if not have:
            fix[str(name)] = np.full(len(df), np.nan)
            continue
        conv = pd.to_numeric(df[name], errors="coerce")
        if int(conv.notna().sum()) == have:
            fix[str(name)] = conv.to_numpy()
    if not fix:
        return df
    order = list(df.columns)
    return pd.concat([df.drop(columns=list(fix)), pd.DataFrame(fix, index=df.index)], axis=1)[order]


class EventsHolder:
    """The service's event processor, built off the request path (it loads the lake's rows and the champion).

    Attributes:
        lake: the lake.
        error: why the processor could not be built (None while starting or once ready).
    """

    def __init__(self, lake: Lake) -> None:
        self.lake = lake
        self.error: str | None = None
        self._proc: EventProcessor | None = None
        self._leads: LeadStore | None = None
        self._lock = threading.Lock()

    def build(self) -> None:
        """Build the processor now (called in a worker thread at start-up); failures are kept in `error`."""
        from cdna.core.config import load_config

        with self._lock:
            if self._proc is not None:
                return
            try:
                proc = EventProcessor(self.lake, load_config())
                proc.warm()  # before it is handed out: the first batches find the explainer warm
                self._proc = proc
                self.error = None
            except Exception as exc:  # noqa: BLE001 - reported on POST /v1/events as a 503
                self.error = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}"
                _log.warning("event processor not available: %s", type(exc).__name__)

    def processor(self) -> EventProcessor | None:
        """The processor, or None until built (see `error`)."""
        return self._proc

    def lead_store(self) -> LeadStore | None:
        """The lead store (opened on first use; None when the lake has none yet)."""
        if self._proc is not None:
            return self._proc.leads
        path = self.lake.leads_db
        if self._leads is None and path.exists():
            self._leads = LeadStore(path)
        return self._leads


def _inode(path: Path) -> int | None:
    try:
        return path.stat().st_ino
    except FileNotFoundError:
        return None


def _mtime(path: Path) -> int | None:
    try:
        return path.stat().st_mtime_ns
    except FileNotFoundError:
        return None
