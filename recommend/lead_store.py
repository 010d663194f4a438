"""Where leads live: one SQLite file; one open lead per (customer, product), merged on repeat, closed on expiry."""

from __future__ import annotations

import json
import sqlite3
import threading
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from cdna.recommend.leads import Lead

__all__ = ["LeadStore"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS leads (
    lead_id TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL,
    branch TEXT NOT NULL,
    product_id TEXT NOT NULL,
    trigger_id TEXT NOT NULL,
    reasons TEXT NOT NULL,
    evidence_ids TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    status TEXT NOT NULL,
    hits INTEGER NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS leads_open ON leads (customer_id, product_id) WHERE status = 'open';
CREATE INDEX IF NOT EXISTS leads_branch ON leads (branch, status, expires_at);
"""


def _iso(ts: pd.Timestamp) -> str:
    return pd.Timestamp(ts).tz_convert("UTC").isoformat()


class LeadStore:
    """Leads of one lake (LAKE/online/leads.sqlite).

    Attributes:
        path: the SQLite file.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._con = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._con.execute("PRAGMA busy_timeout = 5000")
        self._con.execute("PRAGMA journal_mode = WAL")
        self._con.executescript(_SCHEMA)

    def upsert(self, leads: Iterable[Lead], branches: dict[str, str]) -> tuple[int, int]:
        """Store leads, merging each into the open lead of the same customer and product; (new, merged)."""
        new = merged = 0
        with self._lock:
            self._con.execute("BEGIN IMMEDIATE")
            try:
                for lead in leads:
                    row = self._con.execute(
                        "SELECT lead_id, reasons, evidence_ids, expires_at FROM leads "
                        "WHERE customer_id = ? AND product_id = ? AND status = 'open'",
                        (lead.customer_id, lead.product_id),
                    ).fetchone()
                    if row is None:
                        self._con.execute(
                            "INSERT INTO leads VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', 1)",
                            (
                                f"L{uuid.uuid4().hex[:16]}",
                                lead.customer_id,
                                branches.get(lead.customer_id, "미지정"),
                                lead.product_id,
                                lead.trigger_id,
                                json.dumps([lead.reason], ensure_ascii=False),
                                json.dumps(list(lead.evidence_ids)),
                                _iso(lead.created_at),
                                _iso(lead.created_at),
                                _iso(lead.expires_at),
                            ),
                        )
                        new += 1
                        continue
                    reasons = json.loads(row[1])
                    ids = json.loads(row[2])
                    fresh = [i for i in lead.evidence_ids if i not in ids]
                    if not fresh and lead.reason in reasons:
                        continue  # the same evidence again (a redelivered event): nothing changes
                    if lead.reason not in reasons:
                        reasons.append(lead.reason)
                    self._con.execute(
                        "UPDATE leads SET reasons = ?, evidence_ids = ?, updated_at = ?, expires_at = ?, "
                        "hits = hits + 1 WHERE lead_id = ?",
                        (
                            json.dumps(reasons[-5:], ensure_ascii=False),
                            json.dumps((ids + fresh)[-20:]),
                            _iso(lead.created_at),
                            max(row[3], _iso(lead.expires_at)),
                            row[0],
                        ),
                    )
                    merged += 1
                self._con.execute("COMMIT")
            except BaseException:
                self._con.execute("ROLLBACK")
                raise
        return new, merged

    def close_expired(self, now: pd.Timestamp) -> int:
        """Mark open leads whose expiry passed as expired; returns how many."""
        with self._lock:
            cur = self._con.execute(
                "UPDATE leads SET status = 'expired' WHERE status = 'open' AND expires_at <= ?", (_iso(now),)
            )
        return int(cur.rowcount)

    def leads(
        self, branch: str | None = None, status: str = "open", limit: int = 200
    ) -> list[dict[str, Any]]:
        """Leads, newest first, of one branch (or all) with the given status."""
        sql = "SELECT * FROM leads WHERE status = ?"
        args: list[Any] = [status]
        if branch is not None:
            sql += " AND branch = ?"
            args.append(branch)
        sql += " ORDER BY updated_at DESC, lead_id LIMIT ?"
        args.append(int(limit))
        with self._lock:
            cur = self._con.execute(sql, args)
            cols = [c[0] for c in cur.description]
            rows = cur.fetchall()
        out = []
        for r in rows:
            d = dict(zip(cols, r, strict=True))
            d["reasons"] = json.loads(d["reasons"])
            d["evidence_ids"] = json.loads(d["evidence_ids"])
            out.append(d)
        return out

    def branches(self) -> list[tuple[str, int]]:
        """(branch, open leads) for every branch with an open lead."""
        with self._lock:
            return [
                (str(b), int(n))
                for b, n in self._con.execute(
                    "SELECT branch, count(*) FROM leads WHERE status = 'open' GROUP BY branch ORDER BY 2 DESC, 1"
                ).fetchall()
            ]

    def close(self) -> None:
        """Close the connection."""
        self._con.close()
