"""POST /v1/events on a small demo bank: a call changes recommendations within the request, once (issue 16)."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
import pytest

from cdna.core.lake import Lake
from tests.events.conftest import Service

pytestmark = pytest.mark.slow


def _call(customer_id: str, event_id: str, intent: str = "jeonse_loan_inquiry") -> dict[str, Any]:
    return {
        "event_id": event_id,
        "type": "call",
        "customer_id": customer_id,
        "ts": "2025-07-01T10:00:00+09:00",
        "intents": [{"label": intent, "score": 0.95}],
        "duration_s": 240,
        "evidence": "전세 계약이 다음 달이라 전세자금대출 한도를 알고 싶어요",
    }


def _shown(body: dict[str, Any]) -> list[tuple[Any, ...]]:
    """What a lookup shows, without the per-lookup offer id (issue 17's offer log)."""
    return [
        (body["as_of"], r["product_id"], r["score"], tuple(r["reasons"]), tuple(r["evidence_ids"]))
        for r in body["recommendations"]
    ]


def _snapshot(lake: Lake) -> pd.DataFrame:
    path = sorted(lake.snapshots.rglob("*.parquet"))[-1]
    return pd.read_parquet(path).set_index("customer_id")


def _jeonse_candidates(lake: Lake, service: Service, n: int = 8) -> list[str]:
    """Customers the policy lets us offer a jeonse loan to, whose top 5 does not have one yet."""
    snap = _snapshot(lake)
    ok = snap[
        snap["marketing_consent"].fillna(False).astype(bool)
        & snap["age"].between(25, 45)
        & (snap["income_band"] != "none")
        & ~snap["held_jeonse_loan"].astype(bool)
        & ~snap["held_mortgage"].astype(bool)
        & snap["intent_complaint_days_since"].isna()
        & snap["complaint_days_since"].isna()
        & snap["intent_fraud_report_days_since"].isna()
        & snap["intent_card_lost_days_since"].isna()
    ]
    out = []
    for cid in ok.index:
        body = service.client.get(f"/v1/customers/{cid}/recommendations", headers=service.staff).json()
        if all(r["product_id"] != "jeonse_loan" for r in body["recommendations"]):
            out.append(str(cid))
        if len(out) >= n:
            break
    return out


def test_a_jeonse_inquiry_call_changes_the_recommendations_within_one_request(
    lake: Lake, service: Service
) -> None:
    c = service.client
    moved = []
    for i, cid in enumerate(_jeonse_candidates(lake, service)):
        before = c.get(f"/v1/customers/{cid}/recommendations", headers=service.staff).json()
        r = c.post("/v1/events", json={"events": [_call(cid, f"CALL-T-{i}")]}, headers=service.system)
        assert r.status_code == 200, r.text
        assert r.json()["applied"] == 1 and r.json()["customers"] == [cid]
        after = c.get(f"/v1/customers/{cid}/recommendations", headers=service.staff).json()
        assert after["as_of"] == "2025-07-01" and _shown(after) != _shown(before)
        jeonse = [x for x in after["recommendations"] if x["product_id"] == "jeonse_loan"]
        if jeonse:
            moved.append(cid)
            # the call is the reason, with its id as evidence
            assert f"CALL-T-{i}" in jeonse[0]["evidence_ids"], jeonse[0]
            assert any("전세자금대출" in t for t in jeonse[0]["reasons"]), jeonse[0]["reasons"]
            # the same event again changes nothing
            again = c.post("/v1/events", json={"events": [_call(cid, f"CALL-T-{i}")]}, headers=service.system)
            assert (
                again.status_code == 200 and again.json()["applied"] == 0 and again.json()["duplicates"] == 1
            )
            again_recs = c.get(f"/v1/customers/{cid}/recommendations", headers=service.staff).json()
            assert _shown(again_recs) == _shown(after)
    assert moved, "one jeonse inquiry call put a jeonse loan in nobody's top 5"


def test_malformed_events_are_named_and_the_rest_applied(lake: Lake, service: Service) -> None:
    cid = str(_snapshot(lake).index[0])
    batch = [
        {
            "event_id": "W-OK-1",
            "type": "page_view",
            "customer_id": cid,
            "ts": "2025-07-01T09:00:00+09:00",
            "channel": "app",
            "page_category": "전세대출",
        },
        {
            "event_id": "W-BAD-1",
            "type": "page_view",
            "customer_id": cid,
            "ts": "2025-07-01T09:00:00+09:00",
            "channel": "fax",
            "page_category": "전세대출",
        },
        {
            "event_id": "T-BAD-1",
            "type": "transaction",
            "customer_id": cid,
            "ts": "2025-07-01T09:00:00+09:00",
            "direction": "in",
        },
        {
            "event_id": "X-UNKNOWN",
            "type": "page_view",
            "customer_id": "C9999999",
            "ts": "2025-07-01T09:00:00Z",
            "channel": "web",
            "page_category": "이체",
        },
    ]
    r = service.client.post("/v1/events", json={"events": batch}, headers=service.system)
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert [(e["index"], e["field"]) for e in body["errors"]] == [
        (1, "channel"),
        (2, "amount"),
        (3, "customer_id"),
    ]
    assert body["accepted"]["applied"] == 1 and "events[1].channel" in body["detail"]
    vec = service.client.get(f"/v1/customers/{cid}/profile", headers=service.staff)
    assert vec.status_code == 200


def test_only_system_keys_post_events_and_batches_are_bounded(service: Service) -> None:
    c = service.client
    ev = _call("C0000001", "CALL-ROLE")
    assert c.post("/v1/events", json={"events": [ev]}, headers=service.staff).status_code == 403
    too_many = {"events": [ev] * 1001}
    assert c.post("/v1/events", json=too_many, headers=service.system).status_code == 422
    # a system key reads no customer
    r = c.get("/v1/customers/C0000001/recommendations", headers={**service.system, "X-Purpose": "counseling"})
    assert r.status_code == 403


def test_batch_recommendations_obey_the_policy_on_the_demo_bank(lake: Lake) -> None:
    """Issue 16 acceptance on the demo bank's nightly batch scores."""
    from cdna.core.config import load_policy

    policy = load_policy()
    recs = pd.read_parquet(sorted(lake.recommendations.rglob("*.parquet"))[-1])
    snap = _snapshot(lake).loc[recs["customer_id"].unique()]
    words = ["민원", "불만", "장애", "분실", "사기", "보이스피싱", "상담 전화를"]
    reasons = recs["reasons"].explode().dropna()
    assert not reasons.str.contains("|".join(words)).any(), reasons[
        reasons.str.contains("|".join(words))
    ].head()
    full = _snapshot(lake)
    opted_out = set(full.index[~full["marketing_consent"].fillna(False).astype(bool)])
    all_customers = set(full.index)
    assert not opted_out & set(recs["customer_id"])
    quiet_cols = [f"intent_{i}_days_since" for i in policy.contact.quiet_intents] + ["complaint_days_since"]
    quiet = _snapshot(lake)[quiet_cols].min(axis=1) <= policy.contact.quiet_days
    assert not set(quiet[quiet].index) & set(recs["customer_id"])
    order = ["stable", "conservative", "moderate", "active", "aggressive"]
    risk = snap["risk_profile"].map(lambda v: order.index(v) if isinstance(v, str) else -1)
    for pid, need in policy.suitability.min_profile.items():
        got = recs.loc[recs["product_id"] == pid, "customer_id"]
        assert (risk.loc[got] >= order.index(need)).all(), pid
    # the run record counts each rule
    runs = sorted(lake.runs.glob("*recommend*.json"))
    rec = json.loads(runs[-1].read_text(encoding="utf-8"))
    counts = rec["extra"]["policy_suppressed"]
    assert counts["consent"] > 0 and set(counts) >= {"consent", "contact_quiet", "suitability"}
    assert len(opted_out) < len(all_customers)
