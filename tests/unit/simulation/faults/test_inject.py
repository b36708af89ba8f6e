"""The injector's decisions: a pure function of (fault, key, time), the same in every process."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from contracts.clock import VN_TZ
from simulation.faults.catalogue import Fault, Window
from simulation.faults.inject import DUPLICATE_AFTER, REJECT_RETRY, TRANSFER_RETRY, Injector, Period

START = datetime(2024, 1, 1, tzinfo=VN_TZ)
PERIOD = Period(START, 10)
T = START + timedelta(days=1, hours=9)


def fault(name: str, target: dict[str, str], effect: str, rate: float | None = 1.0, window=None, **params) -> Fault:  # type: ignore[no-untyped-def]
    return Fault(name, "cited", target, effect, params, None if window else rate, Window(**window) if window else None)


def ids(n: int) -> list[str]:
    return [str(uuid.UUID(int=i)) for i in range(n)]


def test_a_rate_fault_hits_its_share_and_the_same_ids_in_every_process() -> None:
    f = fault("drop", {"link": "hotich->cutru"}, "drop", rate=0.1)
    a = Injector((f,), PERIOD)
    b = Injector((f,), PERIOD)
    hit = [i for i in ids(5000) if a.handoff("hotich", "cutru", i, T)]
    assert 400 < len(hit) < 600
    assert hit == [i for i in ids(5000) if b.handoff("hotich", "cutru", i, T)]
    assert not any(a.handoff("hotich", "bhxh", i, T) for i in ids(500))  # another link is untouched


def test_a_dropped_handoff_is_sent_but_never_delivered() -> None:
    plan = Injector((fault("d", {"link": "portal->motcua"}, "drop"),), PERIOD).handoff("portal", "motcua", "e", T)
    assert plan is not None
    assert plan.work == ()
    assert plan.sent_at == T
    assert plan.errors == ()
    assert plan.hits[0].subject == "link:portal->motcua"
    assert plan.hits[0].until is None


def test_a_late_handoff_arrives_within_its_delay() -> None:
    f = fault("late", {"link": "hotich->cutru"}, "delay", delay_days=[1, 2])
    plan = Injector((f,), PERIOD).handoff("hotich", "cutru", "e", T)
    assert plan is not None
    assert plan.work is not None
    assert T + timedelta(days=1) <= plan.work[0] <= T + timedelta(days=2)
    assert plan.hits[0].until == plan.work[0]


def test_a_duplicated_handoff_is_delivered_twice_with_its_lifecycle_event() -> None:
    plan = Injector((fault("dup", {"link": "motcua->hotich"}, "duplicate"),), PERIOD).handoff(
        "motcua", "hotich", "e", T
    )
    assert plan is not None
    assert plan.work == (T, T + DUPLICATE_AFTER) == plan.lifecycle


def test_transfer_errors_are_retried_then_the_handoff_goes_through() -> None:
    f = fault("ngsp", {"link": "motcua->lltp"}, "transfer_error", retries=[2, 8])
    plan = Injector((f,), PERIOD).handoff("motcua", "lltp", "e", T)
    assert plan is not None
    assert 2 <= len(plan.errors) <= 8
    assert [t for t, _ in plan.errors] == [T + k * TRANSFER_RETRY for k in range(len(plan.errors))]
    assert plan.sent_at == T + len(plan.errors) * TRANSFER_RETRY
    assert plan.work is None  # delivered when it is finally sent


def test_an_overloaded_link_refuses_until_its_window_ends() -> None:
    f = fault("disk", {"link": "motcua->hotich"}, "reject", window={"at": 0.1, "days": 0.5})
    inj = Injector((f,), PERIOD)
    opens, ends = inj.window_of(f)
    assert inj.handoff("motcua", "hotich", "e", opens - timedelta(seconds=1)) is None
    plan = inj.handoff("motcua", "hotich", "e", opens)
    assert plan is not None
    assert len(plan.errors) == int((ends - opens) / REJECT_RETRY) + ((ends - opens) % REJECT_RETRY > timedelta(0))
    assert plan.sent_at >= ends
    assert plan.sent_at - ends < REJECT_RETRY


def test_an_erroring_agency_fails_transfers_into_it_from_any_sender() -> None:
    f = fault("err", {"agency": "hotich"}, "error", retry_hours=[1, 4])
    plan = Injector((f,), PERIOD).handoff("motcua", "hotich", "e", T)
    assert plan is not None
    assert len(plan.errors) == 1
    assert T + timedelta(hours=1) <= plan.sent_at <= T + timedelta(hours=4)


def test_outages_and_payment_failures_hold_only_inside_their_window() -> None:
    outage = fault("down", {"agency": "portal"}, "outage", window={"at": 0.4, "days": 1})
    inj = Injector((outage,), PERIOD)
    opens, ends = inj.window_of(outage)
    assert opens == START + timedelta(days=4)
    assert inj.agency_fault("portal", "outage", opens) is outage
    assert inj.agency_fault("portal", "outage", ends) is None
    assert inj.agency_fault("motcua", "outage", opens) is None


def test_step_faults_slow_or_hold_a_step() -> None:
    slow = fault("slow", {"agency": "hotich"}, "slow", extra_hours=[4, 20])
    stall = fault("stall", {"agency": "lltp"}, "stall", state="awaiting_issuance", extra_days=[3, 10])
    inj = Injector((slow, stall), PERIOD)
    s = inj.step("hotich", ("awaiting_signature",), "e", T)
    assert s is not None
    assert 4 <= s.extra_hours <= 20
    assert s.hold is None
    h = inj.step("lltp", ("awaiting_signature", "awaiting_issuance"), "e", T)
    assert h is not None
    assert h.hold is not None
    assert h.hold.state == "awaiting_issuance"
    assert inj.step("cutru", (), "e", T) is None
    assert inj.step("hotich", (), "e", T) is not None  # slow needs no state
