"""The fast lane answers exactly what the app would: same status, body, headers that matter, and audit rows.

Generated requests (seeded) mix valid lookups with every way a request can fall out of the fast lane:
missing, malformed, unknown, revoked and under-privileged keys, missing or unknown purposes, unknown or
malformed customer ids, out-of-range, non-numeric, zero-padded and repeated `k`, and extra parameters.
"""

from __future__ import annotations

import random
import shutil
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient

from cdna.core.lake import Lake
from cdna.features.online import SqliteOnlineStore
from cdna.recommend.scoring import write_online
from cdna.serve.app import create_app
from cdna.serve.audit import AuditLog, audit_path
from cdna.serve.keys import KeyStore, keys_path
from tests.serve.conftest import N_CUSTOMERS, Keys, settings_for
from tests.serve.lakes import customer_ids, recommendations_table

PURPOSES = ["review", "counseling", "sales", "app", None, "", "marketing", "COUNSELING"]
QUERIES = ["", "k=1", "k=3", "k=20", "k=21", "k=0", "k=05", "k=abc", "k=2&k=3", "k=2&x=1", "x=1", "k="]


def _with_online_recs(lake: Lake) -> None:
    """Materialise the lake's batch scores into the online top-k store (the fast lane then caches renders)."""
    table = recommendations_table(N_CUSTOMERS, "cdna-recommender/1")
    write_online(lake, table, {"as_of": "2025-06-30", "model_version": 1, "kind": "recommendations"})


def _requests(keys: Keys, extra: dict[str, str], seed: int, n: int) -> list[tuple[str, dict[str, str]]]:
    """Plain lookups, and lookups with one thing changed (key, purpose, id or query), in a seeded mix."""
    rng = random.Random(seed)
    ids = customer_ids(N_CUSTOMERS)
    odd_ids = ["C9999999", "-bad", "C" * 70, "C0000001%20"]
    auths = [
        f"Bearer {keys.ml}",
        f"bearer {keys.admin}",
        f"Bearer {extra['revoked']}",
        f"Bearer {extra['system']}",
        "Bearer cdna_unknown",
        "Basic abc",
        "Bearer",
        None,
    ]
    out = []
    for _ in range(n):
        cid, query = rng.choice(ids), rng.choice(QUERIES[:4])
        auth: str | None = f"Bearer {keys.staff}"
        purpose: str | None = rng.choice(PURPOSES[:4])
        change = rng.choice(["none", "none", "auth", "purpose", "id", "query"])
        if change == "auth":
            auth = rng.choice(auths)
        elif change == "purpose":
            purpose = rng.choice(PURPOSES[4:])
        elif change == "id":
            cid = rng.choice(odd_ids)
        elif change == "query":
            query = rng.choice(QUERIES[4:])
        headers = {}
        if auth is not None:
            headers["Authorization"] = auth
        if purpose is not None:
            headers["X-Purpose"] = purpose
        if rng.random() < 0.2:
            headers["X-Cdna-Client"] = "console"
        out.append((f"/v1/customers/{cid}/recommendations" + (f"?{query}" if query else ""), headers))
    return out


def _answer(r: Any) -> tuple[int, str | None, Any]:
    """Status, content type and body with the per-request offer ids replaced by whether one was given."""
    try:
        body = r.json()
    except ValueError:
        body = r.text
    if isinstance(body, dict):
        for item in body.get("recommendations", []) or []:
            if "offer_id" in item:
                item["offer_id"] = bool(item["offer_id"])
    return r.status_code, r.headers.get("content-type"), body


def _audit(lake: Lake) -> list[tuple[Any, ...]]:
    rows = AuditLog(audit_path(lake.root)).export(date(2000, 1, 1), date(2100, 1, 1))
    return [(r["key_name"], r["customer_id"], r["endpoint"], r["purpose"], r["status"]) for r in rows]


