"""The HTTP API through TestClient: auth, roles, limits, audit, masking, errors, retrain."""

from __future__ import annotations

import json
import sys
import time
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from cdna.core.lake import Lake
from cdna.core.secrets import SecretKey, load_key
from cdna.serve.app import create_app
from cdna.serve.audit import AuditLog, audit_path
from cdna.serve.keys import KeyStore, keys_path
from tests.serve.conftest import Keys, settings_for
from tests.serve.lakes import LEAKY_EVIDENCE, LEAKY_REASON

PROBLEM = "application/problem+json"
RECS = "/v1/customers/C0000002/recommendations"


def _is_problem(r, status: int) -> dict:  # type: ignore[no-untyped-def]
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith(PROBLEM)
    body = r.json()
    assert (
        body["status"] == status
        and body["title"]
        and body["title_ko"]
        and body["type"].startswith("/problems/")
    )
    assert "Traceback" not in r.text and 'File "' not in r.text
    return body  # type: ignore[no-any-return]


def test_recommendations_have_korean_reasons_and_model_version(client: TestClient, keys: Keys) -> None:
    r = client.get(RECS, params={"k": 3}, headers=keys.h())
    assert r.status_code == 200
    body = r.json()
    assert body["customer_id"] == "C0000002" and body["k"] == 3 and body["as_of"] == "2025-06-30"
    assert body["model_version"] == "cdna-recommender/1"
    recs = body["recommendations"]
    assert [x["rank"] for x in recs] == [1, 2, 3]
    assert all(any("\uac00" <= ch <= "\ud7a3" for ch in x["reasons"][0]) for x in recs)
    assert all(x["product_name"] and x["evidence_ids"] for x in recs)
    assert len(client.get(RECS, headers=keys.h()).json()["recommendations"]) == 5


def test_known_customer_without_scores_gets_an_empty_list(client: TestClient, keys: Keys) -> None:
    r = client.get("/v1/customers/C0000040/recommendations", headers=keys.h())
    assert r.status_code == 200 and r.json()["recommendations"] == []


def test_profile_has_segment_intents_and_masked_evidence(client: TestClient, keys: Keys) -> None:
    r = client.get("/v1/customers/C0000001/profile", headers=keys.h())
    assert r.status_code == 200
    p = r.json()
    assert p["segment"]["name"] and p["rfm"]["recency_days"] >= 0 and 0 <= p["churn_risk"] <= 1
    assert p["recent_intents"][0]["name"] == "전세자금대출 문의"
    text = r.text
    assert "900101-1234567" not in text and "1234567" not in text and "[RRN]" in text
    assert LEAKY_EVIDENCE not in text


def test_reasons_are_masked_again_on_the_way_out(client: TestClient, keys: Keys) -> None:
    r = client.get("/v1/customers/C0000001/recommendations", headers=keys.h())
    assert "010-1234-5678" not in r.text and LEAKY_REASON not in r.text
    assert "[PHONE]" in r.text


def test_401_without_or_with_unknown_or_revoked_key(client: TestClient, lake: Lake, keys: Keys) -> None:
    body = _is_problem(client.get(RECS), 401)
    assert "Bearer" in body["detail"]
    assert client.get(RECS).headers["www-authenticate"].startswith("Bearer")
    _is_problem(client.get(RECS, headers={"Authorization": "Bearer cdna_not-a-key"}), 401)
    _is_problem(client.get(RECS, headers={"Authorization": "Basic YWxhZGRpbjpvcGVu"}), 401)
    KeyStore(keys_path(lake.root)).revoke("staff-kim")
    _is_problem(client.get(RECS, headers=keys.h()), 401)


def test_403_for_staff_on_retrain_and_keys(client: TestClient, keys: Keys) -> None:
    body = _is_problem(client.post("/v1/retrain", headers=keys.h("staff")), 403)
    assert "ml" in body["detail"] and "권한" in body["detail_ko"]
    _is_problem(client.get("/v1/keys", headers=keys.h("ml")), 403)
    assert client.get("/v1/keys", headers=keys.h("admin")).status_code == 200


def test_404_unknown_customer_and_422_malformed(client: TestClient, keys: Keys) -> None:
    body = _is_problem(client.get("/v1/customers/C9999999/recommendations", headers=keys.h()), 404)
    assert "not known" in body["detail"] and body["detail_ko"]
    assert body["instance"] == "/v1/customers/{id}/recommendations"
    _is_problem(client.get("/v1/customers/C9999999/profile", headers=keys.h()), 404)
    # A resident number typed as an id is not echoed back: errors never quote it (and are never masked).
    r = client.get("/v1/customers/900101-1234567/profile", headers=keys.h())
    _is_problem(r, 404)
    assert "1234567" not in r.text and "[" not in r.json()["detail"]
    # The 422 states the id pattern as it is (the masker once turned part of it into `[[EMAIL]]`, issue #14).
    body = _is_problem(client.get("/v1/customers/-bad/profile", headers=keys.h()), 422)
    assert "[A-Za-z0-9" in body["detail"] and "[[" not in json.dumps(body, ensure_ascii=False)
    for bad in ["%27%3B%20DROP%20TABLE", "-C1", "C" * 70, "%EA%B9%80%EC%B2%A0%EC%88%98"]:
        _is_problem(client.get(f"/v1/customers/{bad}/recommendations", headers=keys.h()), 422)
    for k in ("0", "21", "abc"):
        _is_problem(client.get(RECS, params={"k": k}, headers=keys.h()), 422)
    _is_problem(client.get("/v1/nothing-here", headers=keys.h()), 404)
    _is_problem(client.delete(RECS, headers=keys.h()), 405)


