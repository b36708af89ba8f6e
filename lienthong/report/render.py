"""Writers for the report: json (machine), csv (one row per flow and area), html (tables and
charts in one self-contained file) and xlsx (a sheet per flow, like the reports' appendix tables)."""

from __future__ import annotations

import csv
import json
import unicodedata
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import jinja2

from contracts.clock import VN_TZ
from lienthong.report import charts
from lienthong.report.periods import Period
from lienthong.report.statistics import ALL_FLOWS, COUNTS, FLOW_TITLES, FORMULAS_VI, HEADINGS_VI, RATES, TOTAL, Row

FORMATS = ("json", "csv", "html", "xlsx")
SHEETS = {"birth": "Khai sinh", "death": "Khai tử", "lltp": "Lý lịch tư pháp", ALL_FLOWS: "Tổng hợp"}


def columns() -> list[str]:
    rates = [f"{k}_{f}" for k in RATES for f in ("official", "corrected")]
    return ["flow", "area", *COUNTS, *rates]


def heading(col: str) -> str:
    for f in ("official", "corrected"):
        if col.endswith("_" + f):
            return f"{HEADINGS_VI[col.removesuffix('_' + f)]} ({HEADINGS_VI[f]})"
    return HEADINGS_VI.get(col, col)


def footnotes(rows: list[Row]) -> list[str]:
    """What is written under a table: each rate's two formulas, then why a rate is left out."""
    lines = [
        f"{HEADINGS_VI[k]}: {HEADINGS_VI['official']} = {official}; {HEADINGS_VI['corrected']} = {corrected}."
        for k, (official, corrected) in FORMULAS_VI.items()
    ]
    for r in rows:
        for col, why in r.notes.items():
            line = f"{heading(col)}, dòng {r.area}: {why}"
            if line not in lines:
                lines.append(line)
    return lines


def flat(row: Row) -> dict[str, Any]:
    out: dict[str, Any] = {"flow": row.flow, "area": row.area, **row.counts}
    for k, v in row.rates().items():
        for f, x in v.items():
            out[f"{k}_{f}"] = x
    return out


def document(rows: list[Row], period: Period, by: str, cutoff: datetime | None) -> dict[str, Any]:
    return {
        "period": period.label,
        "start": period.start.isoformat(),
        "end": period.end.isoformat(),
        "by": by,
        "data_until": cutoff.isoformat() if cutoff else None,
        "rows": [r.as_dict() for r in rows],
    }


