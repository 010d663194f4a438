"""Data contracts: the pyarrow schema and row rules of every table that crosses a stage boundary.

Every stage reads and writes through these; `conform` checks a table against its contract when read.
Timestamps are UTC (`timestamp[us, tz=UTC]`); calendar days are `date32` in Korea time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from cdna.core.errors import SchemaError

__all__ = [
    "CALLS",
    "CAMPAIGN_MEMBERS",
    "OFFERS",
    "OFFER_OUTCOMES",
    "PARTNERS",
    "PARTNER_TELECOM",
    "PARTNER_TELECOM_FILE",
    "partner_contracts",
    "SOURCES",
    "SourceSpec",
    "source_spec",
    "CONTACTS",
    "CONTRACTS",
    "CUSTOMERS",
    "DECISION_ONLY",
    "FEATURE_SNAPSHOT",
    "HOLDINGS",
    "PRODUCTS",
    "RECOMMENDATIONS",
    "SIGNALS",
    "TRANSACTIONS",
    "TRANSCRIPTS",
    "TS",
    "WEB_EVENTS",
    "Contract",
    "conform",
    "contract",
    "read_table",
]

TS = pa.timestamp("us", tz="UTC")


@dataclass(frozen=True)
class Contract:
    """A table's written schema plus the row rules the validator enforces.

    Attributes:
        name: table name (also the raw folder name).
        schema: the pyarrow schema; nullable=False fields are required on every row.
        key: columns that identify a row. An import rejects a key repeated within its file and skips rows
            whose key the table already holds; readers of a raw table's parts keep one row per key, the
            earliest part's (`cdna.contracts.parts`, issue 15).
        enums: column -> allowed values.
        non_negative: numeric columns that may not be negative.
        open_columns: whether extra columns beyond the schema are allowed (feature snapshots).
        description: one line for docs and --help.
    """

    name: str
    schema: pa.Schema
    key: tuple[str, ...] = ()
    enums: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    non_negative: tuple[str, ...] = ()
    open_columns: bool = False
    description: str = ""

    @property
    def required(self) -> list[str]:
        """Columns that may not be null."""
        return [f.name for f in self.schema if not f.nullable]


def _s(*fields: pa.Field) -> pa.Schema:
    return pa.schema(list(fields))


def _req(name: str, typ: pa.DataType) -> pa.Field:
    return pa.field(name, typ, nullable=False)


def _opt(name: str, typ: pa.DataType) -> pa.Field:
    return pa.field(name, typ, nullable=True)


CUSTOMERS = Contract(
    "customers",
    _s(
        _req("customer_id", pa.string()),
        _req("birth_date", pa.date32()),
        _req("gender", pa.string()),
        _req("region_sido", pa.string()),
        _req("region_sigungu", pa.string()),
        _req("household", pa.string()),
        _req("income_band", pa.string()),
        _opt("occupation", pa.string()),
        _req("join_date", pa.date32()),
        _opt("ingested_at", TS),
        # issue 16: consent to marketing (None = unknown) and the assessed investor risk profile (투자성향)
        _opt("marketing_consent", pa.bool_()),
        _opt("risk_profile", pa.string()),
    ),
    key=("customer_id",),  # one row per customer across every part
    enums={
        "gender": ("F", "M"),
        "household": ("single", "couple", "couple_kids", "single_parent", "with_parents", "senior"),
        "income_band": ("none", "under_30m", "30_50m", "50_70m", "70_100m", "over_100m"),
        "risk_profile": ("stable", "conservative", "moderate", "active", "aggressive"),
    },
    description="one row per customer: demographics, join date, marketing consent, risk profile (no contact data)",
)

PRODUCTS = Contract(
    "products",
    _s(
        _req("product_id", pa.string()),
        _req("name", pa.string()),
        _req("family", pa.string()),
        _req("min_age", pa.int16()),
        _req("max_age", pa.int16()),
        _req("requires_income", pa.bool_()),
    ),
    key=("product_id",),  # one row per product
    description="the product catalogue as a table (from configs/products.yaml)",
)

HOLDINGS = Contract(
    "holdings",
    _s(
        _req("event_id", pa.string()),
        _req("customer_id", pa.string()),
        _req("product_id", pa.string()),
        _req("event", pa.string()),
        _req("ts", TS),
        _opt("channel", pa.string()),
        _opt("ingested_at", TS),
    ),
    key=("event_id",),  # one row per open/close event
    enums={"event": ("open", "close")},
    description="dated product open/close events; holdings at a time are the opens not yet closed",
)

TRANSACTIONS = Contract(
    "transactions",
    _s(
        _req("txn_id", pa.string()),
        _req("customer_id", pa.string()),
        _req("ts", TS),
        _req("amount", pa.float64()),
        _req("direction", pa.string()),
        _opt("memo", pa.string()),
        _opt("merchant", pa.string()),
        _opt("channel", pa.string()),
        _opt("ingested_at", TS),
    ),
    key=("txn_id",),  # one row per transaction id across every import
    enums={"direction": ("in", "out")},
    description="account and card transactions in KRW with memo (적요) and merchant; amount < 0 = refund",
)

WEB_EVENTS = Contract(
    "web_events",
    _s(
        _req("event_id", pa.string()),
        _req("customer_id", pa.string()),
        _req("ts", TS),
        _req("channel", pa.string()),
        _req("page_category", pa.string()),
        _opt("session_id", pa.string()),
        _opt("dwell_s", pa.float64()),
        _opt("ingested_at", TS),
    ),
    key=("event_id",),  # one row per page view
    enums={"channel": ("web", "app")},
    non_negative=("dwell_s",),
    description="web and app page views by page category (대출금리조회, 카드혜택 …)",
)

CONTACTS = Contract(
    "contacts",
    _s(
        _req("customer_id", pa.string()),
        _req("name", pa.string()),
        _req("phone", pa.string()),
        _req("updated_at", TS),
        _opt("ingested_at", TS),
    ),
    key=("customer_id",),  # one row per customer: the latest contact details
    description=(
        "personal data (issue 18): Korean name and mobile phone per customer, raw zone only (owner-only files); "
        "read by the staff search alone, which answers masked (김*수, 010-****-1234); never a feature, "
        "never in the analyst sandbox"
    ),
)

CALLS = Contract(
    "calls",
    _s(
        _req("call_id", pa.string()),
        _opt("customer_id", pa.string()),
        _req("started_at", TS),
        _req("duration_s", pa.float64()),
        _opt("audio_path", pa.string()),
        _req("channel_layout", pa.string()),
        _opt("agent_id", pa.string()),
        _opt("queue", pa.string()),
    ),
    key=("call_id",),  # one manifest row per call
    enums={"channel_layout": ("stereo_agent_left", "stereo_agent_right", "mono", "none")},
    non_negative=("duration_s",),
    description="calls manifest: one row per call; audio_path relative to the lake (or absolute)",
)

TRANSCRIPTS = Contract(
    "transcripts",
    _s(
        _req("call_id", pa.string()),
        _opt("customer_id", pa.string()),
        _opt("started_at", TS),
        _req("channel", pa.int16()),
        _req("speaker", pa.string()),
        _req("segment_index", pa.int32()),
        _req("start_s", pa.float64()),
        _req("end_s", pa.float64()),
        _req("text", pa.string()),
        _opt("avg_logprob", pa.float64()),
        _opt("no_speech_prob", pa.float64()),
        _req("model_id", pa.string()),
        _req("pipeline_version", pa.string()),
    ),
    key=("call_id", "channel", "segment_index", "model_id"),
    enums={"speaker": ("agent", "customer", "unknown")},
    non_negative=("start_s", "end_s"),
    description="ASR segments with speaker role and timings (UNMASKED: read by nlp only)",
)

SIGNALS = Contract(
    "signals",
    _s(
        _req("customer_id", pa.string()),
        _req("ts", TS),
        _req("source", pa.string()),
        _req("source_id", pa.string()),
        _req("kind", pa.string()),
        _req("label", pa.string()),
        _req("score", pa.float64()),
        _opt("evidence", pa.string()),
        _req("model_version", pa.string()),
    ),
    enums={"source": ("call", "memo", "web"), "kind": ("intent", "interest", "complaint")},
    description="masked evidence of intents, interests and complaints, one row per (source item, label)",
)

# Snapshot columns kept for the decision policy (issue 16), never model inputs: consent and the risk profile
# decide whether an offer may be made, not how likely it is to be taken.
DECISION_ONLY: frozenset[str] = frozenset({"marketing_consent", "risk_profile"})

FEATURE_SNAPSHOT = Contract(
    "feature_snapshot",
    _s(
        _req("customer_id", pa.string()),
        _req("as_of", pa.date32()),
    ),
    key=("customer_id", "as_of"),
    open_columns=True,
    description="one row per (customer, as_of) with point-in-time features; extra columns are features",
)

RECOMMENDATIONS = Contract(
    "recommendations",
    _s(
        _req("customer_id", pa.string()),
        _req("as_of", pa.date32()),
        _req("rank", pa.int16()),
        _req("product_id", pa.string()),
        _req("score", pa.float64()),
        _req("reasons", pa.list_(pa.string())),
        _opt("evidence_ids", pa.list_(pa.string())),
        _req("model_version", pa.string()),
    ),
    key=("customer_id", "as_of", "rank"),
    description="top-k products per customer with Korean reasons and evidence ids",
)

OFFERS = Contract(
    "offers",
    _s(
        _req("offer_id", pa.string()),
        _req("customer_id", pa.string()),
        _req("product_id", pa.string()),
        _req("rank", pa.int16()),
        _opt("score", pa.float64()),
        _req("model_version", pa.string()),
        _req("channel", pa.string()),
        _opt("purpose", pa.string()),
        _req("shown_at", TS),
        _opt("as_of", pa.date32()),
        _opt("campaign", pa.string()),
        _req("reasons", pa.list_(pa.string())),
        _opt("staff", pa.string()),
    ),
    key=("offer_id",),
    enums={"channel": ("console", "api", "campaign", "app")},
    description="every recommendation that reached a person: what, to whom, by which model, when, why (issue 17)",
)

OFFER_OUTCOMES = Contract(
    "offers_outcomes",
    _s(
        _req("offer_id", pa.string()),
        _req("outcome", pa.string()),
        _opt("recorded_at", TS),
        _opt("channel", pa.string()),
        _opt("recorded_by", pa.string()),
    ),
    key=("offer_id",),
    enums={"outcome": ("accepted", "declined", "not_interested", "call_back")},
    description="what the customer answered to an offer (console, API or a channel's response file)",
)

CAMPAIGN_MEMBERS = Contract(
    "campaign_members",
    _s(
        _req("campaign", pa.string()),
        _req("customer_id", pa.string()),
        _req("product_id", pa.string()),
        _req("as_of", pa.date32()),
        _req("group", pa.string()),
        _req("target_rank", pa.int32()),
        _req("score", pa.float64()),
        _opt("product_rank", pa.int16()),
        _opt("offer_id", pa.string()),
        _opt("segment_id", pa.int16()),
        _opt("segment_name", pa.string()),
        _opt("type_id", pa.int16()),
        _opt("type_name", pa.string()),
        _opt("type_source", pa.string()),
    ),
    key=("campaign", "customer_id"),
    enums={"group": ("treated", "control")},
    description="a campaign's targets: treated (offered) and the random control group (never contacted)",
)

_TELECOM_ENUMS = {
    "data_band": ("low", "mid", "high", "unlimited"),
    "plan_band": ("budget", "standard", "premium"),
}

PARTNER_TELECOM_FILE = Contract(
    "partner_telecom_file",
    _s(
        _req("pseudonym", pa.string()),
        _req("month", pa.date32()),
        _req("data_band", pa.string()),
        _opt("roaming_days", pa.int16()),
        _opt("plan_band", pa.string()),
    ),
    key=("pseudonym", "month"),
    enums=_TELECOM_ENUMS,
    non_negative=("roaming_days",),
    description="a telecom partner's monthly usage bands as delivered: keyed by HMAC pseudonyms, no customer id",
)

PARTNER_TELECOM = Contract(
    "partner_telecom",
    _s(
        _req("customer_id", pa.string()),
        _req("ts", TS),
        _req("month", pa.date32()),
        _req("data_band", pa.string()),
        _opt("roaming_days", pa.int16()),
        _opt("plan_band", pa.string()),
        _req("record_id", pa.string()),
        _opt("linked_at", TS),
    ),
    key=("record_id",),
    enums=_TELECOM_ENUMS,
    non_negative=("roaming_days",),
    description="the telecom partner's rows linked to customers (raw/partner_telecom/); ts = the month's last instant",
)

# partner name -> (the file as delivered, the linked raw table): `cdna link import NAME FILE` (issue 14)
PARTNERS: dict[str, tuple[Contract, Contract]] = {"telecom": (PARTNER_TELECOM_FILE, PARTNER_TELECOM)}


def partner_contracts(name: str) -> tuple[Contract, Contract]:
    """The delivered and linked contracts of a partner, or a SchemaError naming the known partners."""
    try:
        return PARTNERS[name]
    except KeyError:
        raise SchemaError(
            f"unknown partner {name!r}", hint=f"known partners: {', '.join(PARTNERS)}"
        ) from None


CONTRACTS: dict[str, Contract] = {
    c.name: c
    for c in (
        CUSTOMERS,
        PRODUCTS,
        HOLDINGS,
        TRANSACTIONS,
        WEB_EVENTS,
        CALLS,
        CONTACTS,
        TRANSCRIPTS,
        SIGNALS,
        FEATURE_SNAPSHOT,
        RECOMMENDATIONS,
        OFFER_OUTCOMES,
    )
}


@dataclass(frozen=True)
class SourceSpec:
    """What the feature views read from one table: a projection of its contract, never a second schema.

    Attributes:
        name: table name (matched against folder and file names).
        ts: event-time column in the files (exposed as `ts`), or None.
        required: column -> type family ("str", "num", "bool", "time", "date"): non-nullable in the contract.
        optional: column -> (type family, SQL default when absent): nullable in the contract.
        id_column: event id (or comma-separated key columns) used to detect duplicates (when present).
    """

    name: str
    ts: str | None
    required: dict[str, str]
    optional: dict[str, tuple[str, str]] = field(default_factory=dict)
    id_column: str | None = None


INGESTED_AT = pa.field("ingested_at", TS, nullable=True)


def _family(typ: pa.DataType) -> str:
    if pa.types.is_timestamp(typ):
        return "time"
    if pa.types.is_date(typ):
        return "date"
    if pa.types.is_integer(typ) or pa.types.is_floating(typ) or pa.types.is_decimal(typ):
        return "num"
    if pa.types.is_boolean(typ):
        return "bool"
    return "str"


def source_spec(
    spec: Contract, ts: str | None, columns: tuple[str, ...], id_column: str | None
) -> SourceSpec:
    """The feature store's view of a contract: the named columns, typed and required as the contract says."""
    # Every source may carry the import time; point-in-time joins ignore rows imported after the cut-off.
    fields = {INGESTED_AT.name: INGESTED_AT, **{f.name: f for f in spec.schema}}
    columns = (*columns, INGESTED_AT.name) if INGESTED_AT.name not in columns else columns
    unknown = [c for c in columns if c not in fields]
    if unknown:
        raise SchemaError(f"source {spec.name}: columns {unknown} are not in the {spec.name} contract")
    return SourceSpec(
        spec.name,
        ts,
        {c: _family(fields[c].type) for c in columns if not fields[c].nullable},
        {c: (_family(fields[c].type), "NULL") for c in columns if fields[c].nullable},
        id_column,
    )


