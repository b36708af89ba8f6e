"""The report's charts, as data (pure) and as the two forms draw them: native Excel charts in the
xlsx (openpyxl's own, so the numbers stay in the workbook and no plotting library is needed) and
bars in the HTML page (widths in CSS, the figure written on each bar).

Three charts: how each flow's dossiers ended the period, the rates of all flows under the official
and the corrected formula, and the same rates per flow (LLTP's post rate among them). A rate left
out on purpose (nothing to divide by, or a formula that means nothing for the total) is no bar,
labelled "không áp dụng": never drawn as 0 %.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ops.report.periods import Period
from ops.report.statistics import ALL_FLOWS, FLOW_TITLES, HEADINGS_VI, RATES, TOTAL, Row

OUTCOMES = ("resolved_on_time", "resolved_late", "in_progress", "overdue")
FORMULAS = ("official", "corrected")
COLOURS = {
    "resolved_on_time": "2E7D32",
    "resolved_late": "F9A825",
    "in_progress": "1565C0",
    "overdue": "C62828",
    "official": "1F77B4",
    "corrected": "FF7F0E",
}
NOT_APPLICABLE = "không áp dụng"
"""Shown where a rate is left out on purpose: never drawn as 0 %."""


@dataclass(frozen=True)
class Chart:
    """One chart: a title, the categories (rows of bars) and one series per legend entry, each a
    value per category (None: no bar)."""

    title: str
    categories: tuple[str, ...]
    series: tuple[tuple[str, str, tuple[float | None, ...]], ...]
    """(key, legend label, values)."""
    percent: bool = False
    stacked: bool = False


def _totals(rows: list[Row]) -> list[Row]:
    return [r for r in rows if r.area == TOTAL and r.flow != ALL_FLOWS]


def _name(period: Period) -> str:
    return period.name_vi or period.title_vi


def outcomes(rows: list[Row], period: Period) -> Chart:
    totals = _totals(rows)
    return Chart(
        f"Tình hình giải quyết hồ sơ — {_name(period)}",
        tuple(FLOW_TITLES.get(r.flow, r.flow) for r in totals),
        tuple((k, HEADINGS_VI[k], tuple(float(r.counts[k]) for r in totals)) for k in OUTCOMES),
        stacked=True,
    )


def _rates_chart(title: str, values: dict[str, dict[str, float | None]]) -> Chart:
    return Chart(
        title,
        tuple(HEADINGS_VI[k] for k in RATES),
        tuple((f, HEADINGS_VI[f], tuple(values[k][f] for k in RATES)) for f in FORMULAS),
        percent=True,
    )


def rates(rows: list[Row], period: Period) -> list[Chart]:
    total = next((r for r in rows if r.flow == ALL_FLOWS), None)
    if total is None:
        return []
    return [_rates_chart(f"Các tỷ lệ theo hai cách tính — {_name(period)}", total.rates())]


def flow_rates(rows: list[Row], period: Period) -> list[Chart]:
    return [
        _rates_chart(f"{FLOW_TITLES.get(r.flow, r.flow)}: các tỷ lệ — {_name(period)}", r.rates())
        for r in _totals(rows)
    ]


def all_charts(rows: list[Row], period: Period) -> list[Chart]:
    return [outcomes(rows, period), *rates(rows, period), *flow_rates(rows, period)]


def html_bars(chart: Chart) -> dict[str, Any]:
    """What the HTML template draws: per category, a bar per series with its width (a share of
    the longest total, or of 100 % for rates) and its label; a None value is no bar, labelled."""
    if chart.stacked:
        widest = max((sum(v[i] or 0.0 for _, _, v in chart.series) for i in range(len(chart.categories))), default=0.0)
    else:
        widest = 1.0 if chart.percent else max((x or 0.0 for _, _, v in chart.series for x in v), default=0.0)
    scale = 100.0 / widest if widest else 0.0
    groups = []
    for i, category in enumerate(chart.categories):
        bars = []
        for key, label, values in chart.series:
            v = values[i]
            text = NOT_APPLICABLE if v is None else f"{100 * v:.1f} %" if chart.percent else f"{v:.0f}"
            bars.append(
                {"key": key, "label": label, "width": 0.0 if v is None else v * scale, "text": text, "none": v is None}
            )
        groups.append({"category": category, "bars": bars})
    legend = [{"key": k, "label": label, "colour": COLOURS[k]} for k, label, _ in chart.series]
    return {"title": chart.title, "stacked": chart.stacked, "groups": groups, "legend": legend}


def add_to_sheet(ws: Any, chart: Chart, top: int) -> int:
    """Write the chart's figures at row `top` of `ws` (the chart reads them there) and a native
    Excel bar chart beside them; the next free row."""
    from openpyxl.chart import BarChart, Reference

    ws.cell(row=top, column=1, value=chart.title)
    header = top + 1
    ws.cell(row=header, column=1, value="")
    for j, (_, label, _) in enumerate(chart.series, start=2):
        ws.cell(row=header, column=j, value=label)
    note_col = len(chart.series) + 2
    ws.cell(row=header, column=note_col, value="Ghi chú")
    for i, category in enumerate(chart.categories, start=1):
        ws.cell(row=header + i, column=1, value=category)
        missing = []
        for j, (_, label, values) in enumerate(chart.series, start=2):
            v = values[i - 1]
            # An empty cell is a gap in the chart; text or 0 would be drawn as a 0 % bar.
            cell = ws.cell(row=header + i, column=j, value=v)
            if v is None:
                missing.append(label)
            elif chart.percent:
                cell.number_format = "0.0%"
        if missing:
            ws.cell(row=header + i, column=note_col, value=f"{NOT_APPLICABLE}: {', '.join(missing)}")
    last = header + len(chart.categories)
    bar = BarChart()
    bar.type = "bar" if chart.stacked else "col"
    if chart.stacked:
        bar.grouping = "stacked"
        bar.overlap = 100
    bar.title = chart.title
    bar.y_axis.title = "%" if chart.percent else "Số hồ sơ"
    if chart.percent:
        bar.y_axis.scaling.min = 0
        bar.y_axis.scaling.max = 1
        bar.y_axis.number_format = "0%"
    data = Reference(ws, min_col=2, max_col=1 + len(chart.series), min_row=header, max_row=last)
    bar.add_data(data, titles_from_data=True)
    bar.set_categories(Reference(ws, min_col=1, min_row=header + 1, max_row=last))
    for s, (key, _, _) in zip(bar.series, chart.series, strict=True):
        s.graphicalProperties.solidFill = COLOURS[key]
    bar.height, bar.width = 7.5, 16
    ws.add_chart(bar, f"{_column(len(chart.series) + 4)}{top}")
    return max(last + 2, top + 16)


def _column(n: int) -> str:
    from openpyxl.utils import get_column_letter

    return str(get_column_letter(n))
