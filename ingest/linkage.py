"""Pseudonymised partner linkage (issue #14 item 5): keyed pseudonyms, linking a partner's table, k-anonymous reports.

The pilot (telecom × retail) works as the Korean pseudonymised-data rules describe: the bank and the
partner compute the same keyed pseudonym, HMAC-SHA256(key, id) in lowercase hex, from an identifier both
hold, with a key that a linkage institution hands to both and that never enters the lake. The bank exports
its pseudonym list (`cdna link export`); the partner delivers its table keyed by pseudonyms; the bank maps
the pseudonyms of its own customers back (`cdna link import`) and everything else stays unlinkable. Reports
that leave the bank are aggregates in which every cell counts at least k customers; smaller cells are
suppressed and counted (`cdna link report`).

Pure functions: tables in, tables out. The CLI reads files and the key and writes the results.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cdna.contracts.schemas import Contract, conform
from cdna.core.errors import CdnaError
from cdna.core.secrets import SecretKey

__all__ = [
    "KAnonymousReport",
    "LinkOptions",
    "LinkResult",
    "WrongLinkKeyError",
    "k_anonymous_counts",
    "key_list",
    "link_partner",
    "pseudonymize",
    "report_rows",
]


class WrongLinkKeyError(CdnaError):
    """Not one pseudonym of the partner's file matches a customer: the keys differ; nothing was linked."""

    exit_code = 1


@dataclass(frozen=True)
class LinkOptions:
    """How pseudonyms are made and reports are protected.

    Attributes:
        id_column: the customers column both parties hold (pseudonymised with the key).
        k: smallest number of customers a reported cell may count (k-anonymity).
        timezone: zone of the partner's months (a month's figures count from the end of that month).
    """

    id_column: str = "customer_id"
    k: int = 5
    timezone: str = "Asia/Seoul"


@dataclass(frozen=True)
class LinkResult:
    """What linking a partner's table gave.

    Attributes:
        linked: the rows of matched customers, keyed by customer id (the raw partner table's contract).
        partner_rows / partner_ids: rows and distinct pseudonyms in the partner's table.
        linked_rows / linked_customers: rows and customers matched.
        unmatched_ids: partner pseudonyms that match no customer (not the bank's, or another key).
    """

    linked: pa.Table
    partner_rows: int
    partner_ids: int
    linked_rows: int
    linked_customers: int
    unmatched_ids: int

    @property
    def match_rate(self) -> float:
        """Share of the partner's pseudonyms that matched a customer."""
        return self.linked_customers / self.partner_ids if self.partner_ids else 0.0


@dataclass(frozen=True)
class KAnonymousReport:
    """Aggregates safe to hand out: every cell counts at least k customers.

    Attributes:
        cells: one row per released cell (the `by` columns, `customers`, and the measures' means).
        k: the threshold used.
        suppressed_cells: cells withheld because they counted fewer than k customers.
        suppressed_customers: customers in those cells.
    """

    cells: pa.Table
    k: int
    suppressed_cells: int
    suppressed_customers: int


def pseudonymize(ids: pa.Array | pa.ChunkedArray | list[str], key: SecretKey) -> pa.Array:
    """HMAC-SHA256(key, id as UTF-8) in lowercase hex for each id (null stays null)."""
    values = ids.to_pylist() if isinstance(ids, pa.Array | pa.ChunkedArray) else list(ids)
    k = key.material
    return pa.array(
        [
            None if v is None else hmac.new(k, str(v).encode("utf-8"), hashlib.sha256).hexdigest()
            for v in values
        ],
        pa.string(),
    )


def key_list(customers: pa.Table, key: SecretKey, opts: LinkOptions | None = None) -> pa.Table:
    """The pseudonym of every customer, sorted (the order tells nothing), for the linkage institution."""
    opts = opts or LinkOptions()
    ids = pc.unique(customers.column(opts.id_column).drop_null())
    pseudo = pseudonymize(ids, key)
    return pa.table({"pseudonym": pc.take(pseudo, pc.sort_indices(pseudo))})


def _month_end_ts(months: pa.ChunkedArray | pa.Array, tz: str) -> pa.Array:
    """The last instant of each month (Korea time): the figures count for an as-of on the month's last day."""
    zone = ZoneInfo(tz)
    out = []
    for m in months.to_pylist():
        nxt = date(m.year + (m.month == 12), m.month % 12 + 1, 1)
        out.append(datetime.combine(nxt, time.min, zone) - timedelta(microseconds=1))
    return pa.array(out, pa.timestamp("us", tz="UTC"))


