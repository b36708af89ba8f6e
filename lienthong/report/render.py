"""Writers for the report: json (machine), csv (one row per flow and area), html (tables and
charts in one self-contained file) and xlsx (a sheet per flow, like the reports' appendix tables)."""

from __future__ import annotations

import base64
import csv
import html
import json
import unicodedata
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from lienthong.report import charts
from streams.statistics import ALL_FLOWS, COUNTS, FLOW_TITLES, HEADINGS_VI, RATES, Period, Row

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
    return writers[fmt](rows, period, by, cutoff, base)


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


def _charts(rows: list[Row], period: Period, base: Path) -> list[Path]:
    return [
        charts.outcomes(rows, period, base.parent / f"{base.name}-ket-qua.png"),
        charts.rates(rows, period, base.parent / f"{base.name}-ty-le.png"),
    ]


def _cell(col: str, value: Any) -> str:
    if value is None:
        return "—"
    if col.endswith(("_official", "_corrected")):
        return f"{100 * value:.1f}%"
    return str(value)


def _html(rows: list[Row], period: Period, by: str, cutoff: datetime | None, base: Path) -> Path:
    path = base.with_suffix(".html")
    cols = columns()[1:]
    pngs = _charts(rows, period, base)
    parts = [
        "<!doctype html><html lang='vi'><head><meta charset='utf-8'>",
        f"<title>Báo cáo thống kê liên thông — {html.escape(period.label)}</title>",
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;font-size:13px}"
        "th,td{border:1px solid #999;padding:3px 6px;text-align:right}th{background:#eef}"
        "td:first-child{text-align:left}tr.total{font-weight:bold}</style></head><body>",
        "<h1>Báo cáo thống kê hồ sơ liên thông</h1>",
        f"<p>{html.escape(period.title_vi)} · theo {html.escape(_by_vi(by))}"
        + (f" · số liệu đến {cutoff:%d/%m/%Y %H:%M}" if cutoff else "")
        + "</p>",
    ]
    for flow in (*FLOW_TITLES, ALL_FLOWS):
        these = [r for r in rows if r.flow == flow]
        if not these:
            continue
        parts.append(f"<h2>{html.escape(FLOW_TITLES.get(flow, 'Tổng hợp các nhóm thủ tục'))}</h2><table><tr>")
        parts += [f"<th>{html.escape(heading(c))}</th>" for c in cols]
        parts.append("</tr>")
        for r in these:
            d = flat(r)
            cls = " class='total'" if r.area.startswith("Tổng") else ""
            parts.append(f"<tr{cls}>" + "".join(f"<td>{html.escape(_cell(c, d[c]))}</td>" for c in cols) + "</tr>")
        parts.append("</table>")
    for png in pngs:
        data = base64.b64encode(png.read_bytes()).decode()
        parts.append(f"<p><img alt='{html.escape(png.stem)}' src='data:image/png;base64,{data}'></p>")
    parts.append("</body></html>")
    path.write_text(_nfc("\n".join(parts)), encoding="utf-8")
    return path


def _by_vi(by: str) -> str:
    return {"province": "tỉnh", "district": "huyện", "commune": "xã"}.get(by, by)


def _xlsx(rows: list[Row], period: Period, by: str, cutoff: datetime | None, base: Path) -> Path:
    from openpyxl import Workbook
    from openpyxl.drawing.image import Image
    from openpyxl.styles import Alignment, Font, PatternFill

    path = base.with_suffix(".xlsx")
    cols = columns()[1:]
    wb = Workbook()
    for blank in wb.worksheets:
        wb.remove(blank)
    bold = Font(bold=True)
    for flow in (*FLOW_TITLES, ALL_FLOWS):
        these = [r for r in rows if r.flow == flow]
        if not these:
            continue
        ws = wb.create_sheet(SHEETS[flow])
        ws.append([_nfc(FLOW_TITLES.get(flow, "Tổng hợp các nhóm thủ tục"))])
        ws["A1"].font = Font(bold=True, size=13)
        ws.append([_nfc(f"{period.title_vi} · theo {_by_vi(by)}")])
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
        for row in ws.iter_rows(min_row=4, min_col=2 + len(COUNTS)):
            for cell in row:
                cell.number_format = "0.0%"
        ws.column_dimensions["A"].width = 28
        for i in range(2, len(cols) + 1):
            ws.column_dimensions[ws.cell(row=3, column=i).column_letter].width = 14
        ws.row_dimensions[3].height = 60
        ws.freeze_panes = "B4"
    charts_ws = wb.create_sheet("Biểu đồ")
    for i, png in enumerate(_charts(rows, period, base)):
        charts_ws.add_image(Image(str(png)), f"A{1 + 22 * i}")
    wb.save(path)
    return path
