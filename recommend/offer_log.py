"""The offer log: every offer shown and its one outcome, in LAKE/offers/offers.sqlite (issue 17).

SQLite because the staff service writes offers and outcomes one request at a time from several workers
(WAL, busy timeout); stages read it whole as OFFERS / OFFER_OUTCOMES tables. An outcome is recorded once
per offer id: the same answer again is a no-op, a different final answer is refused, and only "call
back" may later be replaced by the customer's real answer.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd
import pyarrow as pa

from cdna.contracts.schemas import OFFER_OUTCOMES, conform
from cdna.core.lake import Lake
from cdna.recommend.offers import (
    FINAL_OUTCOMES,
    OUTCOMES,
    Offer,
    OutcomeConflictError,
    UnknownOfferError,
    offers_to_table,
)

__all__ = ["ImportResult", "OfferLog", "OutcomeResult", "import_outcomes"]

_SCHEMA = """
PRAGMA journal_mode = WAL;
CREATE TABLE IF NOT EXISTS offers (
    offer_id TEXT PRIMARY KEY, customer_id TEXT NOT NULL, product_id TEXT NOT NULL, rank INTEGER NOT NULL,
    score REAL, model_version TEXT NOT NULL, channel TEXT NOT NULL, purpose TEXT, shown_at_us INTEGER NOT NULL,
    as_of TEXT, campaign TEXT, reasons TEXT NOT NULL, staff TEXT
);
CREATE INDEX IF NOT EXISTS offers_customer ON offers (customer_id);
CREATE INDEX IF NOT EXISTS offers_campaign ON offers (campaign);
CREATE TABLE IF NOT EXISTS outcomes (
    offer_id TEXT PRIMARY KEY REFERENCES offers (offer_id), outcome TEXT NOT NULL,
    recorded_at_us INTEGER NOT NULL, source TEXT NOT NULL, recorded_by TEXT
);
"""


@dataclass(frozen=True)
class OutcomeResult:
    """What recording an outcome did.

    Attributes:
        offer_id / outcome: the offer and its outcome now.
        status: "recorded" (first answer), "unchanged" (same answer again) or "updated" (call back answered).
        recorded_at: when the outcome now stored was recorded.
    """

    offer_id: str
    outcome: str
    status: str
    recorded_at: datetime


def _us(t: datetime) -> int:
    if t.tzinfo is None:
        t = t.replace(tzinfo=UTC)
    return int(t.timestamp() * 1_000_000)


def _dt(us: int) -> datetime:
    return datetime.fromtimestamp(us / 1_000_000, UTC)


class OfferLog:
    """The offer log of one lake (thread-safe; one connection per instance)."""

    def __init__(self, path: Path, busy_timeout_ms: int = 5000) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        self._con = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._con.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        self._con.executescript(_SCHEMA)

    @classmethod
    def of(cls, lake: Lake) -> OfferLog:
        """The offer log under LAKE/offers/."""
        return cls(lake.offers_db)

    def close(self) -> None:
        """Close the connection."""
        self._con.close()

    def record(self, offers: list[Offer]) -> int:
        """Store offers (an id already stored is kept as it was); returns how many were new."""
        rows = [
            (
                o.offer_id,
                o.customer_id,
                o.product_id,
                int(o.rank),
                None if o.score is None else float(o.score),
                str(o.model_version),
                o.channel,
                o.purpose,
                _us(o.shown_at),
                None if o.as_of is None else o.as_of.isoformat(),
                o.campaign,
                json.dumps(list(o.reasons), ensure_ascii=False),
                o.staff,
            )
            for o in offers
        ]
        with self._lock:
            before = self._con.total_changes
            self._con.execute("BEGIN IMMEDIATE")
            try:
                self._con.executemany(
                    "INSERT OR IGNORE INTO offers VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows
                )
                self._con.execute("COMMIT")
            except BaseException:
                self._con.execute("ROLLBACK")
                raise
            return self._con.total_changes - before

    def record_outcome(
        self,
        offer_id: str,
        outcome: str,
        source: str,
        recorded_by: str | None = None,
        at: datetime | None = None,
    ) -> OutcomeResult:
        """Record the outcome of an offer once (idempotent by offer id; see the module docstring)."""
        if outcome not in OUTCOMES:
            raise ValueError(f"outcome {outcome!r} is not one of {', '.join(OUTCOMES)}")
        at_us = _us(at or datetime.now(UTC))
        with self._lock:
            self._con.execute("BEGIN IMMEDIATE")
            try:
                result = self._record_outcome(offer_id, outcome, source, recorded_by, at_us)
                self._con.execute("COMMIT")
            except BaseException:
                self._con.execute("ROLLBACK")
                raise
        return result

    def _record_outcome(
        self, offer_id: str, outcome: str, source: str, recorded_by: str | None, at_us: int
    ) -> OutcomeResult:
        if self._con.execute("SELECT 1 FROM offers WHERE offer_id = ?", (offer_id,)).fetchone() is None:
            raise UnknownOfferError(
                f"offer {offer_id!r} is not in the offer log {self.path}",
                hint="use the offer_id of a recommendation answer, a console view or a campaign export",
            )
        old = self._con.execute(
            "SELECT outcome, recorded_at_us FROM outcomes WHERE offer_id = ?", (offer_id,)
        ).fetchone()
        if old is not None and old[0] == outcome:
            return OutcomeResult(offer_id, outcome, "unchanged", _dt(old[1]))
        if old is not None and old[0] in FINAL_OUTCOMES:
            raise OutcomeConflictError(
                f"offer {offer_id!r} already has the outcome {old[0]!r}; {outcome!r} was not recorded",
                hint="an outcome is recorded once per offer; only 'call_back' can be answered later",
            )
        self._con.execute(
            "INSERT OR REPLACE INTO outcomes VALUES (?, ?, ?, ?, ?)",
            (offer_id, outcome, at_us, source, recorded_by),
        )
        return OutcomeResult(offer_id, outcome, "recorded" if old is None else "updated", _dt(at_us))

    def offers_table(self, campaign: str | None = None) -> pa.Table:
        """Every stored offer (of one campaign when given) as an OFFERS table."""
        sql = "SELECT * FROM offers" + (" WHERE campaign = ?" if campaign else "") + " ORDER BY shown_at_us"
        with self._lock:
            rows = self._con.execute(sql, (campaign,) if campaign else ()).fetchall()
        return offers_to_table([_offer(r) for r in rows])

    def outcomes_table(self) -> pa.Table:
        """Every recorded outcome as an OFFER_OUTCOMES table."""
        with self._lock:
            rows = self._con.execute(
                "SELECT offer_id, outcome, recorded_at_us, source, recorded_by FROM outcomes "
                "ORDER BY recorded_at_us"
            ).fetchall()
        df = pd.DataFrame(rows, columns=["offer_id", "outcome", "recorded_at", "source", "recorded_by"])
        table = pa.table(
            {
                "offer_id": pa.array(df["offer_id"], pa.string()),
                "outcome": pa.array(df["outcome"], pa.string()),
                "recorded_at": pa.array(df["recorded_at"].astype("int64"), pa.int64()).cast(
                    pa.timestamp("us", tz="UTC")
                ),
                "channel": pa.array(df["source"], pa.string()),
                "recorded_by": pa.array(df["recorded_by"], pa.string()),
            }
        )
        return conform(table, OFFER_OUTCOMES, str(self.path))


def _offer(row: tuple) -> Offer:
    return Offer(
        offer_id=row[0],
        customer_id=row[1],
        product_id=row[2],
        rank=int(row[3]),
        score=row[4],
        model_version=row[5],
        channel=row[6],
        purpose=row[7],
        shown_at=_dt(row[8]),
        as_of=None if row[9] is None else date.fromisoformat(row[9]),
        campaign=row[10],
        reasons=tuple(json.loads(row[11])),
        staff=row[12],
    )


@dataclass
class ImportResult:
    """What importing a channel's response file into the offer log did.

    Attributes:
        recorded / unchanged / updated: outcomes newly recorded, already there, call backs answered.
        rejects: (offer_id, reason) of rows the offer log refused (unknown offer, conflicting outcome).
    """

    recorded: int = 0
    unchanged: int = 0
    updated: int = 0
    rejects: list[tuple[str, str]] = field(default_factory=list)


def import_outcomes(log: OfferLog, outcomes: pd.DataFrame, source: str) -> ImportResult:
    """Record validated OFFER_OUTCOMES rows one by one (each idempotent); refused rows come back as rejects."""
    res = ImportResult()
    now = datetime.now(UTC)
    for row in outcomes.itertuples(index=False):
        at = (
            row.recorded_at if isinstance(row.recorded_at, datetime) and not pd.isna(row.recorded_at) else now
        )
        try:
            out = log.record_outcome(
                row.offer_id,
                row.outcome,
                getattr(row, "channel", None) or source,
                getattr(row, "recorded_by", None),
                at,
            )
        except (UnknownOfferError, OutcomeConflictError) as exc:
            res.rejects.append((row.offer_id, str(exc).split("\n")[0]))
            continue
        setattr(res, out.status, getattr(res, out.status) + 1)
    return res
