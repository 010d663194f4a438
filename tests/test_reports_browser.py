"""Every HTML report in headless Chromium: Korean labels, no NaN / raw dict / `.0000`, the nightly in two screens."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from cdna.core.runs import render_night_html

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = Path(os.environ.get("CDNA_SCREENSHOTS", "/tmp/cdna-screenshots"))
SCREEN = (1280, 900)


def night_record(purged: int = 361) -> dict[str, Any]:
    """A night as `cdna nightly` records it: five stages, a retrain that fired, retention that purged a lot."""
    stages = [
        ("transcribe", "partial", 318.4),
        ("mine", "ok", 41.2),
        ("features", "ok", 61.0),
        ("recommend", "ok", 22.5),
        ("retrain", "ok", 170.3),
    ]
    return {
        "day": "2025-06-30",
        "status": "partial",
        "exit_code": 3,
        "started_at": "2025-06-30T17:30:00+00:00",
        "finished_at": "2025-06-30T17:40:13+00:00",
        "wall_s": 613.4,
        "message": "some inputs failed in: transcribe (see the report); retention removed 361 transcript folders",
        "stages": [
            {
                "name": n,
                "argv": [n],
                "exit_code": 3 if st == "partial" else 0,
                "status": st,
                "wall_s": w,
                "log": f"/lake/_runs/nightly-2025-06-30/{n}.log",
                "result": None,
                "run_records": [
                    {
                        "stage": n,
                        "run_id": f"{n}-1",
                        "counts": {"rows": 10},
                        "failures": [{"item": "CL000000017.wav", "reason": "truncated WAV header"}]
                        if st == "partial"
                        else [],
                    }
                ],
            }
            for n, st, w in stages
        ],
        "summary": {
            "durations_s": {n: w for n, _, w in stages},
            "recordings": {
                "files_seen": 40,
                "done": 37,
                "skipped": 0,
                "no_speech": ["CL000000031", "CL000000032"],
            },
            "audio_hours": 1.7,
            "real_time_factor": 0.03,
            "files_failed": [
                {"path": "audio/date=2025-06-30/CL000000017.wav", "reason": "truncated WAV header"}
            ],
            "pii_masked_by_type": {"PHONE": 31, "RRN": 4, "CARD": 2},
            "signals_by_kind": {"intent": 52, "interest": 1210, "complaint": 3},
            "feature_rows": 2000,
            "feature_views": 9,
            "recommendations": {
                "customers": 2000,
                "rows": 10000,
                "model_version": 2,
                "suppressed_by_rule": {},
            },
            "retrain": {
                "ran": True,
                "promoted": True,
                "champion": 3,
                "reasons": [
                    "challenger map@5 0.5498 beats champion 0.5344 (+2.9%)",
                    "no segment regresses beyond 10%",
                ],
                "map@5": 0.5498,
            },
        },
        "retention": {
            "dry_run": False,
            "removed": purged,
            "summary": {"transcripts": {"items": purged, "bytes": 2.1e8}},
            "items": [
                {
                    "kind": "transcripts",
                    "path": f"/lake/transcripts/date=2025-{i:03d}",
                    "date": "2025-01-01",
                    "bytes": 1,
                    "reason": "unmasked text older than 14 day(s)",
                }
                for i in range(purged)
            ],
            "kept": [],
        },
    }


def recommend_page(tmp_path: Path) -> Path:
    from cdna.recommend.pipeline import evaluate
    from cdna.recommend.report import write_report

    rng = np.random.default_rng(0)
    n_c, products = 300, ["term_deposit", "credit_card", "fund", "isa", "mortgage", "irp"]
    frame = pd.DataFrame(
        [(f"C{c:07d}", "2025-05-31", p) for c in range(n_c) for p in products],
        columns=["customer_id", "as_of", "product_id"],
    )
    frame["label"] = (rng.random(len(frame)) < 0.05).astype(int)
    frame["age_band"] = rng.choice(["20s", "30s", "40s", "50s"], len(frame))

    class Scorer:
        def __init__(self, signal: float) -> None:
            self.signal = signal

        def predict(self, x: pd.DataFrame) -> np.ndarray:
            return self.signal * x["label"].to_numpy() + rng.random(len(x)) * 0.1

    ev = evaluate(
        {"model": Scorer(0.08), "structured_only": Scorer(0.04), "popularity": Scorer(0.0)},
        frame,
        5,
        "age_band",
        6,
    )
    imp = pd.Series(
        [3.0, 2.0, 1.0], index=["intent_mortgage_inquiry_30d", "recency_days", "spend_share_travel"]
    )
    gate = [
        "challenger map@5 0.55 beats champion 0.53 (+2.9%)",
        "PROMOTED: challenger beats champion: promoted",
    ]
    return write_report(
        tmp_path / "retrain.html", "추천 모델 재학습과 평가", ev, 5, imp, ["학습 기간 2025-01~04"], gate
    )


def segments_page(tmp_path: Path) -> Path:
    from cdna.features.report import write_report
    from cdna.features.segments import SegmentOptions, fit_segments

    rng = np.random.default_rng(1)
    n = 600
    df = pd.DataFrame(
        {
            "customer_id": [f"C{i:07d}" for i in range(n)],
            "recency_days": np.concatenate([rng.integers(0, 20, n // 2), rng.integers(100, 300, n - n // 2)]),
            "txn_count_365d": np.concatenate(
                [rng.integers(80, 200, n // 2), rng.integers(1, 20, n - n // 2)]
            ),
            "spend_amount_365d": np.concatenate(
                [rng.uniform(2e7, 6e7, n // 2), rng.uniform(1e5, 2e6, n - n // 2)]
            ),
            "age_band": rng.choice(["20s", "30s", "60s", "70_plus"], n),
            "gender": rng.choice(["F", "M"], n),
            "spend_share_travel": rng.random(n),
            "spend_share_telecom": rng.random(n),
        }
    )
    seg = fit_segments(df, SegmentOptions())
    return write_report(df, seg, tmp_path / "segments", "고객 세그먼트 보고서")


def types_page(tmp_path: Path) -> Path:
    """The customer-type report (issue 17): four named RFM types and the new-customer model comparison."""
    from datetime import date

    from cdna.core.config import load_customer_types
    from cdna.features.segments import SegmentOptions, fit_segments
    from cdna.features.types import fit_type_models, name_types, profile_types
    from cdna.features.types_report import write_types_report
    from cdna.features.types_run import TypesResult
    from tests.features.test_types import _rfm

    df = _rfm()
    seg = fit_segments(df, SegmentOptions(k=4))
    seg.names_ = name_types(seg, df, load_customer_types(), 365)
    seg.profile_["name"] = [seg.names_[int(s)] for s in seg.profile_["segment"]]
    profiles = profile_types(df, seg.labels_, seg.names_, load_customer_types(), {"travel": "여행"})
    rng = np.random.default_rng(3)
    n = 600
    household = rng.choice(["single", "couple_kids", "senior"], n)
    y = np.where(household == "single", 0, np.where(household == "senior", 2, 1))
    frame = pd.DataFrame(
        {
            "age": rng.integers(20, 80, n),
            "gender": rng.choice(["F", "M"], n),
            "region_sido": rng.choice(["서울특별시", "부산광역시"], n),
            "household": household,
            "income_band": "30_50m",
        }
    )
    model = fit_type_models(frame.iloc[:450], y[:450], frame.iloc[450:], y[450:], "가입 14일 후 고객", seed=1)
    res = TypesResult(date(2025, 6, 30), df, seg, profiles, model, 12, tmp_path / "types.parquet")
    return write_types_report(res, tmp_path / "types", 3, "cdna-customer-type v1")


def _check_page(page: Any, path: Path, shot: Path) -> tuple[str, int]:
    page.goto(path.as_uri())
    page.screenshot(path=str(shot), full_page=True)
    text = page.inner_text("body")
    assert re.search(r"[가-힣]", text), path
    assert "NaN" not in text and "nan" not in text.split(), path
    assert not re.search(r"\{'|\{\"|\bdict\b|durations_s|item\(s\)", text), path
    assert not re.search(r"\d\.0000\b", text), path
    assert "False" not in text and "True" not in text, path
    return text, int(page.evaluate("document.documentElement.scrollHeight"))


@pytest.mark.slow
def test_every_report_reads_in_korean_without_raw_values(tmp_path: Path) -> None:
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is missing (apt-get install -y chromium)")
    playwright = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
    from tests.serve.test_console_browser import ARGS

    SHOTS.mkdir(parents=True, exist_ok=True)
    night = tmp_path / "nightly.html"
    night.write_text(render_night_html(night_record()), encoding="utf-8")
    pages = {
        "nightly": night,
        "retrain": recommend_page(tmp_path),
        "segments": segments_page(tmp_path),
        "types": types_page(tmp_path),
    }
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": SCREEN[0], "height": SCREEN[1]}, locale="ko-KR")
            for name, path in pages.items():
                text, height = _check_page(page, path, SHOTS / f"report-{name}.png")
                if name == "nightly":
                    assert height <= 2 * SCREEN[1], f"nightly report is {height}px tall"
                    assert "재학습 판단" in text and "승격" in text  # the decision and why, in words
                    assert "KST" in text and "UTC" not in text
                    assert "삭제한 경로 361건 (펼치기)" in text  # 361 purged folders collapsed into one line
                    assert "361개" in text  # and named in the retention summary
        finally:
            browser.close()
