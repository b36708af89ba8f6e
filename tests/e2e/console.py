"""The ops console in a real browser (Debian's Chromium driven by Playwright), along the path a
provincial officer takes after a run with faults: the live feed connects and shows the newest
alerts; the most overdue incident (counted here in working days on the `holidays` VN calendar,
from the monitor's table) is the queue's top row; a click opens its dossier with the Vietnamese
verdict line; the funnel's numbers are the event log's; a viewer's buttons are disabled with the
reason (a wrong token too); redriving every lost dossier asks for confirmation and shows its
result beside the button, as does redriving one dossier from its panel; and axe-core (from the
npm registry, injected into the page) finds no serious or critical accessibility violation.
Screenshots at 1440, 1024 and 390 px go to test-artifacts/console/."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import shutil
import subprocess
import time
import unicodedata
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import holidays
import pytest

from tests import debian

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
VN = ZoneInfo("Asia/Ho_Chi_Minh")
ARTIFACTS = ROOT / "test-artifacts" / "console"
NPM_CACHE = ROOT / ".cache" / "npm"
WIDTHS = (1440, 1024, 390)
VERDICT = re.compile(r"^(Kẹt tại|Dừng quá lâu|Chưa trả kết quả đúng hẹn|Thất lạc khi) .*(ngày làm việc|giờ)")


def ensure_chromium() -> Path:
    """Debian's Chromium, installed with apt when missing (never `playwright install`)."""
    return debian.ensure(CHROMIUM, "chromium")


def axe_source() -> str:
    """axe-core at the version dashboard/package.json pins, fetched once from the npm registry."""
    version = json.loads((ROOT / "dashboard" / "package.json").read_text())["devDependencies"]["axe-core"]
    unpacked = NPM_CACHE / f"axe-core-{version}"
    script = unpacked / "package" / "axe.min.js"
    if not script.exists():
        npm = shutil.which("npm")
        if npm is None:
            pytest.fail("npm is needed to fetch axe-core from the npm registry")
        unpacked.mkdir(parents=True, exist_ok=True)
        packed = subprocess.run(
            [npm, "pack", "--silent", f"axe-core@{version}"], cwd=unpacked, capture_output=True, text=True, timeout=300
        )
        if packed.returncode != 0:
            pytest.fail(f"npm pack axe-core@{version} failed: {packed.stderr[-2000:]}")
        subprocess.run(["tar", "xzf", packed.stdout.strip().splitlines()[-1]], cwd=unpacked, check=True)
    return script.read_text(encoding="utf-8")


FUNNEL_SQL = """
WITH reached AS (
    SELECT DISTINCT ON (dossier_id, agency, step) dossier_id, chain, agency, step, occurred_at
    FROM monitor.events WHERE type = 'handoff.received' AND step IS NOT NULL AND agency <> 'portal'
    ORDER BY dossier_id, agency, step, occurred_at
), ended AS (
    SELECT DISTINCT ON (dossier_id, agency, step) dossier_id, agency, step, occurred_at
    FROM monitor.events WHERE type IN ('step.completed', 'step.rejected')
    ORDER BY dossier_id, agency, step, occurred_at
)
SELECT r.chain, r.step, count(*) AS reached,
       count(e.dossier_id) FILTER (WHERE e.occurred_at >= r.occurred_at) AS finished
FROM reached r LEFT JOIN ended e USING (dossier_id, agency, step) GROUP BY r.chain, r.step
"""


INCIDENTS_SQL = """
SELECT a.id, a.due_at, CASE WHEN bool_or(f.resolved_at IS NULL) THEN NULL ELSE max(f.resolved_at) END AS resolved_at
FROM monitor.alerts a JOIN monitor.alerts f ON f.id = a.id OR f.incident_id = a.id
WHERE a.incident_id IS NULL AND a.due_at IS NOT NULL GROUP BY a.id, a.due_at
"""


async def _sql(url: str) -> tuple[dict[tuple[str, str], tuple[int, int]], list[dict[str, Any]]]:
    """The funnel counted straight from the event log (the chains' steps: the portal's receipt of a
    result is not one), and every incident with a deadline (closed once all its findings are)."""
    conn = await asyncpg.connect(url)
    try:
        funnel = {(r["chain"], r["step"]): (r["reached"], r["finished"]) for r in await conn.fetch(FUNNEL_SQL)}
        incidents = [dict(r) for r in await conn.fetch(INCIDENTS_SQL)]
    finally:
        await conn.close()
    return funnel, incidents


def most_overdue(incidents: list[dict[str, Any]], now: datetime) -> tuple[set[int], int]:
    """The incidents the queue must show first, counted here on the `holidays` VN calendar: working
    days after the deadline's day up to the day it ended (or `now` for an open one). Open ones if
    any is open (the queue's default), else all of them (what it shows once none is open)."""
    calendar = holidays.country_holidays("VN")
    pool = [i for i in incidents if i["resolved_at"] is None] or incidents
    assert pool, "the run left no incident with a deadline"

    def late(i: dict[str, Any]) -> int:
        first = i["due_at"].astimezone(VN).date() + timedelta(days=1)
        last = (i["resolved_at"] or now).astimezone(VN).date()
        return sum(1 for k in range((last - first).days + 1) if calendar.is_working_day(first + timedelta(days=k)))

    days = {i["id"]: late(i) for i in pool}
    worst = max(days.values())
    return {i for i, d in days.items() if d == worst}, worst


