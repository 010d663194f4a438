"""`cdna nightly` end to end on small synthetic banks: every stage, reruns, failures, backfills, retention."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest

from cdna.cli.app import main
from cdna.core.config import load_config, load_intents, load_products
from cdna.core.lake import Lake
from cdna.ingest.world.generator import WorldOptions, write_world
from tests.layout.contracts import assert_lake_conforms

pytestmark = pytest.mark.slow


def _bank(root: Path, customers: int, audio_calls: int) -> Lake:
    from cdna.ingest.world.audio import espeak_available, prerendered_calls, render_call

    lake = Lake.at(root, create=True)
    cfg = load_config(environ={}).world.model_copy(
        update={"customers": customers, "seed": 21, "audio_calls": audio_calls}
    )
    pre = None if espeak_available() else prerendered_calls()
    write_world(
        WorldOptions(cfg, audio=audio_calls > 0),
        load_products(),
        load_intents(),
        lake,
        render=render_call,
        prerendered=pre,
    )
    return lake


def _record(lake: Lake, day: str) -> dict:
    return json.loads((lake.runs / f"nightly-{day}.json").read_text(encoding="utf-8"))


def _rows(pattern: str, order: str) -> list[tuple]:
    return (
        duckdb.sql(
            f"SELECT * EXCLUDE (model_version) FROM read_parquet('{pattern}') ORDER BY {order}"
        ).fetchall()
        if "recommendations" in pattern
        else duckdb.sql(f"SELECT * FROM read_parquet('{pattern}') ORDER BY {order}").fetchall()
    )


@pytest.fixture(scope="module")
def night_lake(tmp_path_factory: pytest.TempPathFactory) -> Lake:
    return _bank(tmp_path_factory.mktemp("night") / "lake", 300, audio_calls=2)


def test_night_runs_every_stage_then_a_rerun_does_nothing(
    night_lake: Lake, capsys: pytest.CaptureFixture[str]
) -> None:
    day = duckdb.sql(f"""SELECT max(timezone('Asia/Seoul', started_at))::DATE::VARCHAR
                         FROM read_parquet('{night_lake.raw("calls")}/*.parquet') WHERE audio_path IS NOT NULL""").fetchall()[
        0
    ][0]
    capsys.readouterr()
    assert main(["--quiet", "nightly", "--lake", str(night_lake.root), "--date", day]) == 0
    quiet = capsys.readouterr()
    # issue 18: `cdna --quiet nightly` prints one summary line (stage, retrain decision, retention, report)
    lines = quiet.out.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"nightly {day} ok") and "retention" in lines[0], quiet.out
    rec = _record(night_lake, day)
    names = [s["name"] for s in rec["stages"]]
    assert names[:3] == ["transcribe", "mine", "features"] and names[-3:] == [
        "recommend",
        "retrain",
        "privacy",
    ]
    assert all(s["status"] == "ok" for s in rec["stages"])
    assert rec["summary"]["recordings"]["done"] >= 1
    scored = duckdb.sql(
        f"SELECT count(DISTINCT customer_id) FROM read_parquet('{night_lake.recommendations_day(day)}/*.parquet')"
    ).fetchall()[0][0]
    # Opted-out and recently complaining customers get no offer (the decision policy, issue 16).
    assert rec["summary"]["recommendations"]["customers"] == scored and 0.6 * 300 < scored < 300
    assert (night_lake.runs / f"nightly-{day}.html").read_text(encoding="utf-8").count("<table>") > 3
    assert list(night_lake.partition("recommendations", day).glob("*.parquet"))
    # Issue 12: every table each stage wrote validates against its one contract.
    checked = assert_lake_conforms(night_lake)
    assert all(checked[t] > 0 for t in ("transcripts", "signals", "feature_snapshot", "recommendations")), (
        checked
    )
    stamp = (night_lake.runs / f"nightly-{day}.json").stat().st_mtime
    assert main(["--quiet", "nightly", "--lake", str(night_lake.root), "--date", day]) == 0
    assert (night_lake.runs / f"nightly-{day}.json").stat().st_mtime == stamp  # nothing was redone


def test_corrupt_recording_gives_exit_3_and_is_reported(night_lake: Lake, tmp_path: Path) -> None:
    lake = Lake.at(tmp_path / "copy", create=True)
    shutil.copytree(night_lake.root, lake.root, dirs_exist_ok=True)
    calls = duckdb.sql(f"""SELECT audio_path, timezone('Asia/Seoul', started_at)::DATE::VARCHAR
                           FROM read_parquet('{lake.raw("calls")}/*.parquet') WHERE audio_path IS NOT NULL
                           ORDER BY started_at LIMIT 1""").fetchall()
    audio_path, day = calls[0]
    (lake.root / audio_path).write_bytes(b"RIFF\x00\x00\x00\x00WAVEfmt garbage" * 10)
    for done in lake.partition("transcripts", day).glob("whisper-*"):
        done.unlink()  # forget an earlier transcription of that night, if any
    code = main(["--quiet", "nightly", "--lake", str(lake.root), "--date", day, "--force"])
    assert code == 3
    rec = _record(lake, day)
    failed = rec["summary"]["files_failed"]
    assert failed and Path(audio_path).name in json.dumps(failed)
    assert rec["status"] == "partial" and [s["name"] for s in rec["stages"][-2:]] == ["retrain", "privacy"]


def test_missing_transactions_stops_at_features_and_keeps_signals(night_lake: Lake, tmp_path: Path) -> None:
    lake = Lake.at(tmp_path / "copy", create=True)
    shutil.copytree(night_lake.root, lake.root, dirs_exist_ok=True)
    shutil.rmtree(lake.raw("transactions"))
    with_calls = sorted(p.name.removeprefix("date=") for p in lake.transcripts.glob("date=*"))
    day = next(d for d in reversed(with_calls) if not (lake.runs / f"nightly-{d}.json").exists())
    assert main(["--quiet", "nightly", "--lake", str(lake.root), "--date", day]) == 1
    rec = _record(lake, day)
    assert rec["stages"][-2]["name"] == "features" and rec["stages"][-2]["status"] == "failed"
    assert rec["stages"][-1]["name"] == "privacy"  # the scan runs last, whatever ended the night (issue 14)
    assert "features" in rec["message"] and "features.log" in rec["message"]
    assert list(lake.partition("signals", day).glob("*.parquet"))
    assert list(lake.partition("transcripts", day).glob("*.parquet"))


def test_retention_keep_zero_purges_audio_and_unmasked_text(night_lake: Lake, tmp_path: Path) -> None:
    lake = Lake.at(tmp_path / "copy", create=True)
    shutil.copytree(night_lake.root, lake.root, dirs_exist_ok=True)
    mined = sorted(p.name.removeprefix("date=") for p in lake.signals.glob("date=*"))
    cfg = tmp_path / "keep0.yaml"
    cfg.write_text("retention:\n  keep_raw_days: 0\n", encoding="utf-8")
    assert (
        main(["--quiet", "--config", str(cfg), "purge", "--lake", str(lake.root), "--as-of", mined[-1]]) == 0
    )
    for day in mined:
        assert not lake.partition("transcripts", day).exists()
        assert not lake.partition("audio", day).exists()
        assert list(lake.partition("signals", day).glob("*.parquet"))
    assert duckdb.sql(f"SELECT count(*) FROM read_parquet('{lake.signals}/*/*.parquet')").fetchall()[0][0] > 0
    assert (
        duckdb.sql(f"SELECT count(*) FROM read_parquet('{lake.recommendations}/*/*.parquet')").fetchall()[0][
            0
        ]
        > 0
    )
    assert main(["--quiet", "features", "show", "C0000001", "--lake", str(lake.root)]) == 0


def test_backfill_equals_single_nights(tmp_path: Path) -> None:
    a = _bank(tmp_path / "a", 200, audio_calls=0)
    b = Lake.at(tmp_path / "b", create=True)
    shutil.copytree(a.root, b.root, dirs_exist_ok=True)
    days = ["2025-06-28", "2025-06-29", "2025-06-30"]
    assert main(["--quiet", "nightly", "--lake", str(a.root), "--from", days[0], "--to", days[-1]]) == 0
    for day in days:
        assert main(["--quiet", "nightly", "--lake", str(b.root), "--date", day]) == 0
    for area, order in (("signals", "source_id, kind, label"), ("recommendations", "customer_id, rank")):
        for day in days:
            pa_, pb = a.partition(area, day), b.partition(area, day)
            assert _rows(f"{pa_}/*.parquet", order) == _rows(f"{pb}/*.parquet", order), (area, day)
    for day in days:
        sa = a.root / "snapshots" / f"date={day}"
        sb = b.root / "snapshots" / f"date={day}"
        assert _rows(f"{sa}/*.parquet", "customer_id") == _rows(f"{sb}/*.parquet", "customer_id")
