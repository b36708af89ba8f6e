"""Shares as quotas (simulation/workload/quotas.py) and dossiers carried over into a period
(simulation/workload/arrivals.py): the counts a report takes come out exact."""

from __future__ import annotations

import math
from datetime import date, time
from fractions import Fraction

import pytest

from contracts.calendar import WorkingCalendar
from contracts.clock import VN_TZ
from contracts.config import ConfigError
from simulation.workload import profiles
from simulation.workload.arrivals import carried
from simulation.workload.plan import plan
from simulation.workload.quotas import Quotas


@pytest.mark.parametrize("share", [0.5310344827586207, 0.2988505747126437, 0.05, 1.0, 0.0, 1 / 3])
def test_every_first_run_of_dossiers_holds_its_share_to_the_dossier(share: float) -> None:
    q = Quotas()
    given = 0
    p = Fraction(str(share)).limit_denominator(10_000)
    for n in range(1, 1001):
        given += q.take("lltp", "post", share)
        assert given == math.floor(n * p), (n, given)
    assert Quotas().take("birth", "post", share) == (p == 1)  # each flow counts on its own


def test_tuyen_quangs_first_435_requests_hold_231_by_post_and_130_exempt() -> None:
    p = profiles.load("tuyen-quang-2024-01-lltp")
    planned = plan(p, 20240101)
    first = planned[:435]
    assert sum(x.doc["return_by_post"] for x in first) == 231
    assert sum(not x.doc["fee"]["bearing"] for x in first) == 130
    assert all(x.doc["fee"]["paid_online"] for x in first if x.doc["fee"]["bearing"])


def test_dossiers_carried_over_arrive_after_15_00_on_the_last_working_day_before_the_period() -> None:
    p = profiles.load("tuyen-quang-2024-01-lltp")
    assert p.run_start == date(2023, 12, 13)  # a Wednesday; the period opens on Thursday 14/12
    arrivals = carried(p)
    assert len(arrivals) == 233
    assert len({a.at for a in arrivals}) == 233
    local = [a.at.astimezone(VN_TZ) for a in arrivals]
    assert all(t.date() == date(2023, 12, 13) and time(15, 0) < t.time() < time(17, 0) for t in local)
    # Counted from the next working day (after 15:00), so no office takes one up before the period.
    cal = WorkingCalendar()
    assert {cal.counting_start(t) for t in local} == {date(2023, 12, 14)}
    planned = plan(p, 20240101)
    assert len(planned) == 233 + 491
    assert [x.at for x in planned[:233]] == sorted(a.at for a in arrivals)


def test_over_a_weekend_the_carried_over_dossiers_come_on_friday() -> None:
    doc = {"province": "008", "period": {"start": "2024-01-15"}, "volumes": {"lltp": 5}, "carried_over": {"lltp": 3}}
    assert profiles.parse(doc, "x").run_start == date(2024, 1, 12)
    doc["carried_over"] = {"lltp": 0}
    assert profiles.parse(doc, "x").run_start == date(2024, 1, 15)


def test_carried_over_dossiers_of_an_unknown_flow_are_refused_naming_the_key() -> None:
    doc = {"province": "008", "period": {"start": "2024-01-15"}, "volumes": {"lltp": 5}, "carried_over": {"lltpp": 3}}
    with pytest.raises(ConfigError, match=r"^profile x: carried_over: .*unknown chains \['lltpp'\]"):
        profiles.parse(doc, "x")


def test_a_share_of_registrations_is_standalone_and_goes_no_further_than_civil_status() -> None:
    doc = {
        "province": "042",
        "period": {"start": "2024-01-01", "days": 7},
        "volumes": {"birth": 100, "death": 50},
        "shares": {"birth": {"linked": 0.9}, "death": {"linked": 0.6}},
        "quotas": True,
    }
    planned = plan(profiles.parse(doc, "x"), 5)
    births = [p.doc for p in planned if p.chain == "birth"]
    deaths = [p.doc for p in planned if p.chain == "death"]
    assert sum(d.get("linked") is False for d in births) == 10
    assert sum(d.get("linked") is False for d in deaths) == 20
    assert all(d["procedures"] == ["death_registration"] for d in deaths if d.get("linked") is False)


def test_hà_tĩnhs_registrations_are_linked_at_its_reported_shares() -> None:
    p = profiles.load("ha-tinh-2024-01-registrations")
    assert (p.share("birth").linked, p.share("death").linked) == (0.9, 0.6)
    # As quotas, the linked ones are exactly the month's linked chains of ha-tinh-2024-01.
    linked = profiles.load("ha-tinh-2024-01")
    planned = [x for x in plan(p, 20240101) if not x.copy]
    for chain in ("birth", "death"):
        count = sum(x.chain == chain and x.doc.get("linked") is not False for x in planned)
        assert count == linked.volumes[chain], chain


def test_hà_tĩnhs_online_payments_go_through_its_own_portal() -> None:
    planned = [p.doc for p in plan(profiles.load("ha-tinh-2024-01"), 20240101) if p.chain == "lltp" and not p.copy]
    paid = [d for d in planned if d["fee"].get("paid_online")]
    assert paid
    assert {d["fee"]["paid_on"] for d in paid} == {"provincial"}
    assert all("paid_on" not in d["fee"] for d in planned if not d["fee"].get("paid_online"))
