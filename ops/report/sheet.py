"""The xlsx report: a sheet per flow laid out as the official form (form.py), then the charts.

openpyxl writes the workbook, its merged headings and its native charts: the file opens in any
spreadsheet program with nothing drawn as a picture."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from contracts.clock import VN_TZ
from ops.report import charts
from ops.report.form import (
    GROUPS,
    MOTTO,
    NATION,
    NUMBER,
    RECIPIENTS_VI,
    SIGNERS,
    TITLE,
    UNIT_OF_COUNT,
    Form,
    form_columns,
    short,
)
from ops.report.periods import Period
from ops.report.statistics import ALL_FLOWS, FLOW_TITLES, TOTAL, Row

SHEETS = {
    "birth": "Khai sinh",
    "death": "Khai tử",
    "lltp": "Lý lịch tư pháp",
    "marriage": "Kết hôn",
    ALL_FLOWS: "Tổng hợp",
}
GROUP_ROW = 10
"""The row of the grouped headings; the column headings are on the next, their numbers after."""
FIRST_DATA_ROW = GROUP_ROW + 3


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def write_xlsx(
    rows: list[Row],
    period: Period,
    by: str,
    cutoff: datetime | None,
    form: Form,
    notes: Callable[[list[Row]], list[str]],
    base: Path,
) -> Path:
    from openpyxl import Workbook

    path = base.with_suffix(".xlsx")
    wb = Workbook()
    for blank in wb.worksheets:
        wb.remove(blank)
    for flow in (*FLOW_TITLES, ALL_FLOWS):
        these = [r for r in rows if r.flow == flow]
        if these:
            _sheet(wb.create_sheet(SHEETS[flow]), flow, these, period, form, by=by, cutoff=cutoff, notes=notes(these))
    charts_ws = wb.create_sheet("Biểu đồ")
    charts_ws.column_dimensions["A"].width = 34
    top = 1
    for chart in charts.all_charts(rows, period):
        top = charts.add_to_sheet(charts_ws, chart, top)
    wb.save(path)
    return path


@dataclass
class _FormSheet:
    """One flow's sheet, written top to bottom: masthead, headings, rows, notes, signatures."""

    ws: Any
    width: int = 2 + len(form_columns())

    @property
    def right(self) -> int:
        """Where the nation's heading and the signatures begin (over the right-hand columns)."""
        return self.width - 9

    def put(self, row: int, col: int, text: str, *, to: int | None = None, font: Any = None, align: Any = None) -> None:
        from openpyxl.styles import Alignment

        cell = self.ws.cell(row=row, column=col, value=_nfc(text))
        if to is not None and to > col:
            self.ws.merge_cells(start_row=row, start_column=col, end_row=row, end_column=to)
        cell.alignment = align or Alignment(horizontal="center", vertical="center", wrap_text=True)
        if font is not None:
            cell.font = font

    def masthead(self, flow: str, period: Period, by: str, cutoff: datetime | None, form: Form) -> None:
        from openpyxl.styles import Alignment, Font

        bold, w, r = Font(bold=True), self.width, self.right
        self.put(1, 1, form.unit, to=6, font=bold)
        self.put(1, r, NATION, to=w, font=bold)
        self.put(2, 1, "TRUNG TÂM PHỤC VỤ HÀNH CHÍNH CÔNG", to=6, font=bold)
        self.put(2, r, MOTTO, to=w, font=Font(bold=True, underline="single"))
        self.put(3, r, form.place_and_date, to=w, font=Font(italic=True))
        self.put(4, 1, NUMBER, to=6, font=bold, align=Alignment(horizontal="left"))
        self.put(5, 1, TITLE, to=w, font=Font(bold=True, size=13))
        self.put(6, 1, FLOW_TITLES.get(flow, "Tổng hợp các nhóm thủ tục"), to=w, font=bold)
        until = f"; số liệu đến {cutoff.astimezone(VN_TZ):%H:%M ngày %d/%m/%Y}" if cutoff else ""
        self.put(7, 1, f"{period.title_vi}; theo {by}{until}", to=w, font=Font(italic=True))
        self.put(8, 1, f"Kính gửi: {form.recipient}", to=w)
        self.put(9, 1, UNIT_OF_COUNT, to=w, font=Font(italic=True), align=Alignment(horizontal="right"))

    def headings(self) -> None:
        from openpyxl.styles import Font

        g, bold = GROUP_ROW, Font(bold=True)
        for at, text in ((1, "STT"), (2, "Địa bàn")):
            self.put(g, at, text, font=bold)
            self.ws.merge_cells(start_row=g, start_column=at, end_row=g + 1, end_column=at)
        at = 3
        for title, members in GROUPS:
            self.put(g, at, title, to=at + len(members) - 1, font=bold)
            for i, member in enumerate(members):
                self.put(g + 1, at + i, short(member), font=bold)
            at += len(members)
        for i in range(self.width):
            self.put(g + 2, i + 1, f"({i + 1})", font=Font(italic=True, size=9))

    def body(self, these: list[Row]) -> None:
        from openpyxl.styles import Font

        cols = form_columns()
        number = 0
        for r in these:
            total = r.area.startswith(TOTAL)
            number += not total
            rates = r.rates()
            values = [
                rates[c.rsplit("_", 1)[0]][c.rsplit("_", 1)[1]] if c.endswith(RATE_SUFFIXES) else r.counts[c]
                for c in cols
            ]
            self.ws.append(["" if total else number, _nfc(r.area), *values])
            if total:
                for cell in self.ws[self.ws.max_row]:
                    cell.font = Font(bold=True)
        rate_from = 3 + cols.index(next(c for c in cols if c.endswith(RATE_SUFFIXES)))
        for line in self.ws.iter_rows(min_row=FIRST_DATA_ROW, max_row=self.ws.max_row, min_col=rate_from):
            for cell in line:
                cell.number_format = "0.0%"

    def borders(self, last: int) -> None:
        from openpyxl.styles import Border, Side

        thin = Side(style="thin", color="808080")
        box = Border(left=thin, right=thin, top=thin, bottom=thin)
        for line in self.ws.iter_rows(min_row=GROUP_ROW, max_row=last, max_col=self.width):
            for cell in line:
                cell.border = box

    def closing(self, notes: list[str]) -> None:
        from openpyxl.styles import Alignment, Font

        self.ws.append([])
        for note in notes:
            self.ws.append([_nfc(note)])
            self.ws.cell(row=self.ws.max_row, column=1).font = Font(italic=True, size=9)
        self.ws.append([])
        top = self.ws.max_row + 1
        left = Alignment(horizontal="left")
        for i, text in enumerate(RECIPIENTS_VI):
            self.put(top + i, 1, text, to=4, font=Font(bold=i == 0, size=10), align=left)
        for k, (who, how) in enumerate(SIGNERS):
            start = self.right + 5 * k
            self.put(top, start, who, to=start + 4, font=Font(bold=True))
            self.put(top + 1, start, how, to=start + 4, font=Font(italic=True))

    def layout(self) -> None:
        ws = self.ws
        ws.column_dimensions["A"].width = 6
        ws.column_dimensions["B"].width = 28
        for i in range(3, self.width + 1):
            ws.column_dimensions[ws.cell(row=GROUP_ROW + 2, column=i).column_letter].width = 11
        ws.row_dimensions[GROUP_ROW].height = 45
        ws.row_dimensions[GROUP_ROW + 1].height = 60
        ws.freeze_panes = ws.cell(row=FIRST_DATA_ROW, column=3)
        ws.page_setup.orientation = "landscape"
        ws.page_setup.paperSize = ws.PAPERSIZE_A4
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True


RATE_SUFFIXES = ("_official", "_corrected")


def _sheet(ws: Any, flow: str, these: list[Row], period: Period, form: Form, **about: Any) -> None:
    """`about`: `by` (the level as read), `cutoff`, `notes` (the lines under the table)."""
    sheet = _FormSheet(ws)
    sheet.masthead(flow, period, about["by"], about["cutoff"], form)
    sheet.headings()
    sheet.body(these)
    sheet.borders(ws.max_row)
    sheet.closing(about["notes"])
    sheet.layout()
