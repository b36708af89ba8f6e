"""The 2025 reorganisation in the workload and the report: from 1 July 2025 there are no districts
and Tuyên Quang includes the former Hà Giang. A dossier submitted in June 2025 in a Hà Giang
commune and finished in July is counted in June's report under its district and the old province,
and in July's, carried over, under the commune or ward it became, in the merged province."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from contracts import adminunits
from contracts.clock import VN_TZ
from contracts.envelope import new_event, parse_event
from contracts.event_types import DOSSIER_CLOSED, DOSSIER_SUBMITTED
from ops.report.periods import parse_period
from ops.report.source import facts_from_events
from ops.report.statistics import TOTAL, Row, default_level, in_units_of, tabulate
from simulation.workload.citizens import CitizenFactory

JUNE, JULY = parse_period("2025-06"), parse_period("2025-07")
HA_GIANG = next(u for u in adminunits.legacy("002") if adminunits.to_2025(u.commune_code) is not None)
BECAME = adminunits.to_2025(HA_GIANG.commune_code)
ELSEWHERE = next(u for u in adminunits.current("008") if BECAME is None or u.commune != BECAME.commune)


def at(month: int, day: int) -> datetime:
    return datetime(2025, month, day, 9, tzinfo=VN_TZ)


def events() -> list[object]:
    out = []
    for did, area, submitted, closed in [
        ("D-JUNE", HA_GIANG.as_area(), at(6, 20), at(7, 10)),
        ("D-JULY", ELSEWHERE.as_area(), at(7, 3), at(7, 8)),
    ]:
        payload = {"channel": "online", "procedures": [], "area": area, "due_at": at(7, 25).isoformat()}
        out.append(new_event(DOSSIER_SUBMITTED, "portal", submitted, dossier_id=did, chain="birth", payload=payload))
        closing = {"outcome": "completed"}
        out.append(new_event(DOSSIER_CLOSED, "portal", closed, dossier_id=did, chain="birth", payload=closing))
    return [parse_event(e.to_json()) for e in out]  # type: ignore[attr-defined]


def rows_of(period: object, by: str | None = None) -> list[Row]:
    facts = in_units_of(facts_from_events(events()), period)  # type: ignore[arg-type]
    return tabulate(facts, period, by or default_level(period), None)  # type: ignore[arg-type]


def test_the_dataset_knows_the_merger() -> None:
    assert adminunits.predecessors("008") == ("002", "008")  # Hà Giang and Tuyên Quang
    assert adminunits.province_name("008") == "Tỉnh Tuyên Quang"
    assert BECAME is not None
    assert BECAME.province_code == "008"
    assert BECAME.district is None


def test_june_counts_it_under_its_district_in_ha_giang() -> None:
    assert default_level(JUNE) == "district"
    (row,) = [r for r in rows_of(JUNE) if r.flow == "birth" and r.area != TOTAL]
    assert row.area == HA_GIANG.district
    assert (row.counts["received"], row.counts["in_progress"], row.counts["resolved"]) == (1, 1, 0)
    by_province = [r for r in rows_of(JUNE, "province") if r.flow == "birth" and r.area != TOTAL]
    assert [r.area for r in by_province] == ["Tỉnh Hà Giang"]


def test_july_counts_it_carried_over_under_the_commune_it_became_in_the_merged_province() -> None:
    assert BECAME is not None
    assert default_level(JULY) == "commune"
    rows = {r.area: r for r in rows_of(JULY) if r.flow == "birth" and r.area != TOTAL}
    became = rows[BECAME.commune]
    assert (became.counts["carried_over"], became.counts["resolved"], became.counts["received"]) == (1, 1, 0)
    july = rows[ELSEWHERE.commune]
    assert (july.counts["received"], july.counts["resolved"]) == (1, 1)
    by_province = [r for r in rows_of(JULY, "province") if r.flow == "birth" and r.area != TOTAL]
    assert [(r.area, r.counts["to_resolve"]) for r in by_province] == [("Tỉnh Tuyên Quang", 2)]
    with pytest.raises(ValueError, match="no districts from 1 July 2025"):
        rows_of(JULY, "district")


def test_the_workload_draws_old_units_before_the_reform_and_new_ones_after() -> None:
    factory = CitizenFactory("008", seed=3)
    before = [factory.area(date(2025, 6, 30)) for _ in range(200)]
    after = [factory.area(date(2025, 7, 1)) for _ in range(200)]
    assert {a["province"] for a in before} == {"008"}  # old Tuyên Quang only, not Hà Giang yet
    assert all("district" in a for a in before)
    assert {a["province"] for a in after} == {"008"}
    assert not any("district" in a for a in after)
    assert {a["commune_code"] for a in after} <= {u.commune_code for u in adminunits.current("008")}


def test_a_province_before_the_reform_draws_only_its_own_communes() -> None:
    """Regression: a profile of code 068 for early 2025 drew from the merged province's
    predecessors, so most of its dossiers landed in Bình Thuận and Đắk Nông."""
    factory = CitizenFactory("068", seed=5)
    drawn = {factory.area(date(2025, 2, 3))["province"] for _ in range(300)}
    assert drawn == {"068"}
    assert set(adminunits.predecessors("068")) > {"068"}  # it did absorb others in July
