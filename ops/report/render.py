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
    default_form,
    form_columns,
    short,
)
from ops.report.periods import Period
from ops.report.sheet import write_xlsx
from ops.report.statistics import ALL_FLOWS, COUNTS, FLOW_TITLES, FORMULAS_VI, HEADINGS_VI, RATES, TOTAL, Row

FORMATS = ("json", "csv", "html", "xlsx")


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


def write(
    fmt: str, rows: list[Row], period: Period, by: str, cutoff: datetime | None, out: Path, form: Form | None = None
) -> Path:
    """One format of the report in `out`; the printed forms (html, xlsx) carry `form`'s heading
    and signature block (by default, a province's form signed on the day the data ends)."""
    out.mkdir(parents=True, exist_ok=True)
    form = form or default_form([], cutoff)
    base = out / f"bao-cao-{period.label.lower()}-{by}"
    writers: dict[str, Callable[[list[Row], Period, str, datetime | None, Form, Path], Path]] = {
        "csv": lambda r, p, b, c, _f, out: _csv(r, p, b, c, out),
        "html": _html,
        "xlsx": lambda r, p, b, c, f, out: write_xlsx(r, p, b, c, f, footnotes, out),
    }
    if fmt not in (*writers, "json"):
        raise ValueError(f"--format {fmt!r}: expected one of {', '.join(FORMATS)}")
    if fmt == "json":
        return _json(rows, period, by, cutoff, base)
    # The printed forms take the level as the heading reads it ("tỉnh (Tỉnh Hà Tĩnh)").
    return writers[fmt](shown(rows, by), period, _by_vi(by, rows), cutoff, form, base)


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
    loader=jinja2.PackageLoader("ops.report", "templates"),
    autoescape=True,
    trim_blocks=True,
    lstrip_blocks=True,
    undefined=jinja2.StrictUndefined,
)
"""jinja2 with autoescaping: every value is escaped where it is placed, which the hand-built HTML
had to remember cell by cell."""


def _html(rows: list[Row], period: Period, by: str, cutoff: datetime | None, form: Form, base: Path) -> Path:
    path = base.with_suffix(".html")
    cols = form_columns()
    sections = []
    for flow in (*FLOW_TITLES, ALL_FLOWS):
        these = [r for r in rows if r.flow == flow]
        if not these:
            continue
        numbered, number = [], 0
        for r in these:
            total = r.area.startswith(TOTAL)
            number += not total
            d = flat(r)
            numbered.append(
                {
                    "total": total,
                    "stt": "" if total else number,
                    "area": r.area,
                    "cells": [_cell(c, d[c]) for c in cols],
                }
            )
        sections.append(
            {"title": FLOW_TITLES.get(flow, "Tổng hợp các nhóm thủ tục"), "rows": numbered, "notes": footnotes(these)}
        )
    page = _TEMPLATES.get_template("report.html.j2").render(
        period=period,
        by_vi=by,
        cutoff=cutoff.astimezone(VN_TZ) if cutoff else None,  # stored in UTC; read in Vietnam's time
        form=form,
        nation=NATION,
        motto=MOTTO,
        number=NUMBER,
        title=TITLE,
        unit_of_count=UNIT_OF_COUNT,
        groups=[{"title": t, "span": len(m)} for t, m in GROUPS],
        subheadings=[short(c) for c in cols],
        numbers=[f"({i})" for i in range(1, len(cols) + 3)],
        signers=SIGNERS,
        recipients=RECIPIENTS_VI,
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
