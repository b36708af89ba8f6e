"""Every fault of the catalogue says where it comes from: one of the five provincial reports, with
the Vietnamese words it relies on found verbatim in that report's text (line breaks aside: the
texts are wrapped), or, for a fault no report describes, why it is there anyway."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest
import yaml

from contracts.citations import REPORTS
from runtime.staffing import StaffingFile
from simulation.faults.catalogue import FAULTS_DIR, CatalogueFile
from simulation.workload.profiles import STAFFING_DIR

REPORT_TEXTS = Path(__file__).resolve().parents[2] / "data" / "reports"


def _flat(text: str) -> str:
    """NFC, markup asterisks gone, every run of whitespace one space: how a quote reads."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFC", text).replace("*", "")).strip()


def quoted(report: str, quote: str) -> bool:
    return _flat(quote) in _flat((REPORT_TEXTS / f"{report}.txt").read_text(encoding="utf-8"))


CATALOGUE = CatalogueFile.model_validate(yaml.safe_load((FAULTS_DIR / "catalogue.yaml").read_text(encoding="utf-8")))


@pytest.mark.parametrize("name", sorted(CATALOGUE.faults))
def test_each_fault_quotes_a_report_verbatim_or_says_why_none_describes_it(name: str) -> None:
    source = CATALOGUE.faults[name].source
    assert source is not None, f"{name}: no source"
    if source.engineering is not None:
        assert source.report is None
        return
    assert source.report in REPORTS
    assert source.quote is not None
    assert quoted(source.report, source.quote), f"{name}: not in {source.report}: {source.quote}"


def test_a_quote_that_is_not_in_its_report_is_caught() -> None:
    assert quoted("lam-dong-stp-2025", "trình ký số tại các xã, phường, thị trấn trên địa bàn tỉnh")
    assert not quoted("ha-tinh-stp-2024-06", "trình ký số tại các xã, phường, thị trấn trên địa bàn tỉnh")
    assert not quoted("lam-dong-stp-2025", "trình ký số tại các xã đều là phiên bản mới nhất")


def test_most_faults_come_from_the_reports() -> None:
    """The faults no report describes are named here: adding one is a decision, not a slip."""
    engineering = {n for n, f in CATALOGUE.faults.items() if f.source and f.source.engineering}
    assert engineering == {
        "duplicate-delivery",
        "out-of-order-delivery",
        "broker-kill",
        "monitor-replica-kill",
        # Asked for by name (a slow population database); the reports measure no response time.
        "population-db-slow",
        # Asked for by name (a postal leg with a small loss rate); the reports count post, not losses.
        "postal-item-lost",
    }, engineering
    assert len(engineering) * 4 < len(CATALOGUE.faults)


STAFFING = {
    f"{path.stem}: {d.chain}/{d.step}": d
    for path in sorted(STAFFING_DIR.glob("*.yaml"))
    for d in StaffingFile.model_validate(yaml.safe_load(path.read_text(encoding="utf-8"))).desks
}


@pytest.mark.parametrize("name", sorted(STAFFING))
def test_each_desk_of_the_shipped_staffing_quotes_a_report_verbatim(name: str) -> None:
    source = STAFFING[name].source
    assert source.report in REPORTS, f"{name}: staffing is the reports' figures, not ours"
    assert source.quote is not None
    assert quoted(source.report, source.quote), f"{name}: not in {source.report}: {source.quote}"
