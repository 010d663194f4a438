"""Nightly building blocks: stage order, date ranges, retention plans, the KubeRay manifest."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import yaml

from cdna.cli.nightly import NightOptions, night_stages, nights
from cdna.core.config import RetentionConfig, configs_dir
from cdna.core.lake import Lake
from cdna.ingest.retention import apply_purge, plan_purge


def _touch(path: Path, data: bytes = b"x" * 10) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def test_stages_run_in_pipeline_order(tmp_path: Path) -> None:
    opts = NightOptions(Lake.at(tmp_path, create=True), date(2025, 6, 30), engine="ray")
    names = [n for n, _ in night_stages(opts)]
    assert names == ["transcribe", "mine", "features", "recommend", "retrain"]
    argv = dict(night_stages(opts))
    assert argv["transcribe"][-2:] == ["--engine", "ray"] and "2025-06-30" in argv["transcribe"]
    assert "--if-needed" in argv["retrain"]


def test_backfill_dates_in_order() -> None:
    assert nights(date(2025, 6, 29), date(2025, 7, 1)) == [
        date(2025, 6, 29),
        date(2025, 6, 30),
        date(2025, 7, 1),
    ]


def _lake_with_partitions(root: Path) -> Lake:
    lake = Lake.at(root, create=True)
    for day in ("2025-06-01", "2025-06-28", "2025-06-30"):
        _touch(lake.audio / f"date={day}" / "c1.wav")
        _touch(lake.transcripts / f"date={day}" / "t.parquet")
        _touch(lake.features / "profile" / f"date={day}" / "f.parquet")
    for day in ("2025-06-01", "2025-06-30"):  # 06-28 was never mined
        _touch(lake.signals / f"date={day}" / "signals.parquet")
    _touch(lake.runs / "transcribe-20200101T000000Z-abcdef.json", b"{}")
    _touch(lake.runs / "transcribe-20991231T000000Z-abcdef.json", b"{}")
    return lake


def test_keep_zero_purges_audio_and_mined_transcripts_only(tmp_path: Path) -> None:
    lake = _lake_with_partitions(tmp_path / "lake")
    cfg = RetentionConfig(keep_raw_days=0, keep_transcripts_days=30, keep_runs_days=365)
    plan = plan_purge(lake, cfg, date(2025, 6, 30), today=date(2026, 1, 1))
    kinds = {(i.kind, i.day.isoformat()) for i in plan.items}
    assert ("audio", "2025-06-28") in kinds and ("audio", "2025-06-30") in kinds
    assert ("transcripts", "2025-06-30") in kinds and ("transcripts", "2025-06-01") in kinds
    assert ("transcripts", "2025-06-28") not in kinds  # not mined yet: kept
    assert any("not mined" in why for _, why in plan.kept)
    assert [i.path.name for i in plan.items if i.kind == "runs"] == [
        "transcribe-20200101T000000Z-abcdef.json"
    ]
    assert apply_purge(plan) == len(plan.items)
    assert not list(lake.audio.glob("date=*"))
    assert [p.name for p in lake.transcripts.glob("date=*")] == ["date=2025-06-28"]
    assert len(list(lake.signals.glob("date=*"))) == 2  # masked signals stay
    assert len(list((lake.features / "profile").glob("date=*"))) == 3  # features stay


def test_ages_respect_the_limits(tmp_path: Path) -> None:
    lake = _lake_with_partitions(tmp_path / "lake")
    cfg = RetentionConfig(keep_raw_days=5, keep_transcripts_days=3, keep_runs_days=365)
    plan = plan_purge(lake, cfg, date(2025, 6, 30), today=date(2025, 7, 1))
    got = sorted((i.kind, i.day.isoformat()) for i in plan.items if i.kind != "runs")
    assert got == [("audio", "2025-06-01"), ("transcripts", "2025-06-01")]


def test_kuberay_manifest_runs_the_nightly_command() -> None:
    doc = yaml.safe_load((configs_dir() / "deploy" / "rayjob.yaml").read_text(encoding="utf-8"))
    assert doc["apiVersion"].startswith("ray.io/") and doc["kind"] == "RayJob"
    assert (
        doc["spec"]["entrypoint"].startswith("cdna nightly ") and "--engine ray" in doc["spec"]["entrypoint"]
    )
    head = doc["spec"]["rayClusterSpec"]["headGroupSpec"]["template"]["spec"]["containers"][0]
    assert head["image"] and any(m["mountPath"] == "/lake" for m in head["volumeMounts"])
    workers = doc["spec"]["rayClusterSpec"]["workerGroupSpecs"]
    assert (
        workers and workers[0]["template"]["spec"]["containers"][0]["resources"]["limits"]["nvidia.com/gpu"]
    )
    env = yaml.safe_load(doc["spec"]["runtimeEnvYAML"])["env_vars"]
    assert env["CDNA_LAKE"] == "/lake"


def test_the_headline_counts_policy_suppressions_per_rule() -> None:
    from cdna.cli.nightly import NightResult, StageOutcome, headline
    from cdna.contracts.results import RecommendResult

    recs = RecommendResult(
        customers=1670, rows=8278, model_version="1", suppressed={"consent": 1540, "suitability": 500}
    )
    res = NightResult("2025-06-30", "ok", 0, "2025-07-01T01:00:00+00:00")
    res.stages.append(StageOutcome("recommend", [], 0, "ok", 12.0, "", recs))
    assert headline(res)["recommendations"]["suppressed_by_rule"] == {"consent": 1540, "suitability": 500}
