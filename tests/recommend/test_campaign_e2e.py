"""Issue 17 end to end on the 2,000-customer synthetic bank: campaigns with a control group, the world's
responses, uplift intervals, outcomes in the next retrain's training data, and the live trigger."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cdna.cli.app import main
from cdna.core.config import load_config
from cdna.core.lake import Lake

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def lake(world_lake: Lake, tmp_path_factory: pytest.TempPathFactory) -> Lake:
    root = tmp_path_factory.mktemp("campaign") / "lake"
    shutil.copytree(world_lake.raw_root, root / "raw")
    shutil.copytree(world_lake.truth, root / "_truth")
    return Lake.at(root)


def _campaign(lake: Lake, product: str, name: str) -> None:
    args = ["--lake", str(lake.root)]
    assert (
        main(
            [
                "campaign",
                "create",
                "--product",
                product,
                "--size",
                "500",
                "--control",
                "0.1",
                "--name",
                name,
                *args,
            ]
        )
        == 0
    )
    assert main(["campaign", "simulate", name, *args]) == 0
    assert main(["validate", "offers_outcomes", str(lake.campaign_dir(name) / "responses.csv"), *args]) == 0


def test_uplift_for_a_life_event_product_and_none_without_signal(lake: Lake) -> None:
    from cdna.recommend.campaign_report import render_html, report_json
    from cdna.recommend.campaign_run import load_campaign, report_campaign
    from cdna.recommend.runner import retrain_run

    cfg = load_config(environ={})
    assert retrain_run(lake, cfg).champion_version == 1
    _campaign(lake, "fx_deposit", "travel-fx")  # travel abroad -> 외화예금 (a planted life event)
    _campaign(lake, "check_card", "card-nosignal")  # no life event leads to a check card
    meta, members = load_campaign(lake, "travel-fx")
    assert (members["group"] == "control").sum() == 50 and (members["group"] == "treated").sum() == 450
    assert members.loc[members["group"] == "control", "offer_id"].isna().all()
    fx = report_campaign(lake, cfg, "travel-fx").overall
    card = report_campaign(lake, cfg, "card-nosignal").overall
    assert fx["uplift_low"] > 0, fx  # the interval excludes 0
    assert card["uplift_low"] <= 0 <= card["uplift_high"], card  # the interval includes 0
    assert fx["treated_conversion_rate"] > card["treated_conversion_rate"]
    rep = report_campaign(lake, cfg, "travel-fx")
    page = render_html(rep)
    assert page.count("data:image/png;base64,") >= 3 and "효과 있음" in page
    _reads_in_korean(page, lake.root.parent / "campaign-report.html")
    assert report_json(rep)["overall"]["treated"] == 450
    export = (lake.campaign_dir("travel-fx") / "treated.csv").read_text(encoding="utf-8-sig").splitlines()
    assert export[0] == "offer_id,customer_id,product_id,product_name,reason" and len(export) == 451


def test_outcomes_train_the_next_model_and_declines_fire_the_live_trigger(lake: Lake) -> None:
    from cdna.recommend.offer_log import OfferLog
    from cdna.recommend.runner import champion_live, check_triggers, outcome_rows, retrain_run

    cfg = load_config(environ={})
    if not lake.offers_db.exists():
        pytest.skip("needs the campaigns of the previous test")
    rows = outcome_rows(lake, cfg)
    assert rows is not None and {"accepted", "declined", "not_interested", "conversion"} <= set(
        rows["source"]
    )
    live = champion_live(lake, 1)
    assert live is not None and live["answered"] > 300
    # Staff record declines of their own offers until the champion's acceptance falls below the floor.
    log = OfferLog.of(lake)
    offers = log.offers_table().to_pandas()
    unanswered = set(offers["offer_id"]) - set(log.outcomes_table().to_pandas()["offer_id"])
    for oid in sorted(unanswered):
        log.record_outcome(oid, "declined", "console", "staff-kim", datetime.now(UTC))
    log.close()
    strict = cfg.model_copy(
        update={
            "recommend": cfg.recommend.model_copy(update={"live_min_acceptance": 0.15, "n_estimators": 40})
        }
    )
    live_trigger = {t.name: t for t in check_triggers(lake, strict)}["live"]
    assert live_trigger.fired and "below the floor 15.0%" in live_trigger.detail
    res = retrain_run(lake, strict, if_needed=True)
    assert res.ran and any(t.name == "live" and t.fired for t in res.triggers)
    assert res.train is not None and res.train.data.outcome_rows is not None
    joined = res.train.data.outcome_rows
    assert len(joined) > 300 and (joined["label"] == 0).sum() > (joined["label"] == 1).sum()
    html = res.train.report.read_text(encoding="utf-8")
    assert "live acceptance" in html and "offline MAP@5" in html and "trigger live: FIRED" in html


def _reads_in_korean(page: str, path: Path) -> None:
    """Issue 18: the campaign report, like every report, reads in Korean in Chromium (no NaN, raw dict, .0000)."""
    from tests.test_reports_browser import CHROMIUM, SHOTS, _check_page

    playwright = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
    if not CHROMIUM.exists():
        return
    from tests.serve.test_console_browser import ARGS

    path.write_text(page, encoding="utf-8")
    SHOTS.mkdir(parents=True, exist_ok=True)
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        try:
            tab = browser.new_page(viewport={"width": 1280, "height": 900}, locale="ko-KR")
            text, _ = _check_page(tab, path, SHOTS / "report-campaign.png")
            assert "대조군" in text, text[:500]
        finally:
            browser.close()
