"""The nightly run ends with the privacy scan; a leak fails the night and is named in the record (issue 14)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from cdna.cli.nightly import NightOptions, NightResult, _privacy_scan, headline
from cdna.core.lake import Lake


def _night(lake: Lake, tmp_path: Path) -> NightResult:
    res = NightResult("2025-06-30", "ok", 0, "2025-06-30T15:00:00+00:00", message="every stage finished")
    _privacy_scan(NightOptions(lake, date(2025, 6, 30)), res, tmp_path / "logs", None)
    return res


def test_clean_lake_keeps_the_night_ok(tmp_path: Path) -> None:
    lake = Lake.at(tmp_path / "lake", create=True)
    (lake.root / "reports").mkdir()
    (lake.root / "reports" / "a.html").write_text(
        "<p>고객 [PHONE] 연락 요청, 금액 1,200,000원</p>", encoding="utf-8"
    )
    res = _night(lake, tmp_path)
    assert (res.status, res.exit_code) == ("ok", 0)
    assert res.stages[-1].name == "privacy" and res.stages[-1].status == "ok"
    assert headline(res)["privacy_scan"]["findings"] == 0


def test_a_leak_fails_the_night_and_names_the_place(tmp_path: Path) -> None:
    lake = Lake.at(tmp_path / "lake", create=True)
    (lake.root / "_runs").mkdir()
    (lake.root / "_runs" / "stage.log").write_text(
        "ok\n상담 메모: 연락처 공일공 구팔칠육 오사삼이\n", encoding="utf-8"
    )
    res = _night(lake, tmp_path)
    assert (res.status, res.exit_code) == ("failed", 1)
    assert "privacy scan found 1 item(s)" in res.message
    assert headline(res)["privacy_scan"]["places"] == ["_runs/stage.log · line 2 · PHONE"]
