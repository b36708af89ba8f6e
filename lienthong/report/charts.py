"""The report's charts as PNG (matplotlib, no display needed): how each flow's dossiers ended the
period, and each rate under the official and the corrected formula."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; never a window

import matplotlib.pyplot as plt

from lienthong.report.periods import Period
from lienthong.report.statistics import ALL_FLOWS, FLOW_TITLES, HEADINGS_VI, RATES, TOTAL, Row

OUTCOMES = ("resolved_on_time", "resolved_late", "in_progress", "overdue")
COLOURS = {"resolved_on_time": "#2e7d32", "resolved_late": "#f9a825", "in_progress": "#1565c0", "overdue": "#c62828"}


def _totals(rows: list[Row]) -> list[Row]:
    return [r for r in rows if r.area == TOTAL and r.flow != ALL_FLOWS]


def outcomes(rows: list[Row], period: Period, path: Path) -> Path:
    totals = _totals(rows)
    fig, ax = plt.subplots(figsize=(8, 4.2), dpi=110)
    names = [FLOW_TITLES.get(r.flow, r.flow) for r in totals]
    left = [0] * len(totals)
    for key in OUTCOMES:
        values = [r.counts[key] for r in totals]
        ax.barh(names, values, left=left, color=COLOURS[key], label=HEADINGS_VI[key])
        left = [a + b for a, b in zip(left, values, strict=True)]
    ax.set_title(f"Tình hình giải quyết hồ sơ — {period.label}")
    ax.set_xlabel("Số hồ sơ")
    ax.invert_yaxis()
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.22), ncol=2, frameon=False)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def rates(rows: list[Row], period: Period, path: Path) -> Path:
    total = next((r for r in rows if r.flow == ALL_FLOWS), None)
    fig, ax = plt.subplots(figsize=(8, 3.6), dpi=110)
    if total is not None:
        values = total.rates()
        xs = range(len(RATES))
        for i, formula in enumerate(("official", "corrected")):
            ys = [100 * (values[k][formula] or 0.0) for k in RATES]
            ax.bar([x + (i - 0.5) * 0.38 for x in xs], ys, width=0.38, label=HEADINGS_VI[formula])
            for x, y in zip(xs, ys, strict=True):
                ax.annotate(f"{y:.1f}%", (x + (i - 0.5) * 0.38, y), ha="center", va="bottom", fontsize=8)
        ax.set_xticks(list(xs), [HEADINGS_VI[k] for k in RATES])
    ax.set_ylim(0, 110)
    ax.set_ylabel("%")
    ax.set_title(f"Các tỷ lệ theo hai cách tính — {period.label}")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
