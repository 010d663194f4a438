"""Offers and their outcomes as tables: ids, conversions within the horizon, and training signal (issue 17).

An *offer* is one recommendation that reached a person — a console view, an API answer given for
counseling, a campaign or the app, a campaign export — with what was shown. Its *outcome* is what the
customer answered (accepted, declined, not interested, call back); its *conversion* is an open of the
offered product within the horizon after it was shown. All functions here are pure (tables in, tables
out); `cdna.recommend.offer_log` stores them.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime

import numpy as np
import pandas as pd
import pyarrow as pa

from cdna.contracts.schemas import OFFERS, conform
from cdna.core.errors import CdnaError

__all__ = [
    "CHANNELS",
    "FINAL_OUTCOMES",
    "OUTCOMES",
    "PURPOSE_CHANNELS",
    "LoopOptions",
    "Offer",
    "OutcomeConflictError",
    "UnknownOfferError",
    "acceptance_summary",
    "join_conversions",
    "new_offer_id",
    "offers_to_table",
    "outcome_labels",
]

OUTCOMES = ("accepted", "declined", "not_interested", "call_back")
# "call back" is a promise to answer later: the only outcome a later answer may replace.
FINAL_OUTCOMES = ("accepted", "declined", "not_interested")
CHANNELS = ("console", "api", "campaign", "app")
# X-Purpose values whose answers reach a customer (others — complaint, review — are looks, not offers).
PURPOSE_CHANNELS = {"counseling": "api", "sales": "api", "campaign": "campaign", "app": "app"}


class UnknownOfferError(CdnaError):
    """An outcome names an offer id the offer log does not have."""

    exit_code = 2


class OutcomeConflictError(CdnaError):
    """An offer already has a different final outcome (outcomes are recorded once per offer)."""

    exit_code = 2


@dataclass(frozen=True)
class Offer:
    """One recommendation shown to (or sent to) a person.

    Attributes:
        offer_id: unique id (see `new_offer_id`).
        customer_id / product_id / rank / score: what was offered, at which rank and score.
        model_version: the model that ranked it.
        channel: console, api, campaign or app.
        shown_at: when it was shown (UTC).
        reasons: the reason texts shown (masked).
        purpose: the X-Purpose of the request, if any.
        as_of: the feature day the scores were computed for.
        campaign: the campaign's name for campaign exports.
        staff: the API key name that looked (None for campaigns).
    """

    offer_id: str
    customer_id: str
    product_id: str
    rank: int
    model_version: str
    channel: str
    shown_at: datetime
    reasons: tuple[str, ...] = ()
    score: float | None = None
    purpose: str | None = None
    as_of: date | None = None
    campaign: str | None = None
    staff: str | None = None


@dataclass(frozen=True)
class LoopOptions:
    """How outcomes become training signal.

    Attributes:
        horizon_days: an open of the offered product within this many days after it was shown converts.
        positives: outcomes that count as positives (conversions always do).
        negatives: outcomes that count as informative negatives; empty to ignore declines.
    """

    horizon_days: int = 30
    positives: tuple[str, ...] = ("accepted",)
    negatives: tuple[str, ...] = ("declined", "not_interested")


def new_offer_id(now: datetime | None = None) -> str:
    """A new offer id: 'O', the UTC day, 12 random hex digits (sortable by day, unguessable)."""
    now = now or datetime.now(UTC)
    return f"O{now:%Y%m%d}{uuid.uuid4().hex[:12]}"


def offers_to_table(offers: list[Offer]) -> pa.Table:
    """The OFFERS table of a list of offers."""
    table = pa.table(
        {
            "offer_id": pa.array([o.offer_id for o in offers], pa.string()),
            "customer_id": pa.array([o.customer_id for o in offers], pa.string()),
            "product_id": pa.array([o.product_id for o in offers], pa.string()),
            "rank": pa.array([o.rank for o in offers], pa.int16()),
            "score": pa.array([o.score for o in offers], pa.float64()),
            "model_version": pa.array([o.model_version for o in offers], pa.string()),
            "channel": pa.array([o.channel for o in offers], pa.string()),
            "purpose": pa.array([o.purpose for o in offers], pa.string()),
            "shown_at": pa.array([o.shown_at for o in offers], pa.timestamp("us", tz="UTC")),
            "as_of": pa.array([o.as_of for o in offers], pa.date32()),
            "campaign": pa.array([o.campaign for o in offers], pa.string()),
            "reasons": pa.array([list(o.reasons) for o in offers], pa.list_(pa.string())),
            "staff": pa.array([o.staff for o in offers], pa.string()),
        }
    )
    return conform(table, OFFERS, "offers")


def _shown_day(shown_at: pd.Series, timezone: str) -> pd.Series:
    return pd.to_datetime(shown_at, utc=True).dt.tz_convert(timezone).dt.date


def join_conversions(
    offers: pd.DataFrame, holdings: pd.DataFrame, horizon_days: int, timezone: str = "Asia/Seoul"
) -> pd.Series:
    """Day of the first open of the offered product in (day shown, day shown + horizon], else NaT.

    `offers` has customer_id, product_id and either `day` (Korea-time date the offer counts from, e.g. a
    campaign's as-of) or `shown_at`; `holdings` has customer_id, product_id, event, ts.
    """
    left = offers[["customer_id", "product_id"]].copy()
    left["day"] = offers["day"] if "day" in offers else _shown_day(offers["shown_at"], timezone)
    left = left.reset_index(names="_i")
    opens = holdings.loc[holdings["event"] == "open", ["customer_id", "product_id", "ts"]].copy()
    opens["open_day"] = _shown_day(opens["ts"], timezone)
    j = left.merge(opens[["customer_id", "product_id", "open_day"]], on=["customer_id", "product_id"])
    day, open_day = pd.to_datetime(j["day"]), pd.to_datetime(j["open_day"])
    j = j[(open_day > day) & (open_day <= day + pd.Timedelta(days=horizon_days))]
    first = j.groupby("_i")["open_day"].min()
    out = pd.Series(pd.NaT, index=range(len(offers)), dtype="datetime64[ns]")
    out.loc[first.index] = pd.to_datetime(first.to_numpy())
    out.index = offers.index
    return out.rename("converted_on")


def outcome_labels(
    offers: pd.DataFrame,
    outcomes: pd.DataFrame,
    holdings: pd.DataFrame,
    opts: LoopOptions,
    timezone: str = "Asia/Seoul",
    last_day: date | None = None,
) -> pd.DataFrame:
    """Training rows from offers: (customer_id, as_of, product_id, label, source).

    Positives: an outcome in `opts.positives` or a conversion within the horizon. Negatives: an outcome
    in `opts.negatives` without a conversion. Offers without either (no answer yet, call back) are left
    out: they say nothing yet. `as_of` is the day before the offer was shown, so the features describe
    what was known when it was made. Several offers of one product to one customer on one day count once
    (the strongest signal wins: a positive beats a negative).
    """
    cols = ["customer_id", "as_of", "product_id", "label", "source"]
    if offers.empty:
        return pd.DataFrame(columns=cols)
    df = offers[["offer_id", "customer_id", "product_id", "shown_at"]].copy()
    df["day"] = _shown_day(df["shown_at"], timezone)
    outc = outcomes[["offer_id", "outcome"]].drop_duplicates("offer_id")
    df = df.merge(outc, on="offer_id", how="left")
    df["converted"] = join_conversions(df, holdings, opts.horizon_days, timezone).notna().to_numpy()
    pos = df["converted"] | df["outcome"].isin(opts.positives)
    neg = ~pos & df["outcome"].isin(opts.negatives)
    df = df[pos | neg].assign(label=pos[pos | neg].astype(np.int8))
    df["as_of"] = pd.to_datetime(df["day"]) - pd.Timedelta(days=1)
    df["as_of"] = df["as_of"].dt.date
    if last_day is not None:
        df = df[df["as_of"] <= last_day]
    df["source"] = np.where(df["converted"], "conversion", df["outcome"].fillna("conversion"))
    df = df.sort_values("label", ascending=False).drop_duplicates(["customer_id", "as_of", "product_id"])
    return df[cols].reset_index(drop=True)


def acceptance_summary(
    offers: pd.DataFrame, outcomes: pd.DataFrame, model_version: str | None = None
) -> dict[str, float]:
    """Offers, answered offers, accepted share and per-outcome counts (of one model version when given)."""
    if model_version is None:
        df = offers
    else:  # batch scores store "3", some callers "cdna-recommender/3": the version is the last part
        df = offers[offers["model_version"].astype(str).str.rsplit("/", n=1).str[-1] == str(model_version)]
    j = df[["offer_id"]].merge(outcomes[["offer_id", "outcome"]], on="offer_id")
    final = j[j["outcome"].isin(FINAL_OUTCOMES)]
    out: dict[str, float] = {
        "offers": float(len(df)),
        "answered": float(len(final)),
        "acceptance_rate": float((final["outcome"] == "accepted").mean()) if len(final) else float("nan"),
    }
    for name in OUTCOMES:
        out[name] = float((j["outcome"] == name).sum())
    return out