_CUSTOMER_COLS = (
    "customer_id",
    "birth_date",
    "gender",
    "region_sido",
    "household",
    "income_band",
    "occupation",
    "marketing_consent",
    "risk_profile",
)
SOURCES: dict[str, SourceSpec] = {
    s.name: s
    for s in (
        source_spec(CUSTOMERS, None, (*_CUSTOMER_COLS, "join_date"), "customer_id"),
        source_spec(
            TRANSACTIONS,
            "ts",
            ("customer_id", "ts", "amount", "txn_id", "direction", "memo", "merchant"),
            "txn_id",
        ),
        source_spec(
            HOLDINGS,
            "ts",
            ("customer_id", "ts", "product_id", "event", "event_id"),
            "event_id",
        ),
        source_spec(
            WEB_EVENTS,
            "ts",
            ("customer_id", "ts", "page_category", "event_id", "channel"),
            "event_id",
        ),
        source_spec(CALLS, "started_at", ("customer_id", "started_at", "call_id"), "call_id"),
        source_spec(
            PARTNER_TELECOM,
            "ts",
            ("customer_id", "ts", "month", "data_band", "roaming_days", "plan_band", "record_id"),
            "record_id",
        ),
        source_spec(
            SIGNALS,
            "ts",
            ("customer_id", "ts", "source", "source_id", "kind", "label", "score"),
            "source, source_id, kind, label",
        ),
    )
}


