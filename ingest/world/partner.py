"""The synthetic bank's partner: a telecom operator that delivers monthly usage bands keyed by pseudonyms.

Its subscribers are a share of the bank's customers plus people the bank does not know. The file uses the
operator's own column names and codes (pseudo_id, yyyymm, data_usage LOW…UNLIMITED, plan_tier), so the
import goes through a column map, as a real delivery would. Pure: tables in, tables out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pyarrow as pa

from cdna.core.secrets import SecretKey
from cdna.ingest.linkage import pseudonymize

__all__ = ["PartnerDelivery", "draw_telecom_delivery"]

_DATA = np.array(["LOW", "MID", "HIGH", "UNLIMITED"])
_PLAN = np.array(["BUDGET", "STANDARD", "PREMIUM"])


@dataclass(frozen=True)
class PartnerDelivery:
    """What the partner sends, and the truth the world keeps about it.

    Attributes:
        table: the delivered rows (pseudo_id, yyyymm, data_usage, roaming_days, plan_tier).
        members: bank customer ids that have rows in it (ground truth for the linkage test).
        outsiders: subscribers who are not bank customers (their rows must never link).
    """

    table: pa.Table
    members: pa.Table
    outsiders: int


def _months(end: date, n: int) -> list[str]:
    out, y, m = [], end.year, end.month
    for _ in range(n):
        out.append(f"{y:04d}{m:02d}")
        y, m = (y - 1, 12) if m == 1 else (y, m - 1)
    return out[::-1]


def draw_telecom_delivery(
    rng: np.random.Generator,
    customer_ids: np.ndarray,
    birth_years: np.ndarray,
    end: date,
    key: SecretKey,
    share: float = 0.55,
    outsider_share: float = 0.2,
    months: int = 6,
) -> PartnerDelivery:
    """Usage bands for the last `months` full months before `end`, for `share` of the customers and outsiders."""
    last_full = date(end.year - (end.month == 1), 12 if end.month == 1 else end.month - 1, 1)
    if end.day == _month_len(end):  # the end date closes its month: that month is complete too
        last_full = date(end.year, end.month, 1)
    periods = _months(last_full, months)
    is_member = rng.random(len(customer_ids)) < share
    ids = customer_ids[is_member]
    young = (end.year - birth_years[is_member]) < 35
    n_out = int(round(len(ids) * outsider_share))
    outsider_ids = np.array([f"X{i:07d}" for i in range(n_out)], dtype=object)
    all_ids = np.concatenate([ids.astype(object), outsider_ids])
    young = np.concatenate([young, rng.random(n_out) < 0.4])
    pseudo = np.array(pseudonymize(list(all_ids), key).to_pylist(), dtype=object)
    # Subscribers join at some month; a heavy user stays heavy (their band drifts by at most one step).
    first = rng.integers(0, months, len(all_ids)) * (rng.random(len(all_ids)) < 0.25)
    base = np.clip(rng.normal(np.where(young, 2.2, 1.2), 0.8), 0, 3).round().astype(int)
    plan = np.clip(base // 2 + (rng.random(len(all_ids)) < 0.3), 0, 2)
    traveller = rng.random(len(all_ids)) < 0.15
    rows: dict[str, list] = {
        "pseudo_id": [],
        "yyyymm": [],
        "data_usage": [],
        "roaming_days": [],
        "plan_tier": [],
    }
    for j, period in enumerate(periods):
        active = np.nonzero(first <= j)[0]
        band = np.clip(
            base[active] + rng.integers(-1, 2, len(active)) * (rng.random(len(active)) < 0.2), 0, 3
        )
        roaming = np.where(
            traveller[active] & (rng.random(len(active)) < 0.3), rng.integers(2, 12, len(active)), 0
        )
        rows["pseudo_id"] += list(pseudo[active])
        rows["yyyymm"] += [period] * len(active)
        rows["data_usage"] += list(_DATA[band])
        rows["roaming_days"] += [int(x) for x in roaming]
        rows["plan_tier"] += list(_PLAN[plan[active]])
    order = np.argsort(np.array(rows["pseudo_id"], dtype=object), kind="stable")  # the partner's own order
    table = pa.table(
        {
            "pseudo_id": pa.array(np.array(rows["pseudo_id"], dtype=object)[order], pa.string()),
            "yyyymm": pa.array(np.array(rows["yyyymm"], dtype=object)[order], pa.string()),
            "data_usage": pa.array(np.array(rows["data_usage"], dtype=object)[order], pa.string()),
            "roaming_days": pa.array(np.array(rows["roaming_days"])[order], pa.int32()),
            "plan_tier": pa.array(np.array(rows["plan_tier"], dtype=object)[order], pa.string()),
        }
    )
    members = pa.table({"customer_id": pa.array(sorted(str(i) for i in ids), pa.string())})
    return PartnerDelivery(table, members, n_out)


def _month_len(d: date) -> int:
    nxt = date(d.year + (d.month == 12), d.month % 12 + 1, 1)
    return (nxt - date(d.year, d.month, 1)).days
