"""Officers and their queues (runtime/staffing.py, runtime/officers.py): who takes up a dossier and
when, first come first served, inside the officers' hours; the staffing file refused naming the
file and the key; and a desk's day hour by hour."""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest

from contracts.calendar import WorkingCalendar
from contracts.chains import load_chains
from contracts.clock import VN_TZ
from contracts.config import ConfigError
from runtime.officers import Entry, MemoryOfficerStore, Pending, assign, by_hour, outline
from runtime.staffing import PROVINCE_UNIT, Desk, parse, take_up

CAL = WorkingCalendar()
MON = datetime(2024, 5, 13, 8, 0, tzinfo=VN_TZ)  # a Monday, a working day
CHAINS = load_chains()


def desk(**changes: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "chain": "lltp",
        "step": "intake",
        "label_vi": "Cán bộ trực một cửa",
        "level": "province",
        "officers": 1,
        "service_minutes": [2, 3, 4],
        "source": {"engineering": "a desk for this test, no report's"},
    }
    return {**doc, **changes}


def test_the_officer_free_soonest_takes_the_dossier_up_and_is_busy_for_its_service() -> None:
    busy_till_nine = [(MON, MON + timedelta(hours=1))]
    busy_till_half_past = [(MON, MON + timedelta(minutes=30))]
    taken = take_up([busy_till_nine, busy_till_half_past], MON, 0.5, CAL)
    assert (taken.officer, taken.at, taken.released_at) == (1, MON + timedelta(minutes=30), MON + timedelta(hours=1))
    # An officer with nothing yet starts at once; on a tie the lower number takes it.
    taken = take_up([[], []], MON, 0.25, CAL)
    assert (taken.officer, taken.at) == (0, MON)


def test_a_dossier_read_late_takes_the_first_free_moment_after_it_was_ready_not_a_place_behind() -> None:
    """Received at 14:50 but read after one received at 15:05, which the officer takes up the
    next morning (after 15:00): the officer is free in between, and takes the 14:50 one at once."""
    tuesday = datetime(2024, 5, 14, 7, 30, tzinfo=VN_TZ)
    promised = [(tuesday, tuesday + timedelta(minutes=2))]
    at = datetime(2024, 5, 13, 14, 50, tzinfo=VN_TZ)
    assert take_up([promised], at, 2 / 60, CAL).at == at
    # A gap too short for the work is passed over.
    tight = [(MON + timedelta(minutes=10), MON + timedelta(hours=1))]
    assert take_up([tight], MON, 0.25, CAL).at == MON + timedelta(hours=1)


def test_work_left_at_the_close_goes_on_next_working_morning_and_a_shift_bounds_the_day() -> None:
    friday_evening = datetime(2024, 5, 17, 16, 45, tzinfo=VN_TZ)
    taken = take_up([[(friday_evening - timedelta(hours=1), friday_evening)]], friday_evening, 0.5, CAL)
    assert taken.released_at == datetime(2024, 5, 20, 7, 45, tzinfo=VN_TZ)  # Monday, 15 minutes in
    morning_only = (time(7, 30), time(11, 30))
    taken = take_up([[]], datetime(2024, 5, 13, 12, 0, tzinfo=VN_TZ), 1.0, CAL, morning_only)
    assert taken.at == datetime(2024, 5, 14, 7, 30, tzinfo=VN_TZ)
    assert taken.released_at == datetime(2024, 5, 14, 8, 30, tzinfo=VN_TZ)


async def test_a_batch_is_taken_up_oldest_receipt_first_whatever_order_it_was_read_in() -> None:
    d = Desk("lltp", "intake", "Một cửa", "province", 1, (time(7, 30), time(17, 0)), (6, 6, 6))
    store = MemoryOfficerStore()
    later = Pending("e-2", "D-2", d, PROVINCE_UNIT, MON + timedelta(minutes=1), random.Random(1))
    first = Pending("e-1", "D-1", d, PROVINCE_UNIT, MON, random.Random(2))
    taken = await assign(store, None, [later, first], CAL)
    assert taken["e-1"].at == MON
    assert taken["e-2"].at == MON + timedelta(minutes=6)
    # The next batch queues behind them: the officer is busy until 08:12.
    third = Pending("e-3", "D-3", d, PROVINCE_UNIT, MON + timedelta(minutes=2), random.Random(3))
    assert (await assign(store, None, [third], CAL))["e-3"].at == MON + timedelta(minutes=12)
    # The same handoff planned again (redelivered) takes nobody's time twice.
    await assign(store, None, [third], CAL)
    assert len(await store.register(None)) == 3


