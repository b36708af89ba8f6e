"""Where a figure or a fault of the simulated province comes from: one of the five provincial
reports (docs/domain.md, "Sources") and the Vietnamese words it relies on, verbatim; or, where
no report gives it, the reason it is there. Data files (the fault catalogue, staffing) carry one;
`tests/unit/simulation/test_citations.py` finds every quote in its report's text."""

from __future__ import annotations

from typing import Literal, get_args

from pydantic import Field, model_validator

from contracts.config import Strict

ReportId = Literal[
    "tuyen-quang-stp-2024-01",
    "tuyen-quang-stp-2025-12",
    "lam-dong-stp-2025",
    "tuyen-quang-ubnd-2022-11",
    "ha-tinh-stp-2024-06",
]
REPORTS: tuple[str, ...] = get_args(ReportId)


class SourceFile(Strict):
    """A report and the words quoted from it; or, for what no report describes (a delivery twice,
    a process killed, an officer's minutes per dossier), why it is there."""

    report: ReportId | None = None
    quote: str | None = Field(None, min_length=12)
    engineering: str | None = Field(None, min_length=12)

    @model_validator(mode="after")
    def _one_basis(self) -> SourceFile:
        quoted = self.report is not None and self.quote is not None
        if quoted == (self.engineering is not None) or (self.report is None) != (self.quote is None):
            raise ValueError("a report and its quote, or engineering: why no report describes it; not both")
        return self
