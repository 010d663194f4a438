"""Model hot-swap: a promotion (champion alias + new batch scores) goes live without a failed request;
a broken load keeps the old snapshot and shows on /readyz."""

from __future__ import annotations

import shutil
import threading
import time
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from cdna.core.lake import Lake
from cdna.serve.app import create_app
from tests.serve.conftest import Keys, settings_for
from tests.serve.lakes import N_DEFAULT, write_online, write_recommendations

MODEL = "cdna-recommender"


@pytest.fixture(scope="session")
def _mlflow_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A registry with versions 1 and 2 of the recommender, champion = 1 (built once: MLflow's migrations are slow)."""
    from mlflow.tracking import MlflowClient

    folder = tmp_path_factory.mktemp("mlflow")
    uri = f"sqlite:///{folder / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    client.create_registered_model(MODEL)
    for v in (1, 2):
        client.create_model_version(MODEL, source=str(folder / f"model-{v}"), run_id=None)
    client.set_registered_model_alias(MODEL, "champion", "1")
    client.set_registered_model_alias(MODEL, "challenger", "2")
    return folder / "mlflow.db"


def _promote(lake: Lake, version: str) -> None:
    from mlflow.tracking import MlflowClient

    uri = lake.mlflow_uri
    MlflowClient(tracking_uri=uri, registry_uri=uri).set_registered_model_alias(MODEL, "champion", version)


@pytest.mark.slow
def test_promotion_swaps_without_failed_requests(lake: Lake, keys: Keys, _mlflow_template: Path) -> None:
    shutil.copy(_mlflow_template, lake.root / "mlflow.db")
    app = create_app(settings_for(lake))
    holder = app.state.ctx.holder
    with TestClient(app) as c:
        before = c.get("/v1/models", headers=keys.h()).json()
        assert before["champion"]["version"] == "1"
        assert {v["version"]: v["aliases"] for v in before["versions"]} == {
            "1": ["champion"],
            "2": ["challenger"],
        }

        started = threading.Event()  # promote only once the old model has served some requests

        def promote() -> None:
            started.wait(30)
            write_recommendations(lake, N_DEFAULT, f"{MODEL}/2", day=date(2025, 7, 1))
            write_online(lake, N_DEFAULT, seed=8)
            _promote(lake, "2")
            assert holder.refresh()

        t = threading.Thread(target=promote)
        t.start()
        statuses: list[int] = []
        versions: set[str | None] = set()
        deadline = time.time() + 30
        after_swap = 0  # requests sent once the promotion finished: the new model must be served
        while (t.is_alive() or len(statuses) < 50 or after_swap < 5) and time.time() < deadline:
            done = not t.is_alive()
            r = c.get(f"/v1/customers/C{len(statuses) % 30 + 1:07d}/recommendations", headers=keys.h())
            statuses.append(r.status_code)
            versions.add(r.json().get("model_version"))
            after_swap += done
            if len(statuses) == 10:
                started.set()
        t.join()
        assert set(statuses) == {200}, statuses
        assert versions == {f"{MODEL}/1", f"{MODEL}/2"}  # both served, none failed
        after = c.get("/v1/models", headers=keys.h()).json()
        assert after["champion"]["version"] == "2" and after["serving"]["scores_as_of"] == "2025-07-01"
        assert after["serving"]["scores_behind_champion"] is False
        body = c.get("/v1/customers/C0000001/recommendations", headers=keys.h()).json()
        assert body["model_version"] == f"{MODEL}/2"


def test_failed_load_keeps_the_old_one_and_shows_on_readyz(lake: Lake, keys: Keys) -> None:
    app = create_app(settings_for(lake))
    holder = app.state.ctx.holder
    with TestClient(app) as c:
        good = c.get("/v1/customers/C0000001/recommendations", headers=keys.h()).json()
        bad = lake.root / "recommendations" / "date=2025-07-02" / "part-0.parquet"
        bad.parent.mkdir(parents=True)
        bad.write_bytes(b"PAR1 this is not parquet")
        assert holder.refresh() is False
        ready = c.get("/readyz")
        assert ready.status_code == 200
        body = ready.json()
        assert body["ready"] and body["degraded"] and "2025-07-02" in body["last_error"]
        again = c.get("/v1/customers/C0000001/recommendations", headers=keys.h())
        assert again.status_code == 200 and again.json() == good
        assert "cdna_degraded 1.0" in c.get("/metrics").text
        shutil.rmtree(bad.parent)
        holder.refresh()
        assert c.get("/readyz").json()["degraded"] is False


def test_background_poll_picks_up_new_scores(lake: Lake, keys: Keys) -> None:
    app = create_app(settings_for(lake, reload_interval_s=0.2))
    with TestClient(app) as c:
        write_recommendations(lake, N_DEFAULT, "cdna-recommender/7", day=date(2025, 7, 3))
        deadline = time.time() + 15
        version = None
        while time.time() < deadline:
            version = c.get("/v1/customers/C0000001/recommendations", headers=keys.h()).json()[
                "model_version"
            ]
            if version == "cdna-recommender/7":
                break
            time.sleep(0.1)
        assert version == "cdna-recommender/7"


def test_serves_the_recommenders_online_top_k_store(lake: Lake, keys: Keys) -> None:
    scoring = pytest.importorskip("cdna.recommend.scoring", reason="the recommender stage is not installed")
    from tests.serve.lakes import recommendations_table

    table = recommendations_table(N_DEFAULT, "4", day=date(2025, 7, 5))
    scoring.write_online(lake, table, {"as_of": "2025-07-05", "model_version": 4, "kind": "recommendations"})
    app = create_app(settings_for(lake))
    with TestClient(app) as c:
        body = c.get("/v1/customers/C0000001/recommendations", params={"k": 2}, headers=keys.h()).json()
        assert body["model_version"] == "4" and body["as_of"] == "2025-07-05"
        assert [r["rank"] for r in body["recommendations"]] == [1, 2]
        assert "010-1234-5678" not in str(body) and "[PHONE]" in str(body)
        assert (
            c.get("/v1/customers/C0000040/recommendations", headers=keys.h()).json()["recommendations"] == []
        )
        assert c.get("/readyz").json()["customers_with_scores"] == N_DEFAULT - 1
        m = c.get("/v1/models", headers=keys.h()).json()["serving"]
        assert m["scores_model_version"] == "4" and m["scores_as_of"] == "2025-07-05"
