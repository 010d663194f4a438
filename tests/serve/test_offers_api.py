"""Offers through the service (issue 17): offer ids on answers that reach a customer, outcomes once per offer."""

from __future__ import annotations

from fastapi.testclient import TestClient

from cdna.core.lake import Lake
from cdna.recommend.offer_log import OfferLog
from tests.serve.conftest import Keys


def _recs(client: TestClient, keys: Keys, purpose: str, console: bool = False) -> dict:
    headers = keys.h(purpose=purpose)
    if console:
        headers["X-Cdna-Client"] = "console"
    r = client.get("/v1/customers/C0000001/recommendations?k=3", headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


def test_counseling_answers_carry_offer_ids_and_are_logged(
    client: TestClient, keys: Keys, lake: Lake
) -> None:
    body = _recs(client, keys, "counseling")
    ids = [r["offer_id"] for r in body["recommendations"]]
    assert len(ids) == 3 and all(ids) and len(set(ids)) == 3
    looked = _recs(client, keys, "complaint")  # a look for a complaint is not an offer
    assert all(r.get("offer_id") is None for r in looked["recommendations"])
    _recs(client, keys, "counseling", console=True)
    _recs(client, keys, "app")
    _recs(client, keys, "campaign")
    log = OfferLog.of(lake)
    offers = log.offers_table().to_pandas()
    assert len(offers) == 12
    first = offers[offers["offer_id"] == ids[0]].iloc[0]
    assert first["customer_id"] == "C0000001" and first["channel"] == "api" and first["staff"] == "staff-kim"
    assert first["product_id"] == body["recommendations"][0]["product_id"] and first["rank"] == 1
    assert first["model_version"] == body["model_version"] and list(first["reasons"])
    assert sorted(offers["channel"].unique()) == ["api", "app", "campaign", "console"]


def test_outcome_is_idempotent_by_offer_id(client: TestClient, keys: Keys, lake: Lake) -> None:
    oid = _recs(client, keys, "counseling")["recommendations"][0]["offer_id"]
    url = f"/v1/offers/{oid}/outcome"
    r1 = client.post(url, json={"outcome": "declined"}, headers=keys.h(purpose=None))
    assert r1.status_code == 201 and r1.json()["status"] == "recorded"
    r2 = client.post(url, json={"outcome": "declined"}, headers=keys.h(purpose=None))
    assert r2.status_code == 200 and r2.json()["status"] == "unchanged"
    assert r2.json()["recorded_at"] == r1.json()["recorded_at"]
    r3 = client.post(url, json={"outcome": "accepted"}, headers=keys.h(purpose=None))
    assert r3.status_code == 409 and r3.headers["content-type"].startswith("application/problem+json")
    assert "한 번만" in r3.json()["detail_ko"]
    out = OfferLog.of(lake).outcomes_table().to_pandas()
    assert out["offer_id"].tolist() == [oid] and out["outcome"].tolist() == ["declined"]


def test_outcome_errors(client: TestClient, keys: Keys) -> None:
    missing = client.post(
        "/v1/offers/O20250701ffffffffffff/outcome", json={"outcome": "accepted"}, headers=keys.h(purpose=None)
    )
    assert missing.status_code == 404 and missing.json()["title_ko"] == "제안을 찾을 수 없습니다"
    oid = _recs(client, keys, "sales")["recommendations"][0]["offer_id"]
    bad = client.post(f"/v1/offers/{oid}/outcome", json={"outcome": "maybe"}, headers=keys.h(purpose=None))
    assert bad.status_code == 422
    assert client.post(f"/v1/offers/{oid}/outcome", json={"outcome": "accepted"}).status_code == 401
    assert client.post(
        "/v1/offers/../outcome", json={"outcome": "accepted"}, headers=keys.h()
    ).status_code in (
        404,
        422,
    )
