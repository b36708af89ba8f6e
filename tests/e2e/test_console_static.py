"""The console's page and stylesheet alone (no stack): states the walks may not reach, checked by
axe-core in Debian's Chromium."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.console import axe_source, ensure_chromium

pytestmark = pytest.mark.e2e
STATIC = Path(__file__).resolve().parents[2] / "dashboard" / "static"


def test_the_operator_badge_is_readable_white_on_green(tmp_path: Path) -> None:
    """Regression: "Được thao tác" took the dark green of `.ok` (the result messages' colour) on
    its green badge, a contrast of 1.53:1, which only a walk signed in as operator could see."""
    from playwright.sync_api import sync_playwright

    page_file = tmp_path / "index.html"
    page_file.write_text(
        (STATIC / "index.html").read_text(encoding="utf-8").replace("/static/", f"{STATIC.as_uri()}/"),
        encoding="utf-8",
    )
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(ensure_chromium()), args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 900})
            page.goto(page_file.as_uri())
            page.evaluate(
                "() => { const r = document.querySelector('#role');"
                " r.className = 'role ok'; r.textContent = 'Được thao tác'; }"
            )
            page.evaluate(axe_source())
            found = page.evaluate(
                "async () => (await axe.run(document.querySelector('#role'), {runOnly: ['wcag2aa']}))"
                ".violations.map((v) => v.id)"
            )
            assert found == [], found
        finally:
            browser.close()
