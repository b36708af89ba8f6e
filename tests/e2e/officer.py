"""An officer's day in the console, on a stack with incidents open (the conformance run whose
external agency drops dossiers): masked people then the audited opening, the xlsx export
compared with the page, assignment and a note in the panel, the shift handover, one commune's
overdue dossiers, and axe-core at every width."""

from __future__ import annotations

import json
import re
from typing import Any

from tests.e2e.console import ARTIFACTS, WIDTHS, _get_json, _opened, axe_source


def officers_day(dashboard_url: str, token: str) -> dict[str, Any]:
    """With incidents open (a run whose external agency dropped dossiers): the most overdue one is
    assigned and noted in its panel, the shift handed over, and one commune's overdue dossiers
    listed; screenshots of the handover and the commune view. What it saw."""
    from playwright.sync_api import expect

    with _opened(dashboard_url) as (page, errors):
        page.fill("#operator-input", "Nguyễn Thị Kiểm Thử")
        page.fill("#token-input", token)
        page.locator("#token-input").dispatch_event("change")
        expect(page.locator("#shift-handover")).to_be_enabled(timeout=10_000)
        top = page.locator("#queue-table tbody tr[data-id]").first
        expect(top).to_be_visible(timeout=20_000)
        expect(page.locator("#areas-table tbody tr").first).to_be_visible(timeout=15_000)
        _axe_clean_at_every_width(page)
        _masked_then_opened(page, top, expect)
        _export_is_the_page(page)
        _assign_note_and_hand_over(page, top, expect)
        seen = {
            "handover": page.locator("#shift-document").inner_text(),
            "commune_overdue": _commune_view(page, expect),
        }
        seen["subscription"] = _subscribe(page, expect)
        assert errors == [], errors
        return seen


def _axe_clean_at_every_width(page: Any) -> None:
    """axe-core finds no serious or critical violation at 1440, 1024 and 390 px."""
    page.evaluate(axe_source())
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.wait_for_timeout(300)
        violations = page.evaluate(
            "async () => (await axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}))"
            ".violations.filter((v) => ['serious', 'critical'].includes(v.impact))"
            ".map((v) => ({id: v.id, impact: v.impact, nodes: v.nodes.length, html: v.nodes[0].html}))"
        )
        assert violations == [], (width, violations)
    page.set_viewport_size({"width": 1440, "height": 900})


def _masked_then_opened(page: Any, top: Any, expect: Any) -> None:
    """The panel shows the people of a dossier masked (no full twelve-digit ID anywhere on the
    page), and in full only after the operator asks ("Xem đầy đủ"), which the portal audits."""
    top.locator("a[data-dossier]").click()
    people = page.locator("#panel-people")
    expect(people.locator("li").first).to_be_visible(timeout=10_000)
    assert not re.search(r"\b\d{12}\b", page.locator("body").inner_text()), people.inner_text()
    page.locator("#open-people").click()
    expect(page.locator("#people-result")).to_contain_text("ghi nhật ký", timeout=10_000)
    assert re.search(r"\b\d{12}\b", people.inner_text()), people.inner_text()
    page.locator("#panel-close").click()


def _export_is_the_page(page: Any) -> None:
    """ "Xuất Excel" downloads the queue as the page shows it: the same headings, the same codes."""
    from openpyxl import load_workbook

    with page.expect_download() as download:
        page.locator("#export-xlsx").click()
    path = ARTIFACTS / "queue-export.xlsx"
    download.value.save_as(str(path))
    sheet = load_workbook(path).active
    table = [list(r) for r in sheet.iter_rows(min_row=3, values_only=True)]
    on_page = page.evaluate(
        "() => [...document.querySelectorAll('#queue-table thead th')].map((th) => th.textContent.trim())"
    )
    codes = page.evaluate(
        "() => [...document.querySelectorAll('#queue-table tbody tr[data-id] a[data-dossier]')]"
        ".map((a) => a.textContent)"
    )
    assert table[0] == on_page, (table[0], on_page)
    assert sorted(str(r[0]) for r in table[1:]) == sorted(codes), (table[1:], codes)


def _what_the_officer_typed_survives_the_panel_drawn_again(page: Any, expect: Any) -> None:
    """Regression: the panel drawn again under the officer (the page's own ?dossier= and a click
    both opening it) wiped the name being typed, and the assignment went out empty (400, "Cần
    ghi tên cán bộ được giao"). The panel is drawn again, to the end, and the name is still there."""
    page.evaluate("async () => { await showDossier(openDossier); await showWorklog(); }")
    expect(page.locator("#panel-alerts .worklog .assign-to").first).to_have_value("Lê Văn Nhận Việc")


