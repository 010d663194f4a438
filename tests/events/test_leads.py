"""Event-based leads: triggers open leads for the customer's branch, repeats merge, expired leads close."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from cdna.core.lake import Lake
from tests.events.conftest import Service

pytestmark = pytest.mark.slow


def _view(cid: str, i: int, day: int = 1, page: str = "주택담보대출") -> dict[str, Any]:
    return {
        "event_id": f"LEAD-W-{cid}-{day}-{i}",
        "type": "page_view",
        "customer_id": cid,
        "ts": f"2025-07-{day:02d}T1{i}:00:00+09:00",
        "channel": "app",
        "page_category": page,
    }


def _customers(lake: Lake) -> tuple[str, str, pd.DataFrame]:
    snap = pd.read_parquet(sorted(lake.snapshots.rglob("*.parquet"))[-1]).set_index("customer_id")
    calm = (
        snap["intent_complaint_days_since"].isna()
        & snap["complaint_days_since"].isna()
        & snap["intent_fraud_report_days_since"].isna()
        & snap["intent_card_lost_days_since"].isna()
    )
    ok = snap[
        calm
        & snap["marketing_consent"].fillna(False).astype(bool)
        & snap["age"].between(25, 60)
        & (snap["income_band"] != "none")
        & ~snap["held_mortgage"].astype(bool)
        & ~snap["held_jeonse_loan"].astype(bool)
        & ~snap["held_term_deposit"].astype(bool)
    ]
    out = snap[calm & ~snap["marketing_consent"].fillna(False).astype(bool) & (snap["income_band"] != "none")]
    return str(ok.index[0]), str(out.index[0]), snap


def test_page_views_open_one_lead_merge_and_expire(lake: Lake, service: Service) -> None:
    c = service.client
    cid, opted_out, _ = _customers(lake)
    r = c.post("/v1/events", json={"events": [_view(cid, i) for i in range(2)]}, headers=service.system)
    assert r.status_code == 200 and r.json()["leads_new"] == 0  # two views are no lead yet
    r = c.post("/v1/events", json={"events": [_view(cid, 2)]}, headers=service.system)
    assert r.json()["leads_new"] == 1
    body = c.get("/v1/leads", headers=service.staff).json()
    lead = next(x for x in body["leads"] if x["customer_id"] == cid)
    assert lead["product_id"] == "mortgage" and lead["status"] == "open"
    assert lead["reasons"] == ["최근 7일 주택담보대출 페이지 3회 조회"] and len(lead["evidence_ids"]) == 3
    assert lead["branch"] in body["branches"]
    by_branch = c.get("/v1/leads", params={"branch": lead["branch"]}, headers=service.staff).json()
    assert {x["branch"] for x in by_branch["leads"]} == {lead["branch"]}

    # a fourth view merges into the open lead; a redelivered one changes nothing
    r = c.post("/v1/events", json={"events": [_view(cid, 3)]}, headers=service.system)
    assert r.json()["leads_new"] == 0 and r.json()["leads_merged"] == 1
    c.post("/v1/events", json={"events": [_view(cid, 3)]}, headers=service.system)
    leads = [x for x in c.get("/v1/leads", headers=service.staff).json()["leads"] if x["customer_id"] == cid]
    assert len(leads) == 1 and leads[0]["hits"] == 2 and len(leads[0]["evidence_ids"]) == 4

    # an opted-out customer gets no lead however often they look
    r = c.post("/v1/events", json={"events": [_view(opted_out, i) for i in range(4)]}, headers=service.system)
    assert r.status_code == 200 and r.json()["leads_new"] == 0

    # a large deposit is a term-deposit lead
    dep = {
        "event_id": f"LEAD-T-{cid}",
        "type": "transaction",
        "customer_id": cid,
        "ts": "2025-07-02T09:30:00+09:00",
        "amount": 35_000_000.0,
        "direction": "in",
        "memo": "전세보증금 반환",
    }
    assert c.post("/v1/events", json={"events": [dep]}, headers=service.system).json()["leads_new"] == 1

    # three weeks later the mortgage lead (14 days) has expired and is closed
    later = _view(opted_out, 0, day=25, page="이체")
    c.post("/v1/events", json={"events": [later]}, headers=service.system)
    open_now = [
        x["product_id"]
        for x in c.get("/v1/leads", headers=service.staff).json()["leads"]
        if x["customer_id"] == cid
    ]
    assert "mortgage" not in open_now
    expired = c.get("/v1/leads", params={"status": "expired"}, headers=service.staff).json()["leads"]
    assert any(x["customer_id"] == cid and x["product_id"] == "mortgage" for x in expired)
