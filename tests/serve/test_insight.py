"""What a teller sees: likelihood bands, Korean labels, evidence snippets, search, market trends, offline docs."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from cdna.core.lake import Lake
from cdna.serve.app import create_app
from cdna.serve.labels import likelihood, segment_label, value_label
from tests.serve.conftest import N_CUSTOMERS, Keys, settings_for
from tests.serve.insight_lake import BASE_RATES, add_insight_tables


@pytest.fixture
def rich(lake: Lake, keys: Keys) -> Iterator[TestClient]:
    add_insight_tables(lake, N_CUSTOMERS)
    with TestClient(create_app(settings_for(lake)), raise_server_exceptions=False) as c:
        yield c


def test_likelihood_bands_are_relative_to_the_base_rate() -> None:
    high = likelihood(0.032, 0.01)
    assert high is not None and (high.label, high.text) == ("높음", "평균 대비 3.2배")
    assert likelihood(0.012, 0.01).label == "보통"  # type: ignore[union-attr]
    assert likelihood(0.004, 0.01).label == "낮음"  # type: ignore[union-attr]
    assert likelihood(0.5, None) is None and likelihood(0.5, 0.0) is None


def test_codes_have_korean_labels() -> None:
    assert value_label("age_band", "60s") == "60대"
    assert value_label("household", "couple_kids") == "자녀가 있는 가구"
    assert value_label("income_band", "under_30m") == "연 3천만 원 미만"
    assert value_label("spend_amount_365d", 12_340_000.0) == "1,234만 원"
    assert segment_label("저활동 (low value)") == "저활동"


def test_picks_carry_a_likelihood_and_the_profile_korean_facts(rich: TestClient, keys: Keys) -> None:
    h = {**keys.h(), "X-Purpose": "counseling"}
    body = rich.get("/v1/customers/C0000002/recommendations", headers=h).json()
    for r in body["recommendations"]:
        rate = BASE_RATES.get(r["product_id"])
        if rate is None:
            assert r["likelihood"] is None
        else:
            assert r["likelihood"]["lift"] == round(r["score"] / rate, 1)
            assert r["likelihood"]["label"] in ("높음", "보통", "낮음")
    prof = rich.get("/v1/customers/C0000002/profile", headers=h).json()
    shown = {f["label"]: f["value"] for f in prof["facts"]}
    assert shown["가구 형태"] in ("1인 가구", "자녀가 있는 가구")
    assert not any(v in ("single", "couple_kids", "20s", "30s") for v in shown.values())
    assert prof["segment"]["label"] == "성장"
    labels = [i["label"] for i in prof["interests"]]
    assert len(labels) == len(set(labels))


def test_evidence_opens_the_masked_snippet(rich: TestClient, keys: Keys) -> None:
    h = {**keys.h(), "X-Purpose": "counseling"}
    recs = rich.get("/v1/customers/C0000001/recommendations", headers=h).json()
    eid = recs["recommendations"][0]["evidence_ids"][0]
    snip = rich.get(f"/v1/customers/C0000001/evidence/{eid}", headers=h).json()
    assert snip["kind"] == "call" and snip["date"] and snip["intent"] == "전세자금대출 문의"
    assert "900101-1234567" not in snip["quote"] and "전세" in snip["quote"]  # the raw RRN is masked
    other = rich.get("/v1/customers/C0000002/evidence/CALL000000", headers=h)
    assert other.status_code == 404  # one customer's evidence is not readable through another's id


def test_search_by_prefix_phone_tail_and_surname_by_role(rich: TestClient, keys: Keys) -> None:
    by_id = rich.get("/v1/search/customers?q=c000001", headers=keys.h()).json()
    assert by_id["mode"] == "id_prefix" and [h["customer_id"] for h in by_id["hits"]][:2] == [
        "C0000010",
        "C0000011",
    ]
    tail = rich.get("/v1/search/customers?q=5004", headers=keys.h()).json()
    assert [h["customer_id"] for h in tail["hits"]] == ["C0000005"]
    assert tail["hits"][0]["phone"] == "010-****-5004" and tail["hits"][0]["name"] == "김*준"
    kim = rich.get("/v1/search/customers?q=김", headers=keys.h()).json()
    assert kim["hits"] and all(h["name"].startswith("김") for h in kim["hits"])
    assert rich.get("/v1/search/customers?q=5004", headers=keys.h(purpose=None)).status_code == 400


def test_search_by_name_initials_answers_masked(rich: TestClient, keys: Keys) -> None:
    """초성: ㄱㅁ finds 김민준 (and 고민…), 김ㅁ the same surname only, ㅂㅁㅈ 박민준; nothing unmasked leaves."""
    for q, surname in (("ㄱㅁ", "김"), ("김ㅁ", "김"), ("ㅂㅁㅈ", "박"), ("ㅊ", "최")):
        body = rich.get("/v1/search/customers", params={"q": q}, headers=keys.h()).json()
        assert body["mode"] == "name_initial" and body["hits"], q
        assert {h["name"] for h in body["hits"]} == {f"{surname}*준"}, q
        assert all(h["phone"].startswith("010-****-") for h in body["hits"])
    none = rich.get("/v1/search/customers", params={"q": "ㅎㅎ"}, headers=keys.h()).json()
    assert none == {"query": "ㅎㅎ", "mode": "name_initial", "hits": []}
    text = rich.get("/v1/search/customers", params={"q": "ㄱ"}, headers=keys.h()).text
    assert "민준" not in text and "-1004-" not in text  # no full name, no middle digits


def test_contact_search_roles_come_from_the_config(lake: Lake, keys: Keys) -> None:
    add_insight_tables(lake, N_CUSTOMERS)
    app = create_app(settings_for(lake, contact_search_roles=("staff", "admin")))
    with TestClient(app, raise_server_exceptions=False) as c:
        ml = c.get("/v1/search/customers?q=5004", headers=keys.h("ml")).json()
        assert ml["mode"] == "phone_tail_unavailable" and ml["hits"] == []
        by_id = c.get("/v1/search/customers?q=C0000005", headers=keys.h("ml")).json()
        assert by_id["hits"][0]["name"] is None and by_id["hits"][0]["phone"] is None  # ids only for ml
        admin = c.get("/v1/search/customers?q=ㅂ", headers=keys.h("admin")).json()
        assert admin["hits"] and admin["hits"][0]["name"] == "박*준"


def test_every_customer_a_search_shows_is_audited(rich: TestClient, keys: Keys, lake: Lake) -> None:
    from datetime import date

    from cdna.serve.audit import AuditLog, audit_path

    shown = rich.get("/v1/search/customers", params={"q": "ㅂㅁ", "limit": 3}, headers=keys.h()).json()
    ids = [h["customer_id"] for h in shown["hits"]]
    assert len(ids) == 3
    rich.get("/v1/search/customers", params={"q": "ㅎㅎ"}, headers=keys.h())  # found nobody: showed nobody
    rows = AuditLog(audit_path(lake.root)).export(date(2000, 1, 1), date(2100, 1, 1))
    searched = [r for r in rows if r["endpoint"] == "/v1/search/customers"]
    assert sorted(r["customer_id"] for r in searched) == sorted(ids)
    assert {(r["key_name"], r["purpose"], r["status"]) for r in searched} == {("staff-kim", "review", 200)}


def test_masking_and_initials() -> None:
    from cdna.serve.insight import choseong, mask_name, mask_phone

    assert [mask_name(n) for n in ("김민수", "남궁민수", "이수", "김")] == ["김*수", "남**수", "이*", "김"]
    assert mask_phone("010-1234-5678") == "010-****-5678" and mask_phone("01012345678") == "010-****-5678"
    assert choseong("김민수") == "ㄱㅁㅅ" and choseong("쌍용A") == "ㅆㅇA"


def test_market_trends_by_segment_and_region(rich: TestClient, keys: Keys) -> None:
    body = rich.get("/v1/market/trends?weeks=8", headers=keys.h()).json()
    assert len(body["weeks"]) == 8 and body["series"]
    kinds = {s["kind"] for s in body["series"]}
    assert {"intent", "interest"} <= kinds
    assert any(s["name"] == "전세자금대출 문의" for s in body["series"])
    assert set(body["regions"]) == {"서울특별시", "부산광역시", "경기도"}
    total = sum(s["total"] for s in body["series"])
    seoul = rich.get("/v1/market/trends?weeks=8&region=서울특별시", headers=keys.h()).json()
    assert 0 < sum(s["total"] for s in seoul["series"]) < total


def test_api_docs_are_served_without_a_cdn(rich: TestClient) -> None:
    for page in ("/docs", "/redoc"):
        html = rich.get(page).text
        assert "cdn.jsdelivr" not in html and "/docs-assets/" in html and "fonts.googleapis" not in html
    js = rich.get("/docs-assets/swagger-ui-bundle.js")
    assert js.status_code == 200 and len(js.content) > 100_000
    assert rich.get("/docs-assets/../../etc/passwd").status_code == 404
