"""Online feature vectors kept fresh by events: the batch views, recomputed for the customers an event touched.

`LiveFeatures` holds the lake's source rows in an in-memory DuckDB (loaded once through the same source
registration as `cdna features snapshot`), adds each event batch's rows (an event id already present is
ignored, so a redelivered event changes nothing), and recomputes the touched customers' vectors with the very
`feature_query` the nightly snapshot runs. Same rows, same SQL: an online vector equals that day's snapshot
row (issue #16, "no training/serving skew"). When the customer's vector is already of the event's day, only
the views fed by the changed tables are recomputed and merged, then the derived columns are re-derived.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from collections.abc import Collection, Iterable, Mapping
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from cdna.features.definitions import derived_features
from cdna.features.snapshot import FeatureSet, connect, cutoff_sql, feature_query, prepare
from cdna.features.sources import SOURCES

__all__ = ["LiveFeatures", "VIEWS_OF_TABLE"]

_log = logging.getLogger(__name__)

# Which source tables feed which feature views here (derived columns are re-derived after any change).
# Signals feed the spend view only through memo categories, which this engine fixes at start (events bring
# call signals only), so a call event leaves spend as it was.
VIEWS_OF_TABLE: dict[str, tuple[str, ...]] = {
    "customers": ("profile",),
    "transactions": ("transactions", "spend"),
    "holdings": ("holdings",),
    "web_events": ("web",),
    "calls": ("calls",),
    "signals": ("signals",),
}
# event-time column and identity of each source as `src_<table>` exposes them
_KEY = {
    "transactions": ("txn_id",),
    "holdings": ("event_id",),
    "web_events": ("event_id",),
    "calls": ("call_id",),
    "signals": ("source_id", "source", "kind", "label"),
}  # the first column is the most selective (see `_insert`)


_SETTLED_NS = 1_000_000_000  # a folder time this old cannot be shared by a later rename (clock ticks)


class LiveFeatures:
    """The source rows of one lake in memory, and point-in-time vectors of any customers on demand.

    Attributes:
        fs: the feature set (views, taxonomies, time zone).
        lake_root: the lake folder (events written there by other processes are picked up by `catch_up`).
        customers: ids known to the customers table.
    """

    def __init__(self, fs: FeatureSet, lake_root: Path, events_folder: Path | None = None) -> None:
        self.fs = fs
        self.lake_root = Path(lake_root)
        self.events_folder = events_folder
        self._lock = threading.Lock()
        self._types: dict[str, dict[str, str]] = {}
        self._views: dict[frozenset[str] | None, str] = {}
        self._listed: dict[str, int] = {}  # events folder -> modification time when last listed in full
        self._derived = derived_features(fs.catalog)
        # the columns the derived expressions read (`fs.views` builds the views anew on each access)
        words = set(re.findall(r"\w+", " ".join(d.expr for d in self._derived)))
        self._base_cols = [c for v in fs.views for c in v.columns if c in words]
        cfg = fs.config.model_copy(update={"threads": 1})  # many small queries: one thread avoids handoffs
        self.con = connect(cfg)
        self.reports = prepare(self.con, fs, self.lake_root)
        self._files: set[str] = {f for r in self.reports.values() for f in r.files}
        for name in SOURCES:
            self.con.execute(f"CREATE TABLE mem_{name} AS SELECT * FROM src_{name}")
            self.con.execute(f"CREATE OR REPLACE TEMP VIEW src_{name} AS SELECT * FROM mem_{name}")
        self._columns = {
            name: self.con.execute(f"SELECT * FROM mem_{name} LIMIT 0").description for name in SOURCES
        }
        self.lexicon = "_memo_cat" in {r[0] for r in self.con.execute("SHOW TABLES").fetchall()}
        if not self.lexicon:
            # Memo categories from the NLP's memo signals: events bring call signals only, so the map is fixed
            # for this process; a table of it keeps every spend query from re-aggregating all signals.
            self.con.execute(
                "CREATE TABLE _memo_map AS SELECT source_id, arg_max(label, score) AS category FROM mem_signals "
                "WHERE source = 'memo' AND kind = 'interest' GROUP BY source_id"
            )
            # ... and with the map fixed, each transaction's category is too: held with the row, it spares
            # the transactions and spend views a join with the whole map per query (issue 16)
            self.con.execute(
                "CREATE TABLE mem_transactions_cat AS SELECT t.*, m.category FROM _txn_base t "
                "LEFT JOIN _memo_map m ON m.source_id = t.txn_id"
            )
            self.con.execute("DROP TABLE mem_transactions")
            self.con.execute(
                "CREATE VIEW mem_transactions AS SELECT * EXCLUDE (category) FROM mem_transactions_cat"
            )
            self.con.execute(
                "CREATE OR REPLACE TEMP VIEW src_transactions_cat AS SELECT * FROM mem_transactions_cat"
            )
        ids = self.con.execute("SELECT DISTINCT customer_id FROM mem_customers").fetchall()
        self.customers: set[str] = {r[0] for r in ids}
        # a second connection for the rows reasons and triggers read, so they run beside the vector
        # queries; with lexicon categories the transactions' category lives in a temp table of the first
        self._reader: Any = None if self.lexicon else self._cursor()
        self._reader_lock = threading.Lock()
        # every customer's vector of one day computed ahead (see `prime`), and the tables that got rows
        # of each customer since; `_next` collects them while a new day is being primed beside the batches
        self.primed_day: date | None = None
        self._primed: pa.Table | None = None
        self._primed_at: dict[str, int] = {}
        self._touched: dict[str, set[str]] = {}
        self._next: dict[str, set[str]] | None = None
        self._priming: threading.Thread | None = None

    # ------------------------------------------------------------------ rows in

    def add(self, tables: dict[str, pa.Table]) -> dict[str, int]:
        """Insert event rows (contract tables by name); rows whose id is already held are ignored.

        Returns table name -> rows actually added.
        """
        added: dict[str, int] = {}
        with self._lock:
            for name, table in tables.items():
                if name not in _KEY or table.num_rows == 0:
                    continue
                added[name] = self._insert(name, table)
                if added[name] and (self._primed is not None or self._next is not None):
                    for c in set(table.column("customer_id").to_pylist()) - {None}:
                        self._touched.setdefault(c, set()).add(name)
                        if self._next is not None:
                            self._next.setdefault(c, set()).add(name)
            if added.get("transactions") and self.lexicon:
                from cdna.features.sources import _lexicon_map

                _lexicon_map(self.con, self.fs.memo)  # categorise memo/merchant pairs seen for the first time
        return added

    def _insert(self, name: str, table: pa.Table) -> int:
        spec = SOURCES[name]
        have = set(table.column_names)
        parts = []
        for col in self._columns[name]:
            cname = col[0]
            src = spec.ts if cname == "ts" and spec.ts and spec.ts != "ts" else cname
            typ = self._duck_type(name, cname)
            parts.append(
                f"CAST({src} AS {typ}) AS {cname}" if src in have else f"CAST(NULL AS {typ}) AS {cname}"
            )
        key = _KEY[name]
        on = " AND ".join(f"m.{k} = n.{k}" for k in key)
        # the held rows are narrowed to those sharing the first key column with an incoming row before
        # the anti-join: joining on every key column of all held rows cost 17 ms for a batch's 20 call
        # signals against 140k (issue 16, item 6)
        new = (
            f"WITH n AS (SELECT * FROM (SELECT {', '.join(parts)} FROM _incoming) QUALIFY row_number() "
            f"OVER (PARTITION BY {', '.join(key)}) = 1), "
            f"m AS (SELECT {', '.join(key)} FROM mem_{name} WHERE {key[0]} IN (SELECT {key[0]} FROM n)) "
            f"SELECT n.* FROM n WHERE n.ts <= now() AND NOT EXISTS (SELECT 1 FROM m WHERE {on})"
        )
        self.con.register("_incoming", table)
        try:
            if name != "transactions" or self.lexicon:
                n = self.con.execute(f"INSERT INTO mem_{name} {new}").fetchall()
            else:  # the rows are held with their (fixed) memo category
                n = self.con.execute(
                    f"INSERT INTO mem_transactions_cat SELECT t.*, c.category FROM ({new}) t "
                    "LEFT JOIN _memo_map c ON c.source_id = t.txn_id"
                ).fetchall()
        finally:
            self.con.unregister("_incoming")
        return int(n[0][0]) if n else 0

    def _duck_type(self, table: str, column: str) -> str:
        if table not in self._types:
            rows = self.con.execute(f"DESCRIBE mem_{table}").fetchall()
            self._types[table] = {r[0]: r[1] for r in rows}
        return self._types[table][column]

    def catch_up(self) -> dict[str, int]:
        """Load event files other processes wrote since the start (Parquet parts under the events folder).

        Parts lie in `date=D/<table>/` folders (ingest.events.append_events); a folder is listed again only
        when its modification time moved or is too recent to trust (two renames within one clock tick
        share it). Listing every part on each batch grew with the parts a running service wrote.
        """
        if self.events_folder is None or not self.events_folder.is_dir():
            return {}
        import pyarrow.parquet as pq

        added: dict[str, int] = {}
        now = time.time_ns()
        for day in sorted(self.events_folder.glob("date=*")):
            for name in _KEY:
                folder = day / name
                try:
                    mtime = folder.stat().st_mtime_ns
                except OSError:
                    continue
                if self._listed.get(str(folder)) == mtime:
                    continue
                complete = True
                for entry in sorted(os.scandir(folder), key=lambda e: e.name):
                    path = str(folder / entry.name)
                    if (
                        not entry.name.endswith(".parquet")
                        or entry.name.startswith(".")
                        or path in self._files
                    ):
                        continue
                    try:
                        table = pq.read_table(path)
                    except (OSError, pa.ArrowInvalid):
                        complete = False  # a part being renamed into place; read on the next call
                        continue
                    got = self.add({name: table})
                    self._files.add(path)
                    for k, v in got.items():
                        added[k] = added.get(k, 0) + v
                if complete and now - mtime > _SETTLED_NS:
                    self._listed[str(folder)] = mtime
        return added

    def mark_loaded(self, paths: Iterable[Path]) -> None:
        """Record files whose rows this engine already added (its own writes), so catch_up skips them."""
        self._files.update(str(p) for p in paths)

    # ------------------------------------------------------------------ vectors out

    def vectors(self, customers: Collection[str], as_of: date) -> pa.Table:
        """Every feature of `customers` as of the end of `as_of` (Korea time): the snapshot's columns."""
        with self._lock:
            self._entities(customers, as_of)
            return self.con.sql(
                f"SELECT * FROM {self._query_view(None)} ORDER BY customer_id"
            ).to_arrow_table()

    def _query_view(self, only: Collection[str] | None) -> str:
        """A temp view holding `feature_query(fs, only)` over `_entities`, created once per set of views.

        Each call then sends a few words instead of the 50 kB query, which the DuckDB client tokenises
        in Python on every `sql()` (60 ms for its Korean page names; issue 16, item 6).
        """
        key = None if only is None else frozenset(only)
        name = self._views.get(key)
        if name is None:
            name = f"_live_q{len(self._views)}"
            sql = feature_query(self.fs, only=None if key is None else sorted(key))
            self.con.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS {sql}")
            self._views[key] = name
        return name

    def prime(self, as_of: date, limit: int = 200_000) -> int:
        """Compute every customer's vector as of `as_of` ahead of the events of that day; returns how many.

        The first event of the day for a customer then starts from this vector and recomputes only the
        views its tables feed (plus those of any rows of that customer added since), not the whole vector:
        the full query costs ~65 ms of planning even for one customer (issue 16, item 6). Banks with more
        than `limit` customers are not primed (the vectors would hold ~1.5 kB each in memory).
        """
        if len(self.customers) > limit:
            return 0
        self.wait_primed()
        table = self.vectors(sorted(self.customers), as_of)
        with self._lock:
            self._use_primed(table, as_of, {})
        return table.num_rows

    def prime_later(self, as_of: date, limit: int = 200_000) -> bool:
        """Start priming `as_of` on a connection and thread of its own; False when it cannot or need not.

        For the events of a new day that arrive before the nightly run has replaced the online store:
        batches go on meanwhile (their customers' first events of that day take the full query until the
        vectors are ready), and the rows they add are tracked from the start, so none is missed.
        """
        busy = self._priming is not None and self._priming.is_alive()
        if self.lexicon or busy or as_of == self.primed_day or len(self.customers) > limit:
            return False
        with self._lock:
            self._next = {}
        self._priming = threading.Thread(
            target=self._prime_beside, args=(as_of,), name="cdna-prime", daemon=True
        )
        self._priming.start()
        return True

    def wait_primed(self, timeout: float | None = None) -> None:
        """Until a priming started by `prime_later` has finished."""
        if self._priming is not None:
            self._priming.join(timeout)

    def _prime_beside(self, as_of: date) -> None:
        try:
            con = self._cursor()
            try:
                day = f"DATE '{as_of}'"
                con.execute(
                    f"CREATE TEMP TABLE _entities AS SELECT DISTINCT customer_id, {day} AS as_of, "
                    f"{cutoff_sql(self.fs.timezone, day)} AS cutoff FROM mem_customers"
                )
                table = con.sql(f"{feature_query(self.fs)} ORDER BY customer_id").to_arrow_table()
            finally:
                con.close()
        except Exception:  # noqa: BLE001 - the event path goes on without it (full queries)
            _log.exception("priming the vectors of %s failed", as_of)
            with self._lock:
                self._next = None
            return
        with self._lock:
            self._use_primed(table, as_of, self._next or {})
            self._next = None

    def _use_primed(self, table: pa.Table, as_of: date, touched: dict[str, set[str]]) -> None:
        """Hold `table` as the primed vectors of `as_of` (call with the lock held)."""
        self._primed = table
        self._primed_at = {c: i for i, c in enumerate(table.column("customer_id").to_pylist())}
        self._touched = touched
        self.primed_day = as_of
        _log.info("primed %d vectors as of %s for the event path", table.num_rows, as_of)

    def _cursor(self) -> Any:
        """Another connection to the held rows, with the `src_*` views the feature SQL reads (not lexicon)."""
        cur = self.con.cursor()
        cur.execute("SET TimeZone = 'UTC'")  # a session setting: the first connection's is not inherited
        for name in (*SOURCES, "transactions_cat"):
            cur.execute(f"CREATE TEMP VIEW src_{name} AS SELECT * FROM mem_{name}")
        return cur

    def _from_primed(
        self, customers: Collection[str], as_of: date
    ) -> tuple[dict[str, dict[str, Any]], dict[str, set[str]]]:
        """The primed vectors of `as_of` of those of `customers` that have one, and the tables that got rows
        of each since (read together: a priming beside the batches may swap them)."""
        with self._lock:
            table, at_row, touched = self._primed, self._primed_at, self._touched
            if table is None or self.primed_day != as_of:
                return {}, {}
        at = [(c, at_row[c]) for c in customers if c in at_row]
        if not at:
            return {}, {}
        rows = table.take(pa.array([i for _, i in at], pa.int64())).to_pylist()
        return {c: r for (c, _), r in zip(at, rows, strict=True)}, {c: set(touched.get(c, ())) for c, _ in at}

    def update(
        self,
        current: dict[str, dict[str, Any]],
        tables: Collection[str] | Mapping[str, Collection[str]],
        as_of: date,
    ) -> dict[str, dict[str, Any]]:
        """New vectors of the customers in `current` (their stored vectors) after rows of `tables` changed.

        `tables`: the changed tables, for every customer alike or per customer (customer id -> tables).
        A customer whose stored vector is of another day starts from the primed vector of `as_of` when
        there is one (then the views fed by any table that got their rows since priming are recomputed
        too), else gets every view recomputed (windows moved). When all start from a vector of `as_of`,
        only the views fed by each customer's tables are recomputed, merged into those vectors, then
        re-derived: one query per set of views, for the customers that need it. A batch with both
        recomputes everyone in one query: a second, partial one would pay its planning again (~40 ms)
        for less than it saves, and the full vector is what the merge gives.
        """
        if not current:
            return {}
        old = [c for c, v in current.items() if not v or str(v.get("as_of")) != str(as_of)]
        primed, touched = self._from_primed(old, as_of)
        if len(primed) < len(old):
            return _rows(self.vectors(list(current), as_of))
        # the stored vector keeps what the batch adds beside the views (segments); the day's views replace
        base = {c: {**v, **primed[c]} if c in primed else dict(v) for c, v in current.items()}
        need: dict[str, list[str]] = {}  # view -> customers whose rows of its table changed
        for c in current:
            changed = set(tables.get(c, ()) if isinstance(tables, Mapping) else tables)
            changed |= touched.get(c, set())
            for v in {v for t in changed for v in VIEWS_OF_TABLE.get(t, ())}:
                need.setdefault(v, []).append(c)
        # views needed by the same customers (a call's calls and signals) share one query
        groups: dict[tuple[str, ...], list[str]] = {}
        for v, cs in need.items():
            groups.setdefault(tuple(sorted(cs)), []).append(v)
        if not groups and not primed:
            return dict(current)
        for ids, views in groups.items():
            for c, row in _rows(self._partial(ids, as_of, sorted(views))).items():
                base[c].update(row)
        return self._derive(base)

    def _entities(self, customers: Collection[str], as_of: date) -> None:
        ids = pa.table({"customer_id": pa.array(sorted(customers), pa.string())})
        day = f"DATE '{as_of}'"
        self.con.register("_ids", ids)
        try:
            self.con.execute(
                f"CREATE OR REPLACE TEMP TABLE _entities AS SELECT customer_id, {day} AS as_of, "
                f"{cutoff_sql(self.fs.timezone, day)} AS cutoff FROM _ids"
            )
        finally:
            self.con.unregister("_ids")

    def _partial(self, customers: Collection[str], as_of: date, views: list[str]) -> pa.Table:
        with self._lock:
            self._entities(customers, as_of)
            return self.con.sql(f"SELECT * FROM {self._query_view(views)}").to_arrow_table()

    def _derive(self, rows: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        """Re-derive product count, trend, salary flag, churn risk from merged vectors (the snapshot's SQL)."""
        derived, base_cols = self._derived, self._base_cols
        names = {d.name for d in derived}
        table = pa.Table.from_pylist(
            [{"customer_id": c, **{k: r.get(k) for k in base_cols}} for c, r in rows.items()]
        )
        with self._lock:
            self.con.register("_merged", table)
            try:
                exprs = ", ".join(f"{d.expr} AS {d.name}" for d in derived)
                got = self.con.sql(f"SELECT customer_id, {exprs} FROM _merged").to_arrow_table()
            finally:
                self.con.unregister("_merged")
        new = _rows(got)
        return {
            c: {**{k: v for k, v in r.items() if k not in names}, **new.get(c, {})} for c, r in rows.items()
        }

    def _reading(self) -> tuple[Any, threading.Lock]:
        """The connection (and its lock) for reads beside the vector queries: the reader when there is one."""
        if self._reader is not None:
            return self._reader, self._reader_lock
        return self.con, self._lock

    def evidence_rows(self, customers: Collection[str], cutoff: Any) -> tuple[Any, Any, Any]:
        """Signals, page views and categorised outgoing transactions of `customers` that reasons may cite.

        The windows of `recommend.scoring.load_evidence`: signals of the last 365 days, page views and
        transactions of the last 90, all before `cutoff` (UTC).
        """
        ids = pa.table({"customer_id": pa.array(sorted(customers), pa.string())})
        con, lock = self._reading()
        with lock:
            con.register("_ev_ids", ids)
            try:
                args = [cutoff.to_pydatetime()]
                sig = con.execute(
                    "SELECT s.customer_id, s.ts, s.source, s.source_id, s.kind, s.label FROM src_signals s "
                    "JOIN _ev_ids USING (customer_id) WHERE s.ts < $1 AND s.ts >= $1 - INTERVAL 365 DAY",
                    args,
                ).df()
                web = con.execute(
                    "SELECT s.customer_id, s.ts, s.event_id, s.page_category FROM src_web_events s "
                    "JOIN _ev_ids USING (customer_id) WHERE s.ts < $1 AND s.ts >= $1 - INTERVAL 90 DAY",
                    args,
                ).df()
                memos = con.execute(
                    "SELECT s.customer_id, s.ts, s.txn_id, s.category FROM src_transactions_cat s "
                    "JOIN _ev_ids USING (customer_id) WHERE s.direction = 'out' AND s.category IS NOT NULL "
                    "AND s.ts < $1 AND s.ts >= $1 - INTERVAL 90 DAY",
                    args,
                ).df()
            finally:
                con.unregister("_ev_ids")
        return sig, web, memos

    def lead_rows(
        self, customers: Collection[str], now: Any, days: int, calls_from: Any, calls_to: Any
    ) -> tuple[Any, Any, Any]:
        """Rows the lead triggers read (UTC times).

        Page views of `customers` in the `days` before `now`; call intents of any customer made in
        (`calls_from`, `calls_to`] (those whose wait for an open may have ended since the last sweep); and
        the product opens of those callers after `calls_from`. Reading every call and open of the last
        weeks on each batch cost more than the rest of the sweep (issue 16, item 6).
        """
        ids = pa.table({"customer_id": pa.array(sorted(customers), pa.string())})
        con, lock = self._reading()
        with lock:
            con.register("_ld_ids", ids)
            try:
                web = con.execute(
                    "SELECT s.customer_id, s.ts, s.event_id, s.page_category FROM src_web_events s "
                    "JOIN _ld_ids USING (customer_id) WHERE s.ts <= $1 AND s.ts > $1 - to_days($2)",
                    [now.to_pydatetime(), days],
                ).df()
                span = [calls_from.to_pydatetime(), calls_to.to_pydatetime()]
                calls = con.execute(
                    "SELECT s.customer_id, s.ts, s.source_id, s.label FROM src_signals s "
                    "WHERE s.kind = 'intent' AND s.source = 'call' AND s.ts > $1 AND s.ts <= $2",
                    span,
                ).df()
                opens = con.execute(
                    "SELECT s.customer_id, s.ts, s.product_id FROM src_holdings s WHERE s.event = 'open' "
                    "AND s.ts > $1 AND s.customer_id IN (SELECT customer_id FROM src_signals c "
                    "WHERE c.kind = 'intent' AND c.source = 'call' AND c.ts > $1 AND c.ts <= $2)",
                    span,
                ).df()
            finally:
                con.unregister("_ld_ids")
        for df in (web, calls, opens):
            if len(df):
                df["ts"] = pd.to_datetime(df["ts"], utc=True)
        return web, calls, opens

    def close(self) -> None:
        """Release the in-memory database (after a priming in progress)."""
        self.wait_primed()
        with self._reader_lock:
            if self._reader is not None:
                self._reader.close()
        self.con.close()


def _rows(table: pa.Table) -> dict[str, dict[str, Any]]:
    return {r["customer_id"]: r for r in table.to_pylist()}
