"""The dashboard in a real browser (Debian's Chromium driven by Playwright) during a short run: an
alert appears live, a dossier opens in the side panel, a viewer's redrive button is disabled with
the reason (also with a wrong token) and an operator's is done, and the Vietnamese text reads
right. Screenshots go to test-artifacts/browser/. The officer's path through the work queue after
a run with faults is in tests/e2e/console.py, walked by the faults run."""

from __future__ import annotations

import os
import re
import subprocess
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import pytest

from deploy.embedded import free_port
from tests.e2e.console import ensure_chromium
from tests.e2e.test_smoke_run import LIENTHONG, last_json, lienthong

pytestmark = pytest.mark.e2e
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"
TOKEN = "browser-test-operator"


@pytest.fixture
def stack_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LT_")}
    env.update(
        LT_HOME=str(tmp_path / "home"),
        LT_PORTAL_PORT=str(free_port()),
        LT_DASHBOARD_PORT=str(free_port()),
        LT_OPERATOR_TOKEN=TOKEN,
    )
    try:
        yield env
    finally:
        down = lienthong(env, "down")
        assert down.returncode == 0, down.stderr


def test_dashboard_live_alert_timeline_redrive_and_vietnamese(stack_env: dict[str, str]) -> None:
    from playwright.sync_api import expect, sync_playwright

    chromium = ensure_chromium()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    up = lienthong(stack_env, "up")
    assert up.returncode == 0, up.stderr[-3000:]
    url = f"http://127.0.0.1:{stack_env['LT_DASHBOARD_PORT']}/"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium), args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000}, locale="vi-VN")
            page.goto(url)
            expect(page.locator("#feed-state")).to_have_text("đã kết nối", timeout=15_000)
            assert page.locator("#feed li").count() == 0  # a fresh stack: nothing yet

            # The LLTP peak day carries bad data: each refusal is a data-quality alert, pushed live.
            run = subprocess.Popen(
                [*LIENTHONG, "run", "--profile", "lltp-peak-day", "--json"],
                env=stack_env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                cwd=Path(__file__).resolve().parents[2],
            )
            try:
                first = page.locator("#feed li").first
                expect(first).to_be_visible(timeout=120_000)
                page.screenshot(path=str(ARTIFACTS / "1-alert-live.png"), full_page=True)

                # Vietnamese: the page's own text, NFC, and the UI labels of what arrived.
                heading = page.locator("h1").inner_text()
                assert heading == "Giám sát hồ sơ liên thông"
                assert unicodedata.is_normalized("NFC", page.locator("body").inner_text())
                assert page.evaluate("document.characterSet") == "UTF-8"
                expect(first).to_contain_text(re.compile("Chất lượng dữ liệu|Thất lạc|Ùn tắc, quá hạn|Trùng lặp"))
                page.locator("header").screenshot(path=str(ARTIFACTS / "2-vietnamese-header.png"))

                # The dossier opens in a side panel, its timeline in Vietnamese sentences.
                first.locator("a[data-dossier]").click()
                expect(page.locator("#panel-title")).to_contain_text("Hồ sơ", timeout=10_000)
                expect(page.locator("#panel-timeline li").first).to_contain_text("Công dân nộp hồ sơ")
                expect(page.locator("#panel-timeline")).to_contain_text("Cổng DVC")
                page.locator("#panel").screenshot(path=str(ARTIFACTS / "3-dossier-panel.png"))

                # A viewer's buttons are disabled and say why; a wrong token leaves them so.
                redrive = page.locator("#redrive-dossier")
                expect(redrive).to_be_disabled()
                expect(page.locator("#viewer-reason")).to_contain_text("cần nhập mã vận hành")
                page.fill("#token-input", "not-the-token")
                page.locator("#token-input").dispatch_event("change")
                expect(page.locator("#viewer-reason")).to_contain_text("không đúng")
                expect(redrive).to_be_disabled()
                # The operator's token and name: redrive is done, its result beside the button.
                page.fill("#operator-input", "Lê Văn Trực")
                page.fill("#token-input", TOKEN)
                page.locator("#token-input").dispatch_event("change")
                expect(redrive).to_be_enabled(timeout=5_000)
                redrive.click()
                expect(page.locator("#panel-result")).to_contain_text("Đã gửi lại hồ sơ", timeout=30_000)
                page.screenshot(path=str(ARTIFACTS / "4-redriven.png"), full_page=True)
            finally:
                out, err = run.communicate(timeout=600)
            assert run.returncode == 0, err[-3000:]
        finally:
            browser.close()
    # The judicial-record desk's peak day itself: every request answered, every refusal with a
    # reason, nothing left in progress, no double effect.
    summary = last_json(out)
    lltp = summary["chains"]["lltp"]
    assert 300 <= lltp["submitted"] <= 400
    assert lltp["completed"] + lltp["rejected"] == lltp["submitted"], lltp
    assert lltp["in_progress"] == 0
    assert lltp["rejected"] > 0  # the profile's bad data, each refused with a reason
    assert all(v["not_refused"] == 0 for v in summary["bad_data"].values()), summary["bad_data"]
    verify = lienthong(stack_env, "verify", "--json")
    assert last_json(verify.stdout)["violations"] == 0, verify.stdout[-3000:]
    for name in ("1-alert-live.png", "2-vietnamese-header.png", "3-dossier-panel.png", "4-redriven.png"):
        assert (ARTIFACTS / name).stat().st_size > 0
