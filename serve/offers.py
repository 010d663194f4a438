"""Offers made through the service: every recommendation answer that reaches a customer gets offer ids.

An answer reaches a customer when staff look for counseling or sales, or a channel asks for a campaign or
the app (`X-Purpose`); the console marks its own requests (`X-Cdna-Client: console`). Looks for a
complaint, a review or compliance are not offers: nothing is logged and no offer id is returned.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from cdna.recommend.offers import PURPOSE_CHANNELS, Offer, new_offer_id

__all__ = ["log_offers"]


def log_offers(ctx: Any, body: dict[str, Any], purpose: str | None, staff: str, client: str | None) -> int:
    """Give each recommendation of `body` an offer id and store them in the offer log; returns how many."""
    if ctx.offers is None or purpose not in PURPOSE_CHANNELS or not body.get("recommendations"):
        return 0
    channel = "console" if client == "console" else PURPOSE_CHANNELS[purpose]
    now = datetime.now(UTC)
    as_of = body.get("as_of")
    offers = []
    for r in body["recommendations"]:
        r["offer_id"] = new_offer_id(now)
        offers.append(
            Offer(
                offer_id=r["offer_id"],
                customer_id=body["customer_id"],
                product_id=r["product_id"],
                rank=int(r["rank"]),
                score=float(r["score"]),
                model_version=str(body.get("model_version") or ""),
                channel=channel,
                shown_at=now,
                reasons=tuple(r.get("reasons") or ()),
                purpose=purpose,
                as_of=date.fromisoformat(str(as_of)[:10]) if as_of else None,
                staff=staff,
            )
        )
    return ctx.offers.record(offers)