def link_partner(
    partner: pa.Table,
    customers: pa.Table,
    key: SecretKey,
    linked_spec: Contract,
    partner_name: str,
    linked_at: datetime,
    opts: LinkOptions | None = None,
) -> LinkResult:
    """Map the partner's pseudonyms to customers with `key`; rows of other people are dropped and counted.

    `partner` is the validated delivery (column `pseudonym`, `month`, the partner's attributes). The result
    conforms to `linked_spec` (customer_id, ts = the month's last instant, record_id, the attributes). Raises
    WrongLinkKeyError when nothing matches: with the wrong key every pseudonym is another person's.
    """
    opts = opts or LinkOptions()
    ids = pc.unique(customers.column(opts.id_column).drop_null())
    lookup = pa.table({"pseudonym": pseudonymize(ids, key), "customer_id": ids.cast(pa.string())})
    joined = partner.join(lookup, "pseudonym", join_type="inner")
    partner_ids = len(pc.unique(partner.column("pseudonym")))
    if partner.num_rows and joined.num_rows == 0:
        raise WrongLinkKeyError(
            f"none of the {partner_ids:,} pseudonyms in the {partner_name} file matches any of the "
            f"{len(ids):,} customers with the link key {key.key_id} ({key.source}); nothing was linked",
            hint="the partner used another key: ask the linkage institution which key this delivery was made with",
        )
    joined = joined.sort_by([("customer_id", "ascending"), ("month", "ascending")])
    n = joined.num_rows
    record_id = pc.binary_join_element_wise(
        pa.array([partner_name] * n, pa.string()),
        joined.column("customer_id"),
        joined.column("month").cast(pa.string()),
        ":",
    )
    linked = joined.drop_columns(["pseudonym"])
    linked = linked.append_column("ts", _month_end_ts(joined.column("month"), opts.timezone))
    linked = linked.append_column("record_id", record_id)
    linked = linked.append_column("linked_at", pa.array([linked_at] * n, pa.timestamp("us", tz="UTC")))
    linked_customers = len(pc.unique(joined.column("customer_id"))) if n else 0
    return LinkResult(
        conform(linked, linked_spec, f"{partner_name} linked rows"),
        partner.num_rows,
        partner_ids,
        n,
        linked_customers,
        partner_ids - linked_customers,
    )


def _age_band(birth: date | None, as_of: date) -> str | None:
    if birth is None:
        return None
    age = as_of.year - birth.year - ((as_of.month, as_of.day) < (birth.month, birth.day))
    return "under_20" if age < 20 else "70_plus" if age >= 70 else f"{age // 10 * 10}s"


def report_rows(linked: pa.Table, customers: pa.Table) -> pa.Table:
    """Each linked customer's latest partner month with their bank attributes (age band then, region …)."""
    latest = (
        linked.group_by("customer_id").aggregate([("month", "max")]).rename_columns(["customer_id", "month"])
    )
    rows = linked.join(latest, ["customer_id", "month"], join_type="inner")
    keep = [
        c
        for c in ("customer_id", "birth_date", "gender", "region_sido", "household", "income_band")
        if c in customers.column_names
    ]
    rows = rows.join(customers.select(keep), "customer_id", join_type="left outer")
    if "birth_date" in rows.column_names:
        bands = [
            _age_band(b, m)
            for b, m in zip(
                rows.column("birth_date").to_pylist(), rows.column("month").to_pylist(), strict=True
            )
        ]
        rows = rows.drop_columns(["birth_date"]).append_column("age_band", pa.array(bands, pa.string()))
    return rows


def k_anonymous_counts(
    rows: pa.Table, by: list[str], k: int = 5, measures: tuple[str, ...] = ()
) -> KAnonymousReport:
    """Distinct customers (and measure means) per combination of `by`; cells under k customers suppressed."""
    if k < 2:
        raise ValueError("k-anonymity needs k >= 2")
    missing = [c for c in (*by, *measures) if c not in rows.column_names]
    if missing:
        raise KeyError(f"no column(s) {missing}; available: {', '.join(rows.column_names)}")
    aggs = [("customer_id", "count_distinct"), *[(m, "mean") for m in measures]]
    grouped = rows.group_by(list(by)).aggregate(aggs)
    names = {"customer_id_count_distinct": "customers", **{f"{m}_mean": f"{m}_mean" for m in measures}}
    grouped = grouped.rename_columns([names.get(c, c) for c in grouped.column_names])
    counts = grouped.column("customers").to_numpy()
    small = counts < k
    cells = grouped.filter(pa.array(~small)).sort_by([(c, "ascending") for c in by])
    return KAnonymousReport(cells, k, int(small.sum()), int(np.asarray(counts)[small].sum()))