@pytest.mark.parametrize("purpose", [None, "", "curiosity", "counseling; DROP", "상담"])
def test_lookups_need_an_allowed_purpose(client: TestClient, keys: Keys, purpose: str | None) -> None:
    headers = keys.h(purpose=None)
    if purpose is not None:
        headers["X-Purpose"] = purpose.encode("utf-8")  # type: ignore[assignment]  # raw UTF-8 bytes, as curl sends
    for url in (RECS, "/v1/customers/C0000001/profile"):
        body = _is_problem(client.get(url, headers=headers), 400)
        assert (
            "X-Purpose" in body["detail"]
            and "counseling, sales, complaint, review, compliance, campaign, app" in body["detail"]
        )
        assert body["type"] == "/problems/purpose-required" and "curiosity" not in body["detail"]
    assert client.get(RECS, headers=keys.h(purpose="review")).status_code == 200
    assert client.get(RECS, headers={"X-Purpose": "counseling"}).status_code == 401  # who first, then why


def test_audit_records_the_id_as_routed_decoded_once(lake: Lake, keys: Keys) -> None:
    # "%2541" is "%41" once decoded; decoding it again gave "A" and recorded another customer (issue #14).
    # A real server: Starlette's TestClient itself decodes the path twice.
    import httpx

    from tests.serve.live import live_server

    with live_server(create_app(settings_for(lake))) as base:
        assert httpx.get(f"{base}/v1/customers/C%2541/profile", headers=keys.h()).status_code == 422
        assert httpx.get(f"{base}/v1/customers/C0000007/profile", headers=keys.h()).status_code == 200
    rows = AuditLog(audit_path(lake.root), read_only=True).export(date(2000, 1, 1), date(2100, 1, 1))
    assert [r["customer_id"] for r in rows] == ["C%41", "C0000007"]


def _audit_key(lake: Lake) -> SecretKey:
    return load_key("audit", settings_for(lake).audit_key_file, None, lake.root)