def _sql_now(url: str) -> tuple[dict[tuple[str, str], tuple[int, int]], list[dict[str, Any]]]:
    """`_sql` from synchronous code inside Playwright's sync API (which holds an event loop)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, _sql(url)).result()


@contextlib.contextmanager
def _opened(url: str) -> Iterator[tuple[Any, list[str]]]:
    """Debian's Chromium (Playwright, no sandbox) on `url` at 1440 px in Vietnamese, and the page
    errors it logs as they come."""
    from playwright.sync_api import sync_playwright

    chromium = ensure_chromium()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium), args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 900}, locale="vi-VN")
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(url)
            yield page, errors
        finally:
            browser.close()


def walk(dashboard_url: str, database_url: str, token: str) -> dict[str, Any]:
    """The officer's path (module docstring); returns what it saw."""
    from playwright.sync_api import expect

    seen: dict[str, Any] = {}
    with _opened(dashboard_url) as (page, errors):
        expect(page.locator("#clock")).to_contain_text("Lượt chạy đã kết thúc lúc", timeout=20_000)
        assert page.locator("h1").inner_text() == "Giám sát hồ sơ liên thông"
        assert page.evaluate("document.characterSet") == "UTF-8"
        # The live feed connects and pushes the newest alerts (server-sent events).
        expect(page.locator("#feed-state")).to_have_text("đã kết nối", timeout=15_000)
        expect(page.locator("#feed li").first).to_be_visible(timeout=15_000)
        # Nothing open: the page says so and folds the history away, one click from view.
        expect(page.locator("#queue-total")).not_to_be_empty(timeout=20_000)
        queue = json.loads(page.evaluate("async () => JSON.stringify(await (await fetch('/api/v1/queue')).json())"))
        none_open = queue["counts"]["state"].get("open", 0) == 0
        seen["none_open"] = none_open
        if none_open:
            expect(page.locator("#empty-state")).to_contain_text("Không có việc cần làm", timeout=10_000)
            expect(page.locator("#queue-history")).to_be_hidden()
            page.locator("#show-history").click()
        else:
            expect(page.locator("#empty-state")).to_be_hidden()
        top = page.locator("#queue-table tbody tr[data-id]").first
        expect(top).to_be_visible(timeout=20_000)

        # The top row is the most overdue incident, in working days on the VN calendar.
        clock = json.loads(page.evaluate("async () => JSON.stringify(await (await fetch('/api/v1/clock')).json())"))
        _, incidents = _sql_now(database_url)
        worst, days = most_overdue(incidents, datetime.fromisoformat(clock["stopped_at"]))
        assert int(str(top.get_attribute("data-id"))) in worst, (top.inner_text(), worst, days)
        assert top.locator("td[data-overdue]").get_attribute("data-overdue") == str(days)
        verdict_in_row = top.locator(".verdict").inner_text()
        assert VERDICT.match(verdict_in_row), verdict_in_row
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            page.wait_for_timeout(300)
            page.screenshot(path=str(ARTIFACTS / f"console-{width}.png"))
        page.set_viewport_size({"width": 1440, "height": 900})

        # A viewer's buttons are disabled, and say why.
        expect(page.locator("#redrive-all")).to_be_disabled()
        expect(page.locator("#viewer-reason")).to_contain_text("mã vận hành")

        # A click on the dossier code opens the panel in place, with the verdict line.
        top.locator("a[data-dossier]").click()
        panel = page.locator("#panel")
        expect(panel).to_be_visible()
        expect(page.locator("#panel-verdict")).to_have_text(VERDICT, timeout=10_000)
        expect(page.locator("#panel-timeline li").first).to_contain_text("Công dân nộp hồ sơ")
        seen["verdict"] = page.locator("#panel-verdict").inner_text()
        assert unicodedata.is_normalized("NFC", page.locator("body").inner_text())
        page.screenshot(path=str(ARTIFACTS / "console-panel.png"))
        page.locator("#panel-close").click()
        expect(panel).to_be_hidden()

        # The funnel's numbers are the event log's.
        deadline = time.monotonic() + 30
        while True:
            shown = {
                (row["flow"], row["step"]): (row["reached"], row["finished"])
                for row in page.evaluate(
                    "() => [...document.querySelectorAll('table.funnel tbody tr')].map((tr) => ({"
                    "flow: tr.closest('table').dataset.flow, step: tr.dataset.step,"
                    "reached: Number(tr.querySelector('.reached').textContent),"
                    "finished: Number(tr.querySelector('.finished').textContent)}))"
                )
                if row["reached"]
            }
            funnel, _ = _sql_now(database_url)
            if shown == funnel or time.monotonic() > deadline:
                break
            page.wait_for_timeout(2000)
        assert shown == funnel, (shown, funnel)
        seen["funnel_steps"] = len(funnel)

        # axe-core: no serious or critical violation.
        page.evaluate(axe_source())
        violations = page.evaluate(
            "async () => (await axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}))"
            ".violations.filter((v) => ['serious', 'critical'].includes(v.impact))"
            ".map((v) => ({id: v.id, impact: v.impact, nodes: v.nodes.length, html: v.nodes[0].html}))"
        )
        assert violations == [], violations

        # A wrong token leaves the page read-only, and says so.
        page.fill("#token-input", "not-the-token")
        page.locator("#token-input").dispatch_event("change")
        expect(page.locator("#viewer-reason")).to_contain_text("không đúng")
        expect(page.locator("#redrive-all")).to_be_disabled()

        # An operator: redrive every lost dossier, after confirming; the result beside the button.
        page.fill("#operator-input", "Nguyễn Thị Kiểm Thử")
        page.fill("#token-input", token)
        page.locator("#token-input").dispatch_event("change")
        expect(page.locator("#redrive-all")).to_be_enabled(timeout=5_000)
        asked: list[str] = []

        def confirm(dialog: Any) -> None:
            asked.append(dialog.message)
            dialog.accept()

        page.once("dialog", confirm)
        page.locator("#redrive-all").click()
        expect(page.locator("#bulk-result")).to_contain_text("Đã gửi lại", timeout=30_000)
        assert len(asked) == 1, asked
        assert "Gửi lại mọi hồ sơ đang thất lạc" in asked[0], asked
        seen["redrive"] = page.locator("#bulk-result").inner_text()
        # And one dossier from its panel: the result beside the panel's button; a settled
        # dossier's button is disabled with the reason (its redrive would be refused).
        top.locator("a[data-dossier]").click()
        opened = str(top.locator("a[data-dossier]").get_attribute("data-dossier"))
        panel = _get_json(page, f"/api/v1/dossiers/{opened}")
        if panel["settled"]:
            expect(page.locator("#redrive-dossier")).to_be_disabled()
            expect(page.locator("#panel-result")).to_contain_text("không cần gửi lại")
        else:
            expect(page.locator("#redrive-dossier")).to_be_enabled()
            page.once("dialog", confirm)  # a single redrive is confirmed too
            page.locator("#redrive-dossier").click()
            expect(page.locator("#panel-result")).to_contain_text("Đã gửi lại hồ sơ", timeout=30_000)
            assert len(asked) == 2, asked
            assert asked[1].startswith("Gửi lại hồ sơ "), asked
        page.screenshot(path=str(ARTIFACTS / "console-redriven.png"))
        # Whatever the top row was: a dossier the portal settled is refused a redrive, with its state.
        settled = _closed_dossier(database_url)
        refused = page.evaluate(
            """async ([id, token]) => { const r = await fetch('/api/v1/redrive', {method: 'POST',
               headers: {'Content-Type': 'application/json', Authorization: 'Bearer ' + token},
               body: JSON.stringify({dossier_id: id, operator: 'Nguyễn Thị Kiểm Thử'})});
               return [r.status, (await r.json()).error]; }""",
            [settled, token],
        )
        assert refused[0] == 409, refused
        assert "không gửi lại hồ sơ đã giải quyết xong" in refused[1], refused
        seen["refused_redrive"] = refused[1]
        assert errors == [], errors
    return seen


