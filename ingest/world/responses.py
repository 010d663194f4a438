"""How the synthetic customers answer offers: channel responses and product opens after a campaign.

The world knows what no stage may read: each customer's hidden life events (`_truth/life_events`). A
customer whose recent life event leads to a product (`LifeEvent.products`) and who does not hold it yet
is *receptive* to an offer of that product: offered, they mostly accept and then open it. Everyone
else answers from a fixed mix (declined, not interested, call back, no answer) and opens a product only
as they would have without any offer (the baseline hazard, or their own pending life-event adoption).
So a campaign for a life-event product has a true uplift, and one for a product no event leads to has
none: what `cdna campaign report` must find (issue 17).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cdna.ingest.world.behaviour import _MONTHLY, DAY_US
from cdna.ingest.world.vocab import EVENTS

__all__ = ["ResponseOptions", "Responses", "event_products", "simulate_responses"]


@dataclass(frozen=True)
class ResponseOptions:
    """How customers respond to offers in the synthetic world.

    Attributes:
        horizon_days: days after the offer in which responses and opens happen.
        receptive_days: a life event at most this many days before the offer makes its products wanted.
        accept_receptive: probability that a receptive customer accepts the offer.
        open_after_accept: probability that an accepting receptive customer opens within the horizon.
        organic_receptive: probability that a receptive customer opens within the horizon unprompted.
        mix: answer shares of customers who are not receptive and do not open anyway
            (declined, not_interested, call_back, no answer).
        seed: random seed (combined with the campaign name, so campaigns differ).
    """

    horizon_days: int = 30
    receptive_days: int = 365
    accept_receptive: float = 0.85
    open_after_accept: float = 0.9
    organic_receptive: float = 0.05
    mix: tuple[float, float, float, float] = (0.35, 0.3, 0.05, 0.3)
    seed: int = 7


@dataclass
class Responses:
    """What the world did after the offers.

    Attributes:
        outcomes: offer_id, outcome, recorded_at (UTC), channel — the channel's response file.
        opens: new holdings open events (HOLDINGS columns) of treated and control customers alike.
        expected_uplift: the planted effect: mean over treated rows of P(open | offered) − P(open | not).
        receptive: per input row, whether the customer was receptive (for tests and the summary).
    """

    outcomes: pd.DataFrame
    opens: pd.DataFrame
    expected_uplift: float
    receptive: np.ndarray


def event_products() -> dict[str, dict[str, float]]:
    """Life event id -> {product id: adoption probability} (the planted links)."""
    return {ev.id: dict(ev.products) for ev in EVENTS}


def _micros(ts: pd.Series) -> pd.Series:
    """µs since the epoch of timestamps of any unit."""
    return pd.to_datetime(ts, utc=True).dt.as_unit("us").astype("int64")


def _held_at(holdings: pd.DataFrame, members: pd.DataFrame) -> np.ndarray:
    """Whether each member held the member's product at the member's start time."""
    h = holdings[["customer_id", "product_id", "event", "ts"]].copy()
    h["t"] = _micros(h["ts"])
    m = members[["customer_id", "product_id", "start_us"]].reset_index(names="_i")
    j = m.merge(h, on=["customer_id", "product_id"])
    j = j[j["t"] <= j["start_us"]]
    if j.empty:
        return np.zeros(len(members), bool)
    last = j.sort_values("t").groupby("_i")["event"].last()
    held = np.zeros(len(members), bool)
    held[last.index[last == "open"].to_numpy()] = True
    return held


def _receptive(life_events: pd.DataFrame, members: pd.DataFrame, receptive_days: int) -> np.ndarray:
    """The adoption probability a recent life event gives each member's product (0 when none)."""
    links = event_products()
    ev = life_events[["customer_id", "event", "ts"]].copy()
    ev["t"] = _micros(ev["ts"])
    m = members[["customer_id", "product_id", "start_us"]].reset_index(names="_i")
    j = m.merge(ev, on="customer_id")
    recent = (j["t"] <= j["start_us"]) & (j["t"] > j["start_us"] - receptive_days * DAY_US)
    j = j[recent]
    q = np.array(
        [links.get(e, {}).get(p, 0.0) for e, p in zip(j["event"], j["product_id"], strict=True)], dtype=float
    )
    out = np.zeros(len(members))
    if len(j):
        best = pd.Series(q, index=j["_i"].to_numpy()).groupby(level=0).max()
        out[best.index.to_numpy()] = best.to_numpy()
    return out


