"""Outcome buttons in the staff console (issue 17), in a real headless Chromium."""

from __future__ import annotations

from pathlib import Path

import pytest

from cdna.core.lake import Lake
from cdna.recommend.offer_log import OfferLog
from cdna.serve.app import create_app
from tests.serve.conftest import Keys, settings_for
from tests.serve.live import live_server
from tests.serve.test_console_browser import ARGS, CHROMIUM


@pytest.mark.slow
def test_console_outcome_buttons_record_once(lake: Lake, keys: Keys, tmp_path: Path) -> None:
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is missing (apt-get install -y chromium)")
    playwright = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
    app = create_app(settings_for(lake))
    with live_server(app) as base, playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1100}, locale="ko-KR")
            page.goto(f"{base}/console")
            page.fill("#api-key", keys.staff)
            page.click("#save-key")
            page.fill("#customer-id", "C0000002")
            page.select_option("#purpose", "counseling")
            page.click("#search")
            page.wait_for_selector("#reco-list .reco .outcome button", timeout=15000)
            bars = page.locator("#reco-list .outcome")
            assert bars.count() == len(page.locator("#reco-list .reco").all()) >= 1
            first = bars.nth(0)
            offer_id = first.get_attribute("data-offer")
            first.locator("button[data-outcome=declined]").click()
            page.wait_for_selector(".outcome[data-recorded=declined]", timeout=10000)
            assert "기록됨: 거절" in first.inner_text()
            page.screenshot(path=str(tmp_path / "console-offers.png"), full_page=True)
            # the same view again gives new offers; the first offer keeps its one outcome
            page.select_option("#purpose", "complaint")
            page.click("#search")
            page.wait_for_timeout(800)
            assert page.locator("#reco-list .outcome").count() == 0  # a complaint look is not an offer
        finally:
            browser.close()
    log = OfferLog.of(lake)
    out = log.outcomes_table().to_pandas()
    assert out["offer_id"].tolist() == [offer_id] and out["outcome"].tolist() == ["declined"]
    offers = log.offers_table().to_pandas()
    assert (offers["channel"] == "console").all() and offer_id in set(offers["offer_id"])