async def test_a_dossier_read_late_goes_ahead_of_those_received_after_it_that_no_officer_took_up() -> None:
    """Regression: the Tuyên Quang period's table came out one dossier off in a CI run (230 by post
    where the report says 231). The judicial-records desk took its dossiers up in the order its
    partitions were read, and at the run's speed one partition was 13 sim hours behind another: a
    request waiting since the evening was taken up after one that came the next morning."""
    d = Desk("lltp", "intake", "Một cửa", "province", 1, (time(7, 30), time(17, 0)), (30, 30, 30))
    store = MemoryOfficerStore()
    tuesday = MON + timedelta(days=1, hours=-0.5)  # 07:30, the office opens
    morning = [
        Pending(f"e-{i}", f"D-{i}", d, PROVINCE_UNIT, tuesday + timedelta(minutes=10 * i), random.Random(i))
        for i in (1, 2, 3)
    ]
    first = await assign(store, None, morning, CAL)
    assert [first[f"e-{i}"].at for i in (1, 2, 3)] == [tuesday + timedelta(minutes=m) for m in (10, 40, 70)]
    asked: list[list[str]] = []

    async def requeue(lines: list[Entry]) -> list[Pending]:
        asked.append([e.dossier_id for e in lines])
        # D-2's work has started elsewhere in the loop meanwhile: it stays where it is.
        return [p for p in morning if p.event_id in {e.event_id for e in lines} and p.dossier_id != "D-2"]

    evening = Pending("e-0", "D-0", d, PROVINCE_UNIT, MON + timedelta(hours=10), random.Random(9))  # Monday 18:00
    now = tuesday + timedelta(minutes=20)  # D-1 has been taken up, the others wait
    taken = await assign(store, None, [evening], CAL, requeue, now)
    assert asked == [["D-2", "D-3"]]
    # D-1 runs 07:40–08:10 and D-2 08:10–08:40 (neither may move); the evening's request takes
    # D-3's place at 08:40, and D-3 goes on behind it.
    assert taken["e-0"].at == tuesday + timedelta(minutes=70)
    assert taken["e-3"].at == tuesday + timedelta(minutes=100)
    register = {e.dossier_id: e.taken_at for e in await store.register(None)}
    assert register == {
        "D-1": tuesday + timedelta(minutes=10),
        "D-2": tuesday + timedelta(minutes=40),
        "D-0": tuesday + timedelta(minutes=70),
        "D-3": tuesday + timedelta(minutes=100),
    }
    # Without a way to move what waits, the late one queues at the end, as before.
    alone = MemoryOfficerStore()
    await assign(alone, None, morning, CAL)
    assert (await assign(alone, None, [evening], CAL))["e-0"].at == tuesday + timedelta(minutes=100)


async def test_each_commune_has_its_own_officers() -> None:
    d = Desk("birth", "register_birth", "Tư pháp xã", "commune", 1, (time(7, 30), time(17, 0)), (60, 60, 60))
    store = MemoryOfficerStore()
    a = Pending("e-1", "D-1", d, d.unit_of({"commune": "18073", "district": "436"}), MON, random.Random(1))
    b = Pending("e-2", "D-2", d, d.unit_of({"commune": "18076", "district": "436"}), MON, random.Random(1))
    taken = await assign(store, None, [a, b], CAL)
    assert taken["e-1"].at == taken["e-2"].at == MON


def test_a_staffing_file_with_an_unknown_key_or_step_is_refused_naming_the_file_and_the_key() -> None:
    source = Path("staffing/mine.yaml")
    with pytest.raises(ConfigError, match=r"staffing/mine\.yaml: desks\.0\.clerks"):
        parse({"description": "Tỉnh thử", "desks": [desk(clerks=2)]}, CHAINS, source)
    with pytest.raises(ConfigError, match=r"desks\.0\.step: chain lltp has no step 'intak'"):
        parse({"description": "Tỉnh thử", "desks": [desk(step="intak")]}, CHAINS, source)
    with pytest.raises(ConfigError, match=r"desks\.0\.service_minutes"):
        parse({"description": "Tỉnh thử", "desks": [desk(service_minutes=[5, 3, 4])]}, CHAINS, source)
    with pytest.raises(ConfigError, match=r"desks\.1: a second desk for lltp/intake"):
        parse({"description": "Tỉnh thử", "desks": [desk(), desk()]}, CHAINS, source)
    with pytest.raises(ConfigError, match=r"desks\.0: .*hours: a shift inside the office day"):
        parse({"description": "Tỉnh thử", "desks": [desk(hours=["06:00", "12:00"])]}, CHAINS, source)
    staffing = parse({"description": "Tỉnh thử", "desks": [desk(officers=2)]}, CHAINS, source)
    assert staffing.of_agency("motcua", CHAINS).desk("lltp", "intake") is not None
    assert staffing.of_agency("lltp", CHAINS).desks == ()


def test_a_desk_hour_by_hour_counts_arrivals_take_ups_what_still_waits_and_the_wait() -> None:
    def line(n: int, received_min: int, taken_min: int) -> Entry:
        at = MON + timedelta(minutes=received_min)
        return Entry(f"e-{n}", f"D-{n}", "lltp/intake", PROVINCE_UNIT, 0, at, MON + timedelta(minutes=taken_min), at)

    # Three arrive between 08:00 and 08:20; one is taken up at once, one at 08:50, one at 09:30.
    rows = by_hour([line(1, 0, 0), line(2, 10, 50), line(3, 20, 90)], CAL.in_office_hours)["lltp/intake"]
    assert [(r["received"], r["taken_up"], r["waiting"]) for r in rows] == [(3, 2, 1), (0, 1, 0)]
    assert rows[0]["wait_mean_min"] == 20.0
    assert rows[0]["wait_max_min"] == 40.0
    assert rows[1]["wait_max_min"] == 70.0
    assert outline(rows) == {
        "peak_waiting": 1,
        "peak_at": rows[0]["hour"],
        "drained_at": rows[1]["hour"],
        "wait_max_min": 70.0,
    }


def test_a_queue_that_never_drained_says_so() -> None:
    rows = [{"hour": "08", "waiting": 3, "wait_max_min": 5.0}, {"hour": "09", "waiting": 4, "wait_max_min": None}]
    assert outline(rows)["drained_at"] is None
    assert outline(rows)["peak_waiting"] == 4