def simulate_responses(
    members: pd.DataFrame,
    life_events: pd.DataFrame,
    holdings: pd.DataFrame,
    opts: ResponseOptions,
    tag: str = "",
) -> Responses:
    """Simulate answers and product opens for offered (`offer_id` set) and held-out (`offer_id` null) members.

    Args:
        members: customer_id, product_id, start_us (µs UTC when the offer went out), offer_id (or null).
        life_events: the world's `_truth/life_events` (customer_id, event, ts).
        holdings: the lake's holdings events (customer_id, product_id, event, ts).
        opts: response behaviour.
        tag: a name that makes the random draws and event ids of this batch its own (the campaign name).
    """
    n = len(members)
    rng = np.random.default_rng([opts.seed, zlib.crc32(tag.encode())])
    members = members.reset_index(drop=True)
    treated = members["offer_id"].notna().to_numpy()
    held = _held_at(holdings, members)
    q = _receptive(life_events, members, opts.receptive_days)
    receptive = (q > 0) & ~held
    months = opts.horizon_days / 30.44
    base = np.array([1 - np.exp(-_MONTHLY.get(p, 0.001) * months) for p in members["product_id"]])
    p_organic = np.where(held, 0.0, base + receptive * opts.organic_receptive * (1 - base))
    p_offer = receptive * opts.accept_receptive * opts.open_after_accept
    u_org, u_acc, u_open, u_mix = (rng.random(n) for _ in range(4))
    organic = u_org < p_organic
    accepted = treated & (receptive & (u_acc < opts.accept_receptive) | organic)
    opened = organic | (
        treated & receptive & (u_acc < opts.accept_receptive) & (u_open < opts.open_after_accept)
    )
    expected = float(np.mean(((1 - p_organic) * p_offer)[treated]) if treated.any() else 0.0)
    # Answers of treated customers: accepted ones, else the fixed mix (the last share answers nothing).
    mix = np.cumsum(opts.mix) / np.sum(opts.mix)
    kind = np.searchsorted(mix, u_mix, side="right")
    labels = np.array(["declined", "not_interested", "call_back", ""], dtype=object)[np.minimum(kind, 3)]
    outcome = np.where(accepted, "accepted", labels)
    start = members["start_us"].to_numpy(dtype=np.int64)
    answer_at = start + (rng.uniform(0.2, 7, n) * DAY_US).astype(np.int64)
    say = treated & (outcome != "")
    outcomes = pd.DataFrame(
        {
            "offer_id": members.loc[say, "offer_id"].to_numpy(),
            "outcome": outcome[say],
            "recorded_at": pd.to_datetime(answer_at[say], unit="us", utc=True),
            "channel": "sms",
        }
    )
    open_at = start + (rng.uniform(0.5, opts.horizon_days - 0.5, n) * DAY_US).astype(np.int64)
    channels = np.where(rng.random(n) < 0.6, "app", "branch")
    digest = f"{zlib.crc32(tag.encode()):08x}"
    opens = pd.DataFrame(
        {
            "event_id": [f"HR{digest}{i:06d}" for i in np.flatnonzero(opened)],
            "customer_id": members.loc[opened, "customer_id"].to_numpy(),
            "product_id": members.loc[opened, "product_id"].to_numpy(),
            "event": "open",
            "ts": pd.to_datetime(open_at[opened], unit="us", utc=True),
            "channel": channels[opened],
        }
    )
    return Responses(outcomes, opens, expected, receptive)