def all_clear(dashboard_url: str) -> dict[str, Any]:
    """The console once every incident of the run is over: it says so plainly ("Không có việc cần
    làm"), the history folded away behind one button, and the history's rows without alarm colours."""
    from playwright.sync_api import expect

    with _opened(dashboard_url) as (page, errors):
        expect(page.locator("#empty-state")).to_be_visible(timeout=20_000)
        expect(page.locator("#empty-state")).to_contain_text("Không có việc cần làm")
        expect(page.locator("#queue-history")).to_be_hidden()
        page.screenshot(path=str(ARTIFACTS / "console-empty.png"))
        page.locator("#show-history").click()
        expect(page.locator("#queue-history")).to_be_visible()
        rows = page.locator("#queue-table tbody tr[data-id]")
        expect(rows.first).to_be_visible(timeout=10_000)
        colour = rows.first.locator(".sev").evaluate("e => getComputedStyle(e).backgroundColor")
        assert errors == [], errors
        return {"history_rows": rows.count(), "resolved_badge": colour}


def _get_json(page: Any, path: str) -> Any:
    return json.loads(page.evaluate(f"async () => JSON.stringify(await (await fetch({json.dumps(path)})).json())"))


def _closed_dossier(database_url: str) -> str:
    """A dossier the run closed (the monitor's event log)."""

    async def one() -> str:
        conn = await asyncpg.connect(database_url)
        try:
            found = await conn.fetchval("SELECT dossier_id FROM monitor.events WHERE type = 'dossier.closed' LIMIT 1")
        finally:
            await conn.close()
        assert found, "the run closed no dossier"
        return str(found)

    # Inside Playwright's sync API (which holds an event loop): on a thread of its own, as `_sql_now`.
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, one()).result()
