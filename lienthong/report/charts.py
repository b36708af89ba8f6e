"""The report's charts as PNG (matplotlib, no display needed): how each flow's dossiers ended the
period, and each rate under the official and the corrected formula."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only; never a window

import matplotlib.pyplot as plt
from matplotlib.patches import Patch

from lienthong.report.periods import Period
from lienthong.report.statistics import ALL_FLOWS, FLOW_TITLES, HEADINGS_VI, RATES, TOTAL, Row

OUTCOMES = ("resolved_on_time", "resolved_late", "in_progress", "overdue")
FORMULAS = ("official", "corrected")
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
    ax.set_title(f"Tình hình giải quyết hồ sơ — {period.name_vi or period.title_vi}")
    ax.set_xlabel("Số hồ sơ")
    ax.invert_yaxis()
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.22), ncol=2, frameon=False)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


NOT_APPLICABLE = "không áp dụng"
"""Shown where a rate is left out on purpose (nothing to divide by, or a formula that means nothing
for the total): never drawn as 0 %."""


def _rate_bars(ax: Any, values: dict[str, dict[str, float | None]]) -> None:
    """Official and corrected bars side by side per rate; a rate that is None is no bar, labelled
    "không áp dụng" where it would stand."""
    xs = range(len(RATES))
    for i, formula in enumerate(("official", "corrected")):
        offset = (i - 0.5) * 0.38
        for x, key in zip(xs, RATES, strict=True):
            v = values[key][formula]
            if v is None:
                ax.annotate(NOT_APPLICABLE, (x + offset, 1), ha="center", va="bottom", fontsize=7, rotation=90)
                continue
            ax.bar(x + offset, 100 * v, width=0.38, color=f"C{i}", label=HEADINGS_VI[formula] if x == 0 else None)
            ax.annotate(f"{100 * v:.1f}%", (x + offset, 100 * v), ha="center", va="bottom", fontsize=8)
    ax.set_xticks(list(xs), [HEADINGS_VI[k] for k in RATES], fontsize=8)
    ax.set_ylim(0, 115)
    ax.set_ylabel("%")


def rates(rows: list[Row], period: Period, path: Path) -> Path:
    total = next((r for r in rows if r.flow == ALL_FLOWS), None)
    fig, ax = plt.subplots(figsize=(8, 3.6), dpi=110)
    if total is not None:
        _rate_bars(ax, total.rates())
    ax.set_title(f"Các tỷ lệ theo hai cách tính — {period.name_vi or period.title_vi}")
    ax.legend(fontsize=8, handles=[Patch(color=f"C{i}", label=HEADINGS_VI[f]) for i, f in enumerate(FORMULAS)])
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def flow_rates(rows: list[Row], period: Period, path: Path) -> Path:
    """The same rates per flow (LLTP's post rate among them), one panel per flow."""
    totals = _totals(rows)
    fig, axes = plt.subplots(len(totals) or 1, 1, figsize=(8, 3.0 * max(1, len(totals))), dpi=110, squeeze=False)
    for ax, row in zip(axes[:, 0], totals, strict=False):
        _rate_bars(ax, row.rates())
        ax.set_title(f"{FLOW_TITLES.get(row.flow, row.flow)} — {period.name_vi or period.title_vi}", fontsize=10)
    axes[0, 0].legend(fontsize=8, handles=[Patch(color=f"C{i}", label=HEADINGS_VI[f]) for i, f in enumerate(FORMULAS)])
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