def contract(name: str) -> Contract:
    """The contract named `name`, or a SchemaError listing the known tables."""
    try:
        return CONTRACTS[name]
    except KeyError:
        raise SchemaError(f"unknown table {name!r}", hint=f"known tables: {', '.join(CONTRACTS)}") from None


def conform(table: pa.Table, spec: Contract, source: str = "table") -> pa.Table:
    """Check `table` against `spec`; return it cast to the contract (column order, types).

    Raises SchemaError naming `source` and the column when a column is missing, cannot be cast,
    or a required column holds nulls.
    """
    missing = [f.name for f in spec.schema if f.name not in table.column_names and not f.nullable]
    if missing:
        raise SchemaError(
            f"{source}: missing required column(s) {missing} for table {spec.name!r}",
            hint=f"{spec.name} needs: {', '.join(spec.required)}",
        )
    columns: list[pa.Array | pa.ChunkedArray] = []
    fields: list[pa.Field] = []
    for f in spec.schema:
        if f.name in table.column_names:
            col = table.column(f.name)
            if not col.type.equals(f.type):
                try:
                    col = col.cast(f.type)
                except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
                    raise SchemaError(
                        f"{source}: column {f.name!r} has type {col.type}, cannot be read as {f.type} ({exc})"
                    ) from exc
            if not f.nullable and col.null_count:
                raise SchemaError(f"{source}: required column {f.name!r} has {col.null_count} null value(s)")
        else:
            col = pa.nulls(table.num_rows, f.type)
        columns.append(col)
        fields.append(f)
    if spec.open_columns:
        for name in table.column_names:
            if name not in spec.schema.names:
                columns.append(table.column(name))
                fields.append(table.schema.field(name))
    return pa.Table.from_arrays(columns, schema=pa.schema(fields))


def read_table(path: Path, spec: Contract) -> pa.Table:
    """Read a Parquet file or folder of Parquet files and conform it to `spec`."""
    if not path.exists():
        raise SchemaError(f"{path}: not found (expected table {spec.name!r})")
    try:
        table = pq.read_table(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise SchemaError(f"{path}: not a readable Parquet table ({exc})") from exc
    return conform(table, spec, str(path))