def write(fmt: str, rows: list[Row], period: Period, by: str, cutoff: datetime | None, out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    base = out / f"bao-cao-{period.label.lower()}-{by}"
    writers: dict[str, Callable[[list[Row], Period, str, datetime | None, Path], Path]] = {
        "json": _json,
        "csv": _csv,
        "html": _html,
        "xlsx": _xlsx,
    }
    if fmt not in writers:
        raise ValueError(f"--format {fmt!r}: expected one of {', '.join(FORMATS)}")
    if fmt == "json":
        return _json(rows, period, by, cutoff, base)
    # The printed forms take the level as the heading reads it ("tỉnh (Tỉnh Hà Tĩnh)").
    return writers[fmt](shown(rows, by), period, _by_vi(by, rows), cutoff, base)


def shown(rows: list[Row], by: str) -> list[Row]:
    """The rows a printed report shows: by province, one province's row is its flow's total row
    again, so only the total is printed (its province is named in the heading, `_by_vi`). The
    JSON keeps every row."""
    if by != "province":
        return rows
    areas: dict[str, list[Row]] = {}
    for r in rows:
        if r.area != TOTAL:
            areas.setdefault(r.flow, []).append(r)
    single = {id(a[0]) for a in areas.values() if len(a) == 1}
    return [r for r in rows if id(r) not in single]


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _json(rows: list[Row], period: Period, by: str, cutoff: datetime | None, base: Path) -> Path:
    path = base.with_suffix(".json")
    path.write_text(json.dumps(document(rows, period, by, cutoff), ensure_ascii=False, indent=1), encoding="utf-8")
    return path


def _csv(rows: list[Row], period: Period, by: str, cutoff: datetime | None, base: Path) -> Path:
    path = base.with_suffix(".csv")
    cols = columns()
    # utf-8-sig: spreadsheet programs then read the Vietnamese headings right.
    with path.open("w", newline="", encoding="utf-8-sig") as f:
        w = csv.writer(f)
        w.writerow(cols)
        w.writerow([_nfc(heading(c)) for c in cols])
        for r in rows:
            d = flat(r)
            w.writerow(["" if d[c] is None else d[c] for c in cols])
    return path


def _cell(col: str, value: Any) -> str:
    if value is None:
        return "—"
    if col.endswith(("_official", "_corrected")):
        return f"{100 * value:.1f}%"
    return str(value)


_TEMPLATES = jinja2.Environment(
    loader=jinja2.PackageLoader("lienthong.report", "templates"),
    autoescape=True,
    trim_blocks=True,
    lstrip_blocks=True,
    undefined=jinja2.StrictUndefined,
)
"""jinja2 with autoescaping: every value is escaped where it is placed, which the hand-built HTML
had to remember cell by cell."""


def _html(rows: list[Row], period: Period, by: str, cutoff: datetime | None, base: Path) -> Path:
    path = base.with_suffix(".html")
    cols = columns()[1:]
    sections = []
    for flow in (*FLOW_TITLES, ALL_FLOWS):
        these = [r for r in rows if r.flow == flow]
        if these:
            sections.append(
                {
                    "title": FLOW_TITLES.get(flow, "Tổng hợp các nhóm thủ tục"),
                    "rows": [
                        {"total": r.area.startswith("Tổng"), "cells": [_cell(c, flat(r)[c]) for c in cols]}
                        for r in these
                    ],
                    "notes": footnotes(these),
                }
            )
    page = _TEMPLATES.get_template("report.html.j2").render(
        period=period,
        by_vi=by,
        cutoff=cutoff.astimezone(VN_TZ) if cutoff else None,  # stored in UTC; read in Vietnam's time
        headings=[heading(c) for c in cols],
        sections=sections,
        charts=[charts.html_bars(c) for c in charts.all_charts(rows, period)],
    )
    path.write_text(_nfc(page), encoding="utf-8")
    return path


def _by_vi(by: str, rows: list[Row]) -> str:
    """The level as the heading reads it; by province, the one province it covers is named."""
    level = {"province": "tỉnh", "district": "huyện", "commune": "xã"}.get(by, by)
    provinces = {r.area for r in rows if r.area != TOTAL} if by == "province" else set()
    return f"{level} ({provinces.pop()})" if len(provinces) == 1 else level


def _xlsx(rows: list[Row], period: Period, by: str, cutoff: datetime | None, base: Path) -> Path:
    from openpyxl import Workbook

    path = base.with_suffix(".xlsx")
    wb = Workbook()
    for blank in wb.worksheets:
        wb.remove(blank)
    for flow in (*FLOW_TITLES, ALL_FLOWS):
        these = [r for r in rows if r.flow == flow]
        if these:
            _sheet(wb.create_sheet(SHEETS[flow]), flow, these, period, by)
    charts_ws = wb.create_sheet("Biểu đồ")
    charts_ws.column_dimensions["A"].width = 34
    top = 1
    for chart in charts.all_charts(rows, period):
        top = charts.add_to_sheet(charts_ws, chart, top)
    wb.save(path)
    return path


def _sheet(ws: Any, flow: str, these: list[Row], period: Period, by: str) -> None:
    """One flow's table: title, period, headings, a row per area then the total, the rates as
    percentages, the formulas under the table."""
    from openpyxl.styles import Alignment, Font, PatternFill

    cols = columns()[1:]
    bold = Font(bold=True)
    ws.append([_nfc(FLOW_TITLES.get(flow, "Tổng hợp các nhóm thủ tục"))])
    ws["A1"].font = Font(bold=True, size=13)
    ws.append([_nfc(f"{period.title_vi} · theo {by}")])
    ws.append([_nfc(heading(c)) for c in cols])
    for cell in ws[3]:
        cell.font = bold
        cell.fill = PatternFill("solid", fgColor="DDE3F5")
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for r in these:
        d = flat(r)
        ws.append([d[c] for c in cols])
        if r.area.startswith("Tổng"):
            for cell in ws[ws.max_row]:
                cell.font = bold
    for row in ws.iter_rows(min_row=4, max_row=ws.max_row, min_col=2 + len(COUNTS)):
        for cell in row:
            cell.number_format = "0.0%"
    ws.append([])
    for line in footnotes(these):
        ws.append([_nfc(line)])
        ws.cell(row=ws.max_row, column=1).font = Font(italic=True, size=9)
    ws.column_dimensions["A"].width = 28
    for i in range(2, len(cols) + 1):
        ws.column_dimensions[ws.cell(row=3, column=i).column_letter].width = 14
    ws.row_dimensions[3].height = 60
    ws.freeze_panes = "B4"