def _assign_note_and_hand_over(page: Any, top: Any, expect: Any) -> None:
    """The most overdue incident (open: the faults leave lost dossiers until the redrive) is
    assigned to an officer and gets a note in its panel; the queue shows who has it; the shift is
    handed over, listing both by whom, and the incident among what stays open."""
    code = top.locator("a[data-dossier]").inner_text()
    top.locator("a[data-dossier]").click()
    box = page.locator("#panel-alerts .worklog").first
    expect(box).to_be_visible(timeout=10_000)
    box.locator(".assign-to").fill("Lê Văn Nhận Việc")
    _what_the_officer_typed_survives_the_panel_drawn_again(page, expect)
    box = page.locator("#panel-alerts .worklog").first
    box.locator("button.assign").click()
    page.wait_for_function(
        "() => { const b = document.querySelector('#panel-alerts .worklog'); return b &&"
        " (b.textContent.includes('Lê Văn Nhận Việc') || b.textContent.includes('Không thực hiện được')); }",
        timeout=10_000,
    )
    said = page.locator("#panel-alerts .worklog").first.inner_text()
    assert "Người được giao: Lê Văn Nhận Việc" in said, said
    box = page.locator("#panel-alerts .worklog").first
    box.locator(".note-text").fill("Đã gọi điện cho Công an xã")
    box.locator("button.add-note").click()
    expect(page.locator("#panel-alerts .worklog .notes").first).to_contain_text(
        "Đã gọi điện cho Công an xã", timeout=10_000
    )
    page.locator("#panel-close").click()
    expect(page.locator("#queue-table tbody tr[data-id]").first).to_contain_text("Lê Văn Nhận Việc", timeout=15_000)
    page.fill("#shift-to", "Phạm Thị Ca Sau")
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("#shift-handover").click()
    document = page.locator("#shift-document")
    expect(document).to_contain_text("Biên bản chuyển ca", timeout=10_000)
    expect(document).to_contain_text("người nhận: Phạm Thị Ca Sau")
    expect(document).to_contain_text("Đã giao việc (1)")
    expect(document).to_contain_text("Ghi chú (1)")
    expect(document.locator("table.handover-open")).to_contain_text(code)
    document.scroll_into_view_if_needed()
    document.screenshot(path=str(ARTIFACTS / "console-handover.png"))


def _commune_view(page: Any, expect: Any) -> int:
    """The view by district and commune: the commune with the most overdue dossiers opens its
    list against the legal deadlines, as many rows as its count says; how many."""
    areas = _get_json(page, "/api/v1/areas")
    communes = [c for d in areas["districts"] for c in d["communes"]]
    assert communes, areas
    worst = max(communes, key=lambda c: (c["overdue"], c["open"]))
    button = page.locator(f"#areas-table button[data-commune={json.dumps(worst['commune'], ensure_ascii=False)}]")
    expect(button).to_be_visible(timeout=15_000)
    button.click()
    heading = page.locator("#commune-overdue h3")
    expect(heading).to_contain_text(f"{worst['commune']}: {worst['overdue']} hồ sơ quá hạn", timeout=10_000)
    expect(page.locator("#commune-overdue table.commune-overdue tbody tr")).to_have_count(min(worst["overdue"], 500))
    page.locator("#areas").screenshot(path=str(ARTIFACTS / "console-commune.png"))
    return int(worst["overdue"])


def _subscribe(page: Any, expect: Any) -> dict[str, Any]:
    """An officer subscribed by mail to the births of the first commune the console lists: the
    section confirms it, lists it in Vietnamese, and it reaches the running Alertmanager."""
    commune = page.locator("#areas-table button[data-commune]").first.get_attribute("data-commune")
    page.fill("#sub-officer", "Võ Thị Theo Dõi")
    page.select_option("#sub-channel", "email")
    page.fill("#sub-address", "theo-doi@xa.gov.vn")
    page.fill("#sub-communes", commune)
    page.check('input[name="sub-flow"][value="birth"]')
    page.locator("#sub-add").click()
    expect(page.locator("#sub-result")).to_contain_text("Đã đăng ký", timeout=10_000)
    table = page.locator("#sub-table")
    expect(table).to_contain_text("Võ Thị Theo Dõi", timeout=10_000)
    expect(table).to_contain_text(commune)
    expect(table).to_contain_text("Khai sinh")
    listed = page.evaluate("async () => (await operatorGet('/api/v1/subscriptions')).data")
    assert listed["applied"] is True, listed
    (made,) = [s for s in listed["subscriptions"] if s["officer"] == "Võ Thị Theo Dõi"]
    assert (made["communes"], made["flows"], made["channel"]) == ([commune], ["birth"], "email"), made
    return made
