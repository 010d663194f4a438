"""Events as they happen: finished-call signals, page views, transactions and product opens (issue #16).

An event is checked on its own (`parse_events` keeps the good ones and names the index and field of each bad
one), then turned into rows of the source tables the feature store already reads (`event_tables`): a call
becomes a `calls` row plus its `signals`, a page view a `web_events` row, and so on. Written under
`LAKE/events/date=D/<table>/`, those rows are found by the nightly feature snapshot like any raw file, so the
batch and the online path read the very same rows (no training/serving skew).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

import pyarrow as pa
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator

from cdna.contracts.schemas import CALLS, HOLDINGS, SIGNALS, TRANSACTIONS, WEB_EVENTS, conform
from cdna.core.lake import atomic_write_parquet

__all__ = [
    "CallEvent",
    "Event",
    "EventProblem",
    "IntentScore",
    "MAX_BATCH",
    "PageViewEvent",
    "ProductEvent",
    "TransactionEvent",
    "append_events",
    "event_day",
    "event_tables",
    "parse_events",
]

MAX_BATCH = 1_000
_ID = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$"


class _Event(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    event_id: str = Field(pattern=_ID, description="globally unique; a repeated id is applied once")
    customer_id: str = Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")
    ts: datetime = Field(description="when it happened, ISO 8601 with a UTC offset")

    @field_validator("ts")
    @classmethod
    def _aware_and_past(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("needs a UTC offset, e.g. 2025-07-01T10:00:00+09:00")
        value = value.astimezone(UTC)
        # the feature store drops events from the future; refuse them here so the sender learns of it
        if value > datetime.now(UTC) + timedelta(minutes=5):
            raise ValueError("is in the future")
        return value


class IntentScore(BaseModel):
    """One intent a call was classified with."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    label: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    score: float = Field(ge=0, le=1)


class CallEvent(_Event):
    """A finished call with its NLP signals (masked evidence only)."""

    type: Literal["call"]
    intents: list[IntentScore] = Field(default_factory=list, max_length=10)
    complaint: float | None = Field(None, ge=0, le=1, description="complaint score, when above threshold")
    duration_s: float = Field(0.0, ge=0)
    evidence: str | None = Field(None, max_length=500, description="masked excerpt cited by reasons")
    model_version: str = Field("events", max_length=64)


class PageViewEvent(_Event):
    """A web or app page view by page category (대출금리조회, 전세대출 …)."""

    type: Literal["page_view"]
    channel: Literal["web", "app"]
    page_category: str = Field(min_length=1, max_length=64)
    session_id: str | None = Field(None, max_length=128)
    dwell_s: float | None = Field(None, ge=0)


class TransactionEvent(_Event):
    """An account or card transaction in KRW."""

    type: Literal["transaction"]
    amount: float
    direction: Literal["in", "out"]
    memo: str | None = Field(None, max_length=200)
    merchant: str | None = Field(None, max_length=200)
    channel: str | None = Field(None, max_length=32)


class ProductEvent(_Event):
    """A product opened or closed."""

    type: Literal["product_open", "product_close"]
    product_id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    channel: str | None = Field(None, max_length=32)


Event = Annotated[CallEvent | PageViewEvent | TransactionEvent | ProductEvent, Field(discriminator="type")]
_ADAPTER: TypeAdapter[Any] = TypeAdapter(Event)


@dataclass(frozen=True)
class EventProblem:
    """Why one event of a batch was refused.

    Attributes:
        index: position in the batch (0-based).
        field: dotted field path ("ts", "intents.0.label"; "" for the event as a whole).
        message: what is wrong, in English.
        event_id: the event's id when it had a readable one.
    """

    index: int
    field: str
    message: str
    event_id: str | None = None


def parse_events(
    raw: Sequence[Any], products: set[str], intents: set[str]
) -> tuple[list[tuple[int, Any]], list[EventProblem]]:
    """Check each event on its own: (index, event) for the good ones, one EventProblem per bad one.

    `products` and `intents` are the catalogue and taxonomy ids events may name.
    """
    good: list[tuple[int, Any]] = []
    bad: list[EventProblem] = []
    seen: dict[str, int] = {}
    for i, item in enumerate(raw):
        eid = item.get("event_id") if isinstance(item, dict) else None
        eid = eid if isinstance(eid, str) else None
        try:
            ev = _ADAPTER.validate_python(item)
        except ValidationError as exc:
            err = exc.errors()[0]
            loc = [str(p) for p in err["loc"]]
            if loc and loc[0] in ("call", "page_view", "transaction", "product_open", "product_close"):
                loc = loc[1:]  # the discriminator's branch name is no field of the event
            msg = err["msg"] if err["type"] != "extra_forbidden" else "unknown field"
            if err["type"].startswith("union_tag"):  # a missing or unknown `type`
                loc = ["type"]
            bad.append(EventProblem(i, ".".join(loc), msg, eid))
            continue
        problem = _check_names(ev, products, intents)
        if problem is not None:
            bad.append(EventProblem(i, problem[0], problem[1], ev.event_id))
            continue
        if ev.event_id in seen:
            continue  # the same id twice in one batch counts once, like a redelivery
        seen[ev.event_id] = i
        good.append((i, ev))
    return good, bad