def test_500_is_a_problem_without_stack_trace(
    client: TestClient, keys: Keys, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cdna.serve.routers import customers

    def boom(*a: object) -> None:
        raise RuntimeError("secret internals C0000001 010-1234-5678")

    monkeypatch.setattr(customers, "profile_of", boom)
    body = _is_problem(client.get("/v1/customers/C0000001/profile", headers=keys.h()), 500)
    assert "secret" not in json.dumps(body) and "RuntimeError" not in json.dumps(body)


def test_every_lookup_is_audited_once(client: TestClient, lake: Lake, keys: Keys) -> None:
    calls = [
        ("/v1/customers/C0000003/recommendations", 200),
        ("/v1/customers/C0000003/profile", 200),
        ("/v1/customers/C9999999/profile", 404),
        ("/v1/customers/-bad/profile", 422),
    ]
    for url, status in calls:
        assert client.get(url, headers={**keys.h(), "X-Purpose": "counseling"}).status_code == status
    client.get("/v1/customers/C0000004/profile")  # no key: nobody to record
    client.get("/v1/models", headers=keys.h())  # not a customer lookup
    rows = AuditLog(audit_path(lake.root)).export(
        __import__("datetime").date(2000, 1, 1), __import__("datetime").date(2100, 1, 1)
    )
    assert [(r["customer_id"], r["status"]) for r in rows] == [
        ("C0000003", 200),
        ("C0000003", 200),
        ("C9999999", 404),
        ("-bad", 422),
    ]
    assert {r["key_name"] for r in rows} == {"staff-kim"} and {r["purpose"] for r in rows} == {"counseling"}
    assert rows[0]["endpoint"] == "/v1/customers/{id}/recommendations"
    assert AuditLog(audit_path(lake.root), read_only=True).verify(_audit_key(lake)).ok


def test_429_past_the_rate_limit_with_retry_after(lake: Lake, keys: Keys) -> None:
    app = create_app(settings_for(lake, rate_limit_per_minute=60, rate_limit_burst=3))
    with TestClient(app) as c:
        codes = [c.get(RECS, headers=keys.h()).status_code for _ in range(5)]
        assert codes == [200, 200, 200, 429, 429]
        r = c.get(RECS, headers=keys.h())
        body = _is_problem(r, 429)
        assert int(r.headers["retry-after"]) >= 1 and "staff-kim" in body["detail"]
        assert c.get(RECS, headers=keys.h("ml")).status_code == 200  # other keys are unaffected
    rows = AuditLog(audit_path(lake.root)).count()
    assert rows == 7  # the refused lookups are recorded too, with status 429


def test_models_health_ready_metrics(client: TestClient, keys: Keys) -> None:
    m = client.get("/v1/models", headers=keys.h()).json()
    assert m["serving"]["scores_model_version"] == "cdna-recommender/1" and m["champion"] is None
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz").json()
    assert ready["ready"] and not ready["degraded"] and ready["customers_with_scores"] == 39
    client.get(RECS, headers=keys.h())
    text = client.get("/metrics").text
    assert (
        'cdna_http_requests_total{method="GET",route="/v1/customers/{id}/recommendations",status="200"}'
        in text
    )
    assert "cdna_ready 1.0" in text


def test_not_ready_lake_gives_503(tmp_path: Path) -> None:
    lake = Lake.at(tmp_path / "empty", create=True)
    key = KeyStore(keys_path(lake.root)).create("k", "staff")
    with TestClient(create_app(settings_for(lake))) as c:
        assert c.get("/readyz").status_code == 503
        assert c.get("/readyz").json()["last_error"]
        _is_problem(c.get(RECS, headers={"Authorization": f"Bearer {key}", "X-Purpose": "sales"}), 503)


def test_retrain_runs_in_background_and_reports_metrics(lake: Lake, keys: Keys, tmp_path: Path) -> None:
    script = tmp_path / "fake_retrain.py"
    script.write_text(
        "import json, sys, time\ntime.sleep(0.3)\n"
        "print(json.dumps({'promoted': True, 'metrics': {'map@5': 0.41}, 'lake': sys.argv[1]}))\n"
    )
    marker = tmp_path / "rescored"
    rescore = (sys.executable, "-c", f"import pathlib; pathlib.Path({str(marker)!r}).write_text('{{lake}}')")
    app = create_app(
        settings_for(lake, retrain_command=(sys.executable, str(script), "{lake}"), rescore_command=rescore)
    )
    with TestClient(app) as c:
        r = c.post("/v1/retrain", headers=keys.h("ml"))
        assert r.status_code == 202
        run_id = r.json()["run_id"]
        assert r.headers["location"] == f"/v1/runs/{run_id}"
        assert c.post("/v1/retrain", headers=keys.h("admin")).status_code == 409
        deadline = time.time() + 20
        state = {}
        while time.time() < deadline:
            state = c.get(f"/v1/runs/{run_id}", headers=keys.h("ml")).json()
            if state["state"] in ("succeeded", "failed"):
                break
            time.sleep(0.1)
        assert state["state"] == "succeeded" and state["metrics"] == {"map@5": 0.41}
        assert state["promoted"] is True and state["rescore_exit_code"] == 0
        assert marker.read_text() == str(lake.root)  # the new champion's batch scores were requested
        assert state["requested_by"] == "ml-lee"
        _is_problem(c.get("/v1/runs/20250101T000000Z-deadbeef", headers=keys.h("ml")), 404)
        _is_problem(c.get("/v1/runs/..keys", headers=keys.h("ml")), 422)
        assert c.get("/v1/runs/..%2F..%2Fkeys", headers=keys.h("ml")).status_code == 404


def test_failed_retrain_is_reported(lake: Lake, keys: Keys) -> None:
    app = create_app(
        settings_for(lake, retrain_command=(sys.executable, "-c", "import sys; sys.exit('no training data')"))
    )
    with TestClient(app) as c:
        run_id = c.post("/v1/retrain", headers=keys.h("ml")).json()["run_id"]
        for _ in range(100):
            state = c.get(f"/v1/runs/{run_id}", headers=keys.h("ml")).json()
            if state["state"] in ("succeeded", "failed"):
                break
            time.sleep(0.1)
        assert state["state"] == "failed" and state["exit_code"] == 1 and "no training data" in state["error"]
        assert state.get("rescore_exit_code") is None


def test_admin_manages_keys_over_http(client: TestClient, keys: Keys) -> None:
    r = client.post("/v1/keys", json={"name": "branch-02", "role": "staff"}, headers=keys.h("admin"))
    assert r.status_code == 201
    new = r.json()["key"]
    assert (
        client.get(RECS, headers={"Authorization": f"Bearer {new}", "X-Purpose": "sales"}).status_code == 200
    )
    assert (
        client.post(
            "/v1/keys", json={"name": "branch-02", "role": "staff"}, headers=keys.h("admin")
        ).status_code
        == 409
    )
    assert client.delete("/v1/keys/branch-02", headers=keys.h("admin")).status_code == 200
    assert (
        client.get(RECS, headers={"Authorization": f"Bearer {new}", "X-Purpose": "sales"}).status_code == 401
    )
    listed = client.get("/v1/keys", headers=keys.h("admin")).json()
    assert all("key" not in k for k in listed) and {k["name"] for k in listed} >= {"staff-kim", "branch-02"}


def test_console_page_is_korean(client: TestClient) -> None:
    r = client.get("/console")
    assert r.status_code == 200 and "고객 DNA 상담 콘솔" in r.text and 'lang="ko"' in r.text
    js = client.get("/console/console.js")
    assert (
        js.status_code == 200
        and "sessionStorage" in js.text
        and "innerHTML" not in js.text.replace("never innerHTML", "")
    )