@pytest.mark.parametrize("online_recs", [False, True], ids=["batch-parquet", "online-store"])
def test_fast_lane_answers_and_audits_like_the_app(
    lake: Lake, keys: Keys, tmp_path: Any, online_recs: bool
) -> None:
    if online_recs:
        _with_online_recs(lake)
    store = KeyStore(keys_path(lake.root))
    extra = {"revoked": store.create("gone", "staff"), "system": store.create("feeder", "system")}
    store.revoke("gone")
    requests = _requests(keys, extra, seed=16, n=240)
    answers: dict[bool, list[Any]] = {}
    audits: dict[bool, list[Any]] = {}
    for fast in (False, True):
        shutil.copytree(lake.root, tmp_path / f"copy-{fast}")
        copy = Lake.at(tmp_path / f"copy-{fast}")
        app = create_app(settings_for(copy, fast_lookup=fast))
        assert (getattr(app, "fast", None) is not None) is fast
        with TestClient(app, raise_server_exceptions=False) as c:
            answers[fast] = [_answer(c.get(url, headers=h)) for url, h in requests]
        audits[fast] = _audit(copy)
        if fast:
            ok = sum(a[0] == 200 for a in answers[fast])
            assert app.fast.answered > ok // 2, (app.fast.answered, ok)  # the lane, not the app, answered
    statuses = {a[0] for a in answers[True]}
    assert {200, 400, 401, 403, 404, 422} <= statuses, (
        statuses
    )  # the generator reached every way out of the lane
    for i, (slow, fast) in enumerate(zip(answers[False], answers[True], strict=True)):
        assert fast == slow, f"request {i} {requests[i]}: app {slow[:2]} vs fast lane {fast[:2]}"
    assert audits[True] == audits[False]
    offers = [a for a in answers[True] if a[0] == 200 and a[2]["recommendations"]]
    assert any("offer_id" in a[2]["recommendations"][0] for a in offers)  # counseling/sales/app got offer ids
    assert any("offer_id" not in a[2]["recommendations"][0] for a in offers)  # review did not


def test_an_updated_row_is_served_on_the_next_request(lake: Lake, keys: Keys) -> None:
    _with_online_recs(lake)
    app = create_app(settings_for(lake))
    cid = customer_ids(N_CUSTOMERS)[2]
    url = f"/v1/customers/{cid}/recommendations?k=3"
    with TestClient(app) as c:
        before = c.get(url, headers=keys.h()).json()
        assert c.get(url, headers=keys.h()).json() == before  # a rendered answer is reused...
        # ...until an event rewrites the customer's row (as the event path does through put_many)
        SqliteOnlineStore(lake.online_recommendations_db).put_many(
            {
                cid: {
                    "as_of": "2025-07-01",
                    "model_version": "cdna-recommender/1",
                    "recommendations": [
                        {
                            "rank": 1,
                            "product_id": "jeonse_loan",
                            "score": 0.9,
                            "reasons": ["전세대출 상담 통화가 있었습니다."],
                            "evidence_ids": ["call:NEW"],
                        }
                    ],
                }
            }
        )
        after = c.get(url, headers=keys.h()).json()
    assert before["recommendations"][0]["product_id"] != "jeonse_loan" or before["as_of"] != "2025-07-01"
    assert after["as_of"] == "2025-07-01"
    assert [r["product_id"] for r in after["recommendations"]] == ["jeonse_loan"]
    assert after["recommendations"][0]["evidence_ids"] == ["call:NEW"]


def test_a_key_revoked_by_another_process_is_refused_at_once(lake: Lake, keys: Keys) -> None:
    app = create_app(settings_for(lake))
    url = f"/v1/customers/{customer_ids(N_CUSTOMERS)[0]}/recommendations"
    with TestClient(app) as c:
        assert c.get(url, headers=keys.h()).status_code == 200  # the key is now cached as valid
        KeyStore(keys_path(lake.root)).revoke("staff-kim")  # another connection, as `cdna keys revoke`
        assert c.get(url, headers=keys.h()).status_code == 401


def test_a_request_handed_to_the_app_is_charged_one_token(lake: Lake, keys: Keys) -> None:
    app = create_app(settings_for(lake, rate_limit_per_minute=1, rate_limit_burst=3))
    ok = f"/v1/customers/{customer_ids(N_CUSTOMERS)[0]}/recommendations"
    with TestClient(app) as c:
        codes = [
            c.get("/v1/customers/C9999999/recommendations", headers=keys.h()).status_code,  # app: 404
            c.get(ok, headers=keys.h()).status_code,  # fast lane
            c.get(ok + "?k=2", headers=keys.h()).status_code,  # fast lane
            c.get(ok, headers=keys.h()).status_code,  # burst spent: the app's 429
        ]
    assert codes == [404, 200, 200, 429]