def _check_names(ev: Any, products: set[str], intents: set[str]) -> tuple[str, str] | None:
    if isinstance(ev, ProductEvent) and ev.product_id not in products:
        return "product_id", f"unknown product {ev.product_id!r} (see configs/products.yaml)"
    if isinstance(ev, CallEvent):
        for j, it in enumerate(ev.intents):
            if it.label not in intents:
                return f"intents.{j}.label", f"unknown intent {it.label!r} (see configs/intents.yaml)"
    return None


def event_day(ev: Any, timezone: str = "Asia/Seoul") -> date:
    """The calendar day (Korea time) an event belongs to."""
    return ev.ts.astimezone(ZoneInfo(timezone)).date()  # type: ignore[no-any-return]


def event_tables(events: Sequence[Any]) -> dict[str, pa.Table]:
    """Rows of the source tables (calls, signals, web_events, transactions, holdings) for `events`.

    Only tables that get rows are returned; each conforms to its contract in cdna.contracts.schemas.
    """
    cols: dict[str, dict[str, list[Any]]] = {
        name: {f.name: [] for f in c.schema}
        for name, c in (
            ("calls", CALLS),
            ("signals", SIGNALS),
            ("web_events", WEB_EVENTS),
            ("transactions", TRANSACTIONS),
            ("holdings", HOLDINGS),
        )
    }

    def add(table: str, **values: Any) -> None:
        for name, column in cols[table].items():
            column.append(values.get(name))

    for ev in events:
        if isinstance(ev, CallEvent):
            add(
                "calls",
                call_id=ev.event_id,
                customer_id=ev.customer_id,
                started_at=ev.ts,
                duration_s=ev.duration_s,
                channel_layout="none",
            )
            for it in ev.intents:
                add(
                    "signals",
                    customer_id=ev.customer_id,
                    ts=ev.ts,
                    source="call",
                    source_id=ev.event_id,
                    kind="intent",
                    label=it.label,
                    score=it.score,
                    evidence=ev.evidence,
                    model_version=ev.model_version,
                )
            if ev.complaint is not None:
                add(
                    "signals",
                    customer_id=ev.customer_id,
                    ts=ev.ts,
                    source="call",
                    source_id=ev.event_id,
                    kind="complaint",
                    label="complaint",
                    score=ev.complaint,
                    evidence=ev.evidence,
                    model_version=ev.model_version,
                )
        elif isinstance(ev, PageViewEvent):
            add(
                "web_events",
                event_id=ev.event_id,
                customer_id=ev.customer_id,
                ts=ev.ts,
                channel=ev.channel,
                page_category=ev.page_category,
                session_id=ev.session_id,
                dwell_s=ev.dwell_s,
            )
        elif isinstance(ev, TransactionEvent):
            add(
                "transactions",
                txn_id=ev.event_id,
                customer_id=ev.customer_id,
                ts=ev.ts,
                amount=ev.amount,
                direction=ev.direction,
                memo=ev.memo,
                merchant=ev.merchant,
                channel=ev.channel,
            )
        else:
            add(
                "holdings",
                event_id=ev.event_id,
                customer_id=ev.customer_id,
                product_id=ev.product_id,
                event="open" if ev.type == "product_open" else "close",
                ts=ev.ts,
                channel=ev.channel,
            )
    contracts = {"calls": CALLS, "signals": SIGNALS, "web_events": WEB_EVENTS}
    contracts |= {"transactions": TRANSACTIONS, "holdings": HOLDINGS}
    out = {}
    for name, data in cols.items():
        if data[next(iter(data))]:
            c = contracts[name]
            out[name] = conform(pa.Table.from_pydict(data, schema=c.schema), c, f"event batch ({name})")
    return out


def append_events(folder: Path, tables: dict[str, pa.Table], day: date) -> list[Path]:
    """Write each table as a new Parquet part under `folder/date=D/<table>/` (atomic; never rewrites)."""
    batch = uuid.uuid4().hex[:12]
    paths = []
    for name, table in tables.items():
        path = folder / f"date={day}" / name / f"part-{batch}.parquet"
        paths.append(atomic_write_parquet(table, path))
    return paths
