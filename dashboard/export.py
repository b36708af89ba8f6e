"""The work queue as a file an officer takes away: xlsx or csv, with the columns the page shows,
under the same Vietnamese headings, for every row the filters select (not only the page shown).
Pure apart from writing bytes; openpyxl because the province's offices work in Excel."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import datetime

from aiohttp import web

from contracts.clock import VN_TZ
from dashboard.workqueue import QueueRow

COLUMNS = (
    ("code", "Mã hồ sơ"),
    ("kind_vi", "Loại"),
    ("flow_vi", "Luồng"),
    ("commune", "Xã, phường"),
    ("where_vi", "Nơi xử lý"),
    ("overdue_vi", "Quá hạn"),
    ("severity_vi", "Mức độ"),
    ("situation_vi", "Tình hình và việc nên làm"),
    ("assignee", "Người được giao"),
)
"""(key of a queue row, heading): the page's columns, in its order, under its headings."""
STATE_VI = {"open": "", "acknowledged": "đã xác nhận", "resolved": "đã xử lý"}
FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def cells(rows: Sequence[QueueRow]) -> list[list[str]]:
    """The table: the headings, then a line per row, as text the page shows."""
    out = [[heading for _, heading in COLUMNS]]
    for r in rows:
        state = STATE_VI.get(r["state"], r["state"])
        situation = f"{r['verdict_vi']} → {r['action_vi']}" + (f" ({state})" if state else "")
        shown: dict[str, object] = {**r, "situation_vi": situation}
        out.append(["" if shown.get(k) is None else str(shown[k]) for k, _ in COLUMNS])
    return out


def to_csv(rows: Sequence[QueueRow]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(cells(rows))
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")  # the BOM: Excel reads it as UTF-8


def to_xlsx(rows: Sequence[QueueRow], title: str, moment: datetime) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    wb = Workbook()
    for blank in wb.worksheets:
        wb.remove(blank)
    ws = wb.create_sheet("Việc cần làm")
    ws.append([title])
    ws["A1"].font = Font(bold=True, size=13)
    ws.append([f"Số liệu lúc {moment:%H:%M %d/%m/%Y} · {len(rows)} sự cố"])
    table = cells(rows)
    ws.append(table[0])
    for cell in ws[3]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for line in table[1:]:
        ws.append(line)
    for column, width in zip("ABCDEFGHI", (22, 16, 18, 20, 34, 22, 12, 80, 22), strict=True):
        ws.column_dimensions[column].width = width
    ws.freeze_panes = "A4"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def response(fmt: str, rows: Sequence[QueueRow], now: datetime) -> web.Response:
    """The filtered queue as a file, named after the moment it shows; 404 for another format."""
    if fmt not in FORMATS:
        return web.json_response({"error": f"Không có định dạng {fmt}: chỉ có {', '.join(FORMATS)}"}, status=404)
    body = to_csv(rows) if fmt == "csv" else to_xlsx(rows, "Việc cần làm", now.astimezone(VN_TZ))
    name = f"viec-can-lam-{now.astimezone(VN_TZ):%Y%m%d-%H%M}.{fmt}"
    return web.Response(
        body=body, headers={"Content-Type": FORMATS[fmt], "Content-Disposition": f'attachment; filename="{name}"'}
    )
