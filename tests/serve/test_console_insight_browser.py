"""The console as a teller uses it, in headless Chromium: search by prefix, likelihood, evidence, market page."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from cdna.core.lake import Lake
from cdna.serve.app import create_app
from tests.serve.conftest import N_CUSTOMERS, Keys, settings_for
from tests.serve.insight_lake import add_insight_tables
from tests.serve.live import live_server
from tests.serve.test_console_browser import ARGS, CHROMIUM

# Screenshots stay after the run (CI keeps them as artefacts); CDNA_SCREENSHOTS overrides the folder.
SHOTS = Path(os.environ.get("CDNA_SCREENSHOTS", "/tmp/cdna-screenshots"))


@pytest.mark.slow
def test_teller_finds_a_customer_reads_likelihood_opens_evidence_and_market(lake: Lake, keys: Keys) -> None:
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is missing (apt-get install -y chromium)")
    playwright = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
    add_insight_tables(lake, N_CUSTOMERS)
    SHOTS.mkdir(parents=True, exist_ok=True)
    app = create_app(settings_for(lake))
    with live_server(app) as base, playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="ko-KR")
            page.goto(f"{base}/console")
            page.fill("#api-key", keys.staff)
            page.click("#save-key")
            # name initials (초성) list customers with masked names and phones only (issue 18)
            page.fill("#customer-id", "ㅂㅁ")
            page.click("#search")
            page.wait_for_selector("#hits li.hit", timeout=15000)
            listed = page.inner_text("#hits")
            assert "박*준" in listed and "010-****-" in listed and "민준" not in listed
            page.screenshot(path=str(SHOTS / "console-search-initials.png"), full_page=True)
            # a lower-case prefix lists several customers; one click opens one
            page.fill("#customer-id", "c000001")
            page.click("#search")
            page.wait_for_selector("#hits li.hit", timeout=15000)
            assert len(page.locator("#hits li.hit").all()) >= 5
            page.click("#hits li.hit button >> text=C0000012")
            page.wait_for_selector("#reco-list .reco .likelihood", timeout=15000)
            badges = page.locator("#reco-list .likelihood").all_inner_texts()
            assert badges and all(b.startswith("가입 가능성: ") for b in badges)
            assert any(("높음" in b or "보통" in b or "낮음" in b) and "평균 대비" in b for b in badges)
            assert "점수" not in page.inner_text("#reco-list")
            facts = page.inner_text("#profile-facts")
            assert "가구 형태" in facts and "single" not in facts and "couple_kids" not in facts
            page.locator("#reco-list button.ev-btn").first.click()
            page.wait_for_selector("#reco-list .snippet .quote", timeout=15000)
            snippet = page.locator("#reco-list .snippet").first.inner_text()
            assert "상담 통화" in snippet and "[PHONE]" in snippet  # the quote comes masked
            page.screenshot(path=str(SHOTS / "console-customer.png"), full_page=True)

            page.click("#market-link")
            page.wait_for_selector("#groups .chart svg", timeout=15000)
            charts = page.locator("#groups .chart").all()
            assert len(charts) >= 1
            bars = page.eval_on_selector_all(
                "#groups .chart svg rect", "rs => rs.filter(r => +r.getAttribute('height') > 0).length"
            )
            assert bars >= 1
            assert "상담 의도" in page.inner_text("#groups")
            page.select_option("#region", "서울특별시")
            page.click("#apply")
            page.wait_for_timeout(500)
            page.wait_for_selector("#groups .chart svg", timeout=15000)
            page.screenshot(path=str(SHOTS / "console-market.png"), full_page=True)

            # a revoked key says so instead of silently showing the key form again (issue 18)
            from cdna.serve.keys import KeyStore, keys_path

            KeyStore(keys_path(lake.root)).revoke("staff-kim")
            page.goto(f"{base}/console")
            page.fill("#customer-id", "C0000012")
            page.click("#search")
            page.wait_for_selector("#key-error:not(.hidden)", timeout=15000)
            assert "취소" in page.inner_text("#key-error") and page.is_visible("#key-panel")
        finally:
            browser.close()
    for name in ("console-customer.png", "console-market.png"):
        assert (SHOTS / name).stat().st_size > 10_000
