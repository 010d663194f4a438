"""Event-based leads: triggers of configs/triggers.yaml over recent events → sales opportunities (issue #16).

Pure: the touched customers' recent rows in, `Lead`s out. The event processor feeds it the rows it holds
(page views, incoming transactions, call intents, product opens) and stores the result in a `LeadStore`,
which merges a lead into the open one for the same customer and product and closes expired leads.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from cdna.core.config import (
    DepositTrigger,
    InquiryTrigger,
    IntentTaxonomy,
    PageViewTrigger,
    ProductCatalog,
    TriggersConfig,
)

__all__ = ["Lead", "LeadInputs", "find_leads"]


@dataclass(frozen=True)
class Lead:
    """One sales opportunity for a branch.

    Attributes:
        customer_id / product_id: who, and what to offer.
        trigger_id: the trigger that fired.
        reason: one Korean sentence a branch employee reads.
        evidence_ids: event ids the reason rests on.
        created_at: event time that fired it (UTC).
        expires_at: when it closes unless acted on (UTC).
    """

    customer_id: str
    product_id: str
    trigger_id: str
    reason: str
    evidence_ids: tuple[str, ...]
    created_at: pd.Timestamp
    expires_at: pd.Timestamp


@dataclass(frozen=True)
class LeadInputs:
    """Recent rows of the customers an event batch touched (UTC timestamps).

    Attributes:
        web: customer_id, ts, event_id, page_category.
        deposits: customer_id, ts, txn_id, amount — incoming transactions of this batch only.
        calls: customer_id, ts, source_id, label — call intent signals.
        opens: customer_id, ts, product_id — product opens.
        now: the reference time (the latest event time seen), for windows and expiry.
    """

    web: pd.DataFrame
    deposits: pd.DataFrame
    calls: pd.DataFrame
    opens: pd.DataFrame
    now: pd.Timestamp
    since: pd.Timestamp | None = field(default=None)


def _won(amount: float) -> str:
    return f"{amount / 1e4:,.0f}만 원"


def _page_views(t: PageViewTrigger, inp: LeadInputs) -> list[Lead]:
    w = inp.web
    if w.empty:
        return []
    lo = inp.now - pd.Timedelta(days=t.window_days)
    hit = w[(w["page_category"] == t.page_category) & (w["ts"] > lo) & (w["ts"] <= inp.now)]
    out = []
    for cid, g in hit.groupby("customer_id", sort=True):
        if len(g) >= t.min_count:
            out.append(
                Lead(
                    str(cid),
                    t.product,
                    t.id,
                    f"최근 {t.window_days}일 {t.page_category} 페이지 {len(g)}회 조회",
                    tuple(sorted(g["event_id"].astype(str))),
                    g["ts"].max(),
                    g["ts"].max() + pd.Timedelta(days=t.expires_days),
                )
            )
    return out


def _deposits(t: DepositTrigger, inp: LeadInputs) -> list[Lead]:
    d = inp.deposits
    if d.empty:
        return []
    big = d[d["amount"] >= t.min_amount]
    return [
        Lead(
            str(r.customer_id),
            t.product,
            t.id,
            f"{_won(float(r.amount))} 입금 (예치·운용 상담 기회)",
            (str(r.txn_id),),
            r.ts,
            r.ts + pd.Timedelta(days=t.expires_days),
        )
        for r in big.itertuples(index=False)
    ]


def _inquiries(t: InquiryTrigger, inp: LeadInputs, intents: IntentTaxonomy) -> list[Lead]:
    """A call whose `days`-day wait ended in (since, now] with no open of the products it asked about."""
    c = inp.calls
    if c.empty:
        return []
    wait = pd.Timedelta(days=t.days)
    due = c[c["label"].isin(t.intents) & (c["ts"] + wait <= inp.now)]
    if inp.since is not None:
        due = due[due["ts"] + wait > inp.since]
    names = {i.id: i.name for i in intents.intents}
    products = {i.id: i.products for i in intents.intents}
    out = []
    for r in due.itertuples(index=False):
        asked = products.get(r.label, [])
        if not asked:
            continue
        o = inp.opens
        opened = o[
            (o["customer_id"] == r.customer_id)
            & o["product_id"].isin(asked)
            & (o["ts"] > r.ts)
            & (o["ts"] <= r.ts + wait)
        ]
        if len(opened):
            continue
        out.append(
            Lead(
                str(r.customer_id),
                asked[0],
                t.id,
                f"{r.ts.tz_convert('Asia/Seoul'):%m월 %d일} {names.get(r.label, r.label)} 통화 후 {t.days}일간 미가입",
                (str(r.source_id),),
                r.ts + wait,
                r.ts + wait + pd.Timedelta(days=t.expires_days),
            )
        )
    return out


def find_leads(
    triggers: TriggersConfig, inp: LeadInputs, intents: IntentTaxonomy, catalog: ProductCatalog
) -> list[Lead]:
    """Every lead the triggers find in `inp` (not yet filtered by the decision policy, not merged)."""
    known = set(catalog.ids)
    out: list[Lead] = []
    for t in triggers.triggers:
        if isinstance(t, PageViewTrigger):
            out += _page_views(t, inp)
        elif isinstance(t, DepositTrigger):
            out += _deposits(t, inp)
        else:
            out += _inquiries(t, inp, intents)
    return [lead for lead in out if lead.product_id in known]
