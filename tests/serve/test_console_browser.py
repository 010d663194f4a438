"""The staff console end to end in a real headless Chromium (Debian `chromium`, driven by Playwright)."""

from __future__ import annotations

import shutil
import subprocess
import warnings
from pathlib import Path

import pytest

from cdna.core.lake import Lake
from cdna.serve.app import create_app
from tests.serve.conftest import Keys, settings_for
from tests.serve.live import live_server

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _korean_font() -> bool:
    if shutil.which("fc-list") is None:
        return False
    out = subprocess.run(["fc-list", ":lang=ko"], capture_output=True, text=True, check=False).stdout
    return bool(out.strip())


@pytest.mark.slow
def test_console_shows_korean_recommendations_and_profile(lake: Lake, keys: Keys, tmp_path: Path) -> None:
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is missing (apt-get install -y chromium)")
    playwright = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
    app = create_app(settings_for(lake))
    shot = tmp_path / "console.png"
    with live_server(app) as base, playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="ko-KR")
            page.goto(f"{base}/console")
            assert page.title() == "고객 DNA 상담 콘솔"
            page.fill("#api-key", keys.staff)
            page.click("#save-key")
            page.fill("#customer-id", "C0000002")
            page.select_option("#purpose", "sales")
            page.click("#search")
            page.wait_for_selector("#reco-list .reco li.reason", timeout=15000)
            reasons = page.locator("#reco-list li.reason").all_inner_texts()
            assert len(page.locator("#reco-list .reco").all()) == 5
            assert reasons and all(any("\uac00" <= ch <= "\ud7a3" for ch in t) for t in reasons)
            assert "모델 버전: cdna-recommender/1" in page.inner_text("#model-version")
            facts = page.inner_text("#profile-facts")
            assert "세그먼트" in facts and "성장" in facts
            assert "전세자금대출 문의" in page.inner_text("#intents")
            # The key stays for the session: a second search needs no key again.
            page.fill("#customer-id", "C9999999")
            page.click("#search")
            page.wait_for_selector("#error:not(.hidden)", timeout=10000)
            assert "고객을 찾을 수 없습니다" in page.inner_text("#error")
            page.fill("#customer-id", "C0000002")
            page.click("#search")
            page.wait_for_selector("#result:not(.hidden)", timeout=10000)
            stored = page.evaluate("sessionStorage.getItem('cdna_api_key')")
            assert stored == keys.staff
            page.screenshot(path=str(shot), full_page=True)
        finally:
            browser.close()
    assert shot.stat().st_size > 10_000
    print(f"console screenshot: {shot}")
    if not _korean_font():
        warnings.warn(
            "no Korean font installed: the screenshot shows boxes for Hangul (apt-get install fonts-nanum)",
            stacklevel=1,
        )
    from cdna.serve.audit import AuditLog, audit_path

    rows = AuditLog(audit_path(lake.root)).export(
        __import__("datetime").date(2000, 1, 1), __import__("datetime").date(2100, 1, 1)
    )
    # two customers x (the search that showed them, recommendations, profile); the search that found nobody
    # showed no customer
    assert {r["purpose"] for r in rows} == {"sales"} and len(rows) == 6
    assert sum(r["endpoint"] == "/v1/search/customers" for r in rows) == 2
