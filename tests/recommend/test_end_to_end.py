"""The recommender end to end on the 2,000-customer synthetic bank: train, gate, registry, scoring, CLI."""

from __future__ import annotations

import json
import shutil
import sqlite3

import pyarrow.parquet as pq
import pytest

from cdna.cli.app import main
from cdna.contracts.schemas import RECOMMENDATIONS, conform
from cdna.core.config import load_config, load_products
from cdna.core.lake import Lake

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def lake(world_lake: Lake, tmp_path_factory: pytest.TempPathFactory) -> Lake:
    """A private copy of the session bank's raw tables (the recommender writes mlflow.db, reports …)."""
    root = tmp_path_factory.mktemp("recommend") / "lake"
    shutil.copytree(world_lake.root / "raw", root / "raw")
    return Lake.at(root)


def test_empty_registry_is_a_clear_error(lake: Lake, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["recommend", "C0000001", "--lake", str(lake.root)]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "no champion model yet" in err and "cdna retrain --lake" in err and "Traceback" not in err


def test_retrain_gate_registry_and_scoring(lake: Lake) -> None:
    from cdna.recommend.runner import recommend_run, registry, retrain_run

    cfg = load_config(environ={})
    first = retrain_run(lake, cfg)
    assert first.decision is not None and first.decision.promote and first.champion_version == 1
    m = first.train.evaluation.table()["map@5"]  # type: ignore[union-attr]
    # issue #6 acceptance on the fixed-seed bank: ≥ 1.5x popularity, all features ≥ 1.1x structured-only
    assert m["model"] >= 1.5 * m["popularity"], m
    assert m["model"] >= 1.1 * m["structured_only"], m

    fast = cfg.model_copy(update={"recommend": cfg.recommend.model_copy(update={"n_estimators": 60})})
    bad = retrain_run(lake, fast, shuffle_labels=True)
    assert bad.decision is not None and not bad.decision.promote
    assert bad.champion_version == 1 and "not promoted" in bad.decision.reasons[-1]
    reg = registry(lake, cfg)
    assert reg.alias("champion") == 1 and reg.alias("challenger") == 2
    tags = reg.client.get_run(bad.train.run_id).data.tags  # type: ignore[union-attr]
    assert tags["gate.promoted"] == "False" and "not promoted" in tags["gate.reason"]

    reg.promote(2)
    assert reg.rollback() == (2, 1) and reg.alias("champion") == 1

    out = lake.root / "recs.parquet"
    table, version, day, paths = recommend_run(lake, cfg, out=out)
    assert version == 1 and out.exists() and paths[0].parent.name == f"date={day}"
    conform(pq.read_table(out), RECOMMENDATIONS, str(out))
    df = table.to_pandas()
    assert df.groupby("customer_id").size().max() == cfg.recommend.k
    assert df["product_id"].isin(load_products().ids).all()
    assert df["reasons"].map(len).min() >= 1
    assert df["reasons"].explode().str.contains("[가-힣]").all()
    assert (df["evidence_ids"].map(len) > 0).any()
    con = sqlite3.connect(lake.online / "recommendations.sqlite")
    assert con.execute("SELECT count(*) FROM vectors").fetchone()[0] == df["customer_id"].nunique()

    # a recommended product is never one the customer holds at the as-of
    from cdna.recommend.runner import _current_snapshot, feature_set

    snap = _current_snapshot(lake, feature_set(cfg), day).set_index("customer_id")
    held = [snap.at[r.customer_id, f"held_{r.product_id}"] for r in df.head(500).itertuples()]
    assert not any(held)


def test_cli_models_and_one_customer(lake: Lake, capsys: pytest.CaptureFixture[str]) -> None:
    if not (lake.root / "mlflow.db").exists():
        pytest.skip("needs the registry built by the previous test")
    capsys.readouterr()
    assert main(["--json", "models", "list", "--lake", str(lake.root)]) == 0
    versions = json.loads(capsys.readouterr().out)["versions"]
    assert [v["version"] for v in versions] == [2, 1] and versions[1]["aliases"] == ["champion"]
    capsys.readouterr()
    assert main(["--json", "recommend", "C0000001", "--lake", str(lake.root)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert len(data["recommendations"]) == 5 and data["model_version"] == 1
    assert all(r["reasons"] for r in data["recommendations"])
    assert main(["recommend", "C9999999", "--lake", str(lake.root)]) == 2
    assert "C9999999" in capsys.readouterr().err


@pytest.mark.parametrize("order", ["global", "local"])
def test_evaluate_json_in_both_orders(
    lake: Lake, order: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CDNA_RECOMMEND__N_ESTIMATORS", "30")  # the shape is under test here, not the margins
    monkeypatch.setenv("CDNA_RECOMMEND__TRAIN_MONTHS", "3")
    args = ["evaluate", "--lake", str(lake.root)]
    capsys.readouterr()
    assert main(["--json", *args] if order == "global" else [*args, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data["map@5"]) >= {"model", "popularity", "structured_only"}
    assert {"ndcg@5", "recall@5", "hitrate@5", "coverage", "lift"} <= set(data)
    assert 0 < data["map@5"]["popularity"] < data["map@5"]["model"] <= 1


def test_a_copied_lake_works_after_the_original_is_gone(
    lake: Lake, tmp_path_factory: pytest.TempPathFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 18: artifact paths follow the lake, and the champion is an MLflow pyfunc model."""
    if not (lake.root / "mlflow.db").exists():
        pytest.skip("needs the registry built by the earlier tests")
    import mlflow
    import pandas as pd

    from cdna.recommend.runner import _current_snapshot, feature_set

    moved = tmp_path_factory.mktemp("moved") / "lake"
    shutil.copytree(lake.root, moved)
    backup = lake.root.with_name("lake-away")
    lake.root.rename(backup)  # the original is gone while the copy is used
    try:
        capsys.readouterr()
        assert main(["--json", "recommend", "C0000001", "--lake", str(moved), "--fresh"]) == 0
        data = json.loads(capsys.readouterr().out)
        assert len(data["recommendations"]) == 5
        assert main(["--json", "models", "list", "--lake", str(moved)]) == 0
        capsys.readouterr()
        mlflow.set_tracking_uri(f"sqlite:///{moved / 'mlflow.db'}")
        mlflow.set_registry_uri(f"sqlite:///{moved / 'mlflow.db'}")
        model = mlflow.pyfunc.load_model("models:/cdna-recommender@champion")
        cfg = load_config(environ={})
        snap = _current_snapshot(Lake.at(moved), feature_set(cfg), pd.Timestamp(data["as_of"]).date())
        out = model.predict(snap.head(20))
        assert set(out["customer_id"]) == set(snap.head(20)["customer_id"])
        assert out.groupby("customer_id").size().max() == cfg.recommend.k
        assert out["reasons"].map(len).min() >= 1
        local = mlflow.artifacts.download_artifacts("models:/cdna-recommender@champion")
        names = {p.name for p in __import__("pathlib").Path(local).rglob("*")}
        assert {"MLmodel", "features.json", "reasons.json"} <= names
    finally:
        backup.rename(lake.root)


def test_mlflow_ui_serves_the_lakes_runs(lake: Lake) -> None:
    """README's `cdna mlflow-ui --lake L` starts the MLflow UI (full mlflow) and lists the runs."""
    if not (lake.root / "mlflow.db").exists():
        pytest.skip("needs the registry built by the earlier tests")
    import os
    import signal
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "cdna", "mlflow-ui", "--lake", str(lake.root), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 180
        while True:
            try:
                page = urllib.request.urlopen(base + "/", timeout=5).read().decode()
                break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, "the MLflow UI did not start"
                time.sleep(1)
        assert "<html" in page.lower()  # the UI itself, not only the tracking API
        req = urllib.request.Request(
            base + "/api/2.0/mlflow/runs/search",
            data=json.dumps({"experiment_ids": ["1"]}).encode(),
            headers={"Content-Type": "application/json"},
        )
        runs = json.loads(urllib.request.urlopen(req, timeout=30).read())["runs"]
        names = [r["info"]["run_name"] for r in runs]
        assert names and all(n.split()[0] in ("train", "retrain", "evaluate") for n in names), names
        assert all(r["info"]["user_id"] != "unknown" for r in runs)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=60)


def test_promotion_and_rollback_rescore_what_the_service_serves(lake: Lake) -> None:
    """Issue 18: `models promote 2` said v2 was champion while the service kept serving v1's scores."""
    if not (lake.root / "mlflow.db").exists():
        pytest.skip("needs the registry built by the earlier tests")

    def served_version() -> str:
        con = sqlite3.connect(lake.online_recommendations_db)
        info = json.loads(con.execute("SELECT value FROM meta WHERE key = 'info'").fetchone()[0])
        con.close()
        return str(info["model_version"])

    from cdna.recommend.registry_sql import read_alias

    champion = read_alias(lake.root / "mlflow.db", "cdna-recommender", "champion")
    other = 2 if champion == 1 else 1
    assert main(["--quiet", "models", "promote", str(other), "--lake", str(lake.root)]) == 0
    assert served_version() == str(other)
    assert main(["--quiet", "models", "rollback", "--lake", str(lake.root)]) == 0
    assert served_version() == str(champion)
