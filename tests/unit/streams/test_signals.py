"""Stream detectors: a failing link opens one incident and closes when transfers succeed again;
a silent agency is reported once; a re-delivered event is a duplicate; identity refusals are
data-quality incidents."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.clock import VN_TZ
from contracts.envelope import Event, new_event
from streams.signals import AGENCY, DATA_QUALITY, DUPLICATE, LINK, AgencySilence, Duplicates, LinkHealth, data_quality

T0 = datetime(2024, 5, 13, 9, tzinfo=VN_TZ)


def ev(type_: str, agency: str, minutes: float, payload: dict, dossier: str | None = "d-1") -> Event:  # type: ignore[type-arg]
    return new_event(type_, agency, T0 + timedelta(minutes=minutes), dossier_id=dossier, chain="lltp", payload=payload)


def received(minutes: float) -> Event:
    return ev(
        "handoff.received", "lltp", minutes, {"from": "motcua", "sent_event_id": "6f1c3b1e-1111-4111-8111-111111111111"}
    )


def failed(minutes: float) -> Event:
    return ev("link.error", "motcua", minutes, {"to": "lltp", "error": "NGSP: 502 Bad Gateway"})


def judged(h: LinkHealth, events: list[Event], until_minutes: float) -> list[tuple[datetime, bool]]:
    for e in events:
        h.observe(e)
    return [(i.at, i.opened) for i in h.tick(T0 + timedelta(minutes=until_minutes))]


def test_a_failing_integration_bus_opens_one_link_incident_and_closes_when_it_recovers() -> None:
    h = LinkHealth(window=timedelta(hours=1), threshold=0.2, min_samples=5)
    before = [received(0), received(1), failed(2), failed(3), failed(4), failed(5)]
    assert judged(h, before, 3) == []
    opened = h.tick(T0 + timedelta(minutes=6))
    assert [(i.kind, i.subject, i.at, i.opened) for i in opened] == [
        (LINK, "link:motcua->lltp", T0 + timedelta(minutes=4), True)
    ]
    # More failures: still one incident.
    assert judged(h, [failed(6 + k) for k in range(5)], 12) == []
    # An hour later the bus works again: the window empties of failures, the incident closes.
    assert judged(h, [received(75 + k) for k in range(10)], 90) == [(T0 + timedelta(minutes=70), False)]


def test_a_few_errors_among_many_transfers_are_not_an_incident() -> None:
    h = LinkHealth(threshold=0.2, min_samples=5)
    assert judged(h, [received(k) for k in range(20)] + [failed(20)], 30) == []


@settings(max_examples=50, deadline=None)
@given(st.permutations(range(12)))
def test_a_link_incident_opens_where_the_window_failed_however_partitions_were_read(order: list[int]) -> None:
    """Retries of several dossiers, read in any order (each partition at its own pace): the
    incident opens at the third failure within the hour, as if read in time order."""
    failures = [failed(m) for m in (0, 20, 21, 40, 41, 46, 60, 61, 66, 80, 81, 86)]
    h = LinkHealth(window=timedelta(hours=1), threshold=0.2, min_samples=3)
    for k in order:
        h.observe(failures[k])
    assert [(i.at, i.opened) for i in h.tick(T0 + timedelta(minutes=200))] == [
        (T0 + timedelta(minutes=21), True),
        (T0 + timedelta(minutes=146), False),
    ]


def test_a_silent_agency_is_reported_once_and_cleared_by_its_next_heartbeat() -> None:
    s = AgencySilence(limit=timedelta(minutes=10))
    beat = ev("agency.heartbeat", "cutru", 0, {"seq": 1}, dossier=None)
    s.observe(beat)
    assert s.tick(T0 + timedelta(minutes=5)) == []
    first = s.tick(T0 + timedelta(minutes=11))
    assert [(i.kind, i.subject, i.at, i.opened) for i in first] == [
        (AGENCY, "agency:cutru", T0 + timedelta(minutes=10), True)
    ]
    assert s.tick(T0 + timedelta(minutes=30)) == []
    s.observe(replace(beat, occurred_at=T0 + timedelta(minutes=31)))
    back = s.tick(T0 + timedelta(minutes=32))
    assert [(i.at, i.opened) for i in back] == [(T0 + timedelta(minutes=31), False)]


def test_heartbeats_read_ahead_of_the_judged_time_do_not_hide_a_silence() -> None:
    """The monitor reads heartbeats up to the watermark's lag before it judges them: a beat
    stamped after the outage must not cover the outage itself."""
    s = AgencySilence(limit=timedelta(minutes=10))
    s.observe(ev("agency.heartbeat", "portal", 0, {"seq": 1}, dossier=None))
    s.observe(ev("agency.heartbeat", "portal", 60, {"seq": 2}, dossier=None))  # after an hour's outage
    assert s.tick(T0 + timedelta(minutes=5)) == []
    opened = s.tick(T0 + timedelta(minutes=20))
    # Noticed at the judged time 20, opened where the silence began to count: 0 + limit.
    assert [(i.subject, i.at, i.opened) for i in opened] == [("agency:portal", T0 + timedelta(minutes=10), True)]
    closed = s.tick(T0 + timedelta(minutes=61))
    assert [(i.at, i.opened) for i in closed] == [(T0 + timedelta(minutes=60), False)]


def test_a_silence_inside_one_judged_step_is_reported_where_it_began_to_count() -> None:
    s = AgencySilence(limit=timedelta(minutes=10))
    for minutes in (0, 30, 31):
        s.observe(ev("agency.heartbeat", "hotich", minutes, {"seq": minutes}, dossier=None))
    assert s.tick(T0) == []
    found = s.tick(T0 + timedelta(minutes=32))
    assert [(i.at, i.opened) for i in found] == [
        (T0 + timedelta(minutes=10), True),
        (T0 + timedelta(minutes=30), False),
    ]


def test_heartbeats_the_broker_lost_are_not_an_agency_silence_but_a_silence_already_open_stays() -> None:
    """Regression: the embedded broker's crash lost the heartbeats the monitor had not read yet
    (13.7 sim hours of them at 60,000×), and hotich, motcua and bhxh were reported silent. The gap
    up to the next beat read after the loss is not judged; a silence open before it still closes."""
    s = AgencySilence(limit=timedelta(minutes=10))
    s.observe(ev("agency.heartbeat", "hotich", 0, {"seq": 1}, dossier=None))
    assert s.tick(T0 + timedelta(minutes=1)) == []
    s.interrupted({"hotich"})  # the log with the beats of minutes 2..29 is gone
    assert s.tick(T0 + timedelta(minutes=25)) == []
    s.observe(ev("agency.heartbeat", "hotich", 30, {"seq": 0}, dossier=None))
    assert s.tick(T0 + timedelta(minutes=31)) == []
    assert [(i.at, i.opened) for i in s.tick(T0 + timedelta(minutes=45))] == [(T0 + timedelta(minutes=40), True)]

    s.interrupted({"hotich"})  # silent already when the broker lost the log
    s.observe(ev("agency.heartbeat", "hotich", 60, {"seq": 1}, dossier=None))
    assert [(i.at, i.opened) for i in s.tick(T0 + timedelta(minutes=61))] == [(T0 + timedelta(minutes=60), False)]


def test_beats_read_before_a_lost_log_and_not_yet_judged_do_not_use_up_its_pardon() -> None:
    """Regression: the pardon for a lost log went to the first beat judged after the loss, which
    was one read before it and still ahead of the judged time; the gap across the loss, from the
    newest of those to the first beat of the new log, was then judged a silence (false agency
    silences after crashes of the embedded broker at 16 times a month's speed)."""
    s = AgencySilence(limit=timedelta(minutes=10))
    s.observe(ev("agency.heartbeat", "cutru", 0, {"seq": 0}, dossier=None))
    assert s.tick(T0) == []
    for minutes in (5, 9):  # read, not judged yet
        s.observe(ev("agency.heartbeat", "cutru", minutes, {"seq": minutes}, dossier=None))
    s.interrupted({"cutru"})  # the beats of minutes 10..39 are gone with the log
    s.observe(ev("agency.heartbeat", "cutru", 40, {"seq": 0}, dossier=None))
    assert s.tick(T0 + timedelta(minutes=41)) == []
    # A real gap before the loss is still judged: the beats before it are judged as usual.
    t = AgencySilence(limit=timedelta(minutes=10))
    t.observe(ev("agency.heartbeat", "cutru", 0, {"seq": 0}, dossier=None))
    assert t.tick(T0) == []
    t.observe(ev("agency.heartbeat", "cutru", 15, {"seq": 1}, dossier=None))
    t.interrupted({"cutru"})
    t.observe(ev("agency.heartbeat", "cutru", 40, {"seq": 0}, dossier=None))
    assert [(i.at, i.opened) for i in t.tick(T0 + timedelta(minutes=41))] == [
        (T0 + timedelta(minutes=10), True),
        (T0 + timedelta(minutes=15), False),
    ]


def test_the_same_event_twice_is_a_duplicate_and_a_new_event_is_not() -> None:
    d = Duplicates()
    e = received(0)
    assert d.observe(e) is None
    dup = d.observe(e)
    assert dup is not None
    assert (dup.kind, dup.subject) == (DUPLICATE, "d-1")
    assert d.observe(received(1)) is None
    d.forget("d-1")
    assert d.observe(e) is None


def test_identity_refusals_are_data_quality_incidents() -> None:
    bad = ev("step.rejected", "lltp", 0, {"reason": "not in the population database", "code": "identity_mismatch"})
    other = ev("step.rejected", "bhxh", 0, {"reason": "not insured", "code": "not_eligible"})
    incident = data_quality(bad)
    assert incident is not None
    assert incident.kind == DATA_QUALITY
    assert data_quality(other) is None


def test_failures_published_again_after_a_broker_crash_open_the_incident_where_its_window_failed() -> None:
    """Regression: a faults run's broker crash had the senders publish again what it lost, behind
    what came since; the failed calls into the population database of 14:12–14:52 were read after
    those of 15:32, past the judged time, and the incident opened 80 minutes after its window
    failed (the scorer missed it). Read late, they are judged where they belong."""
    h = LinkHealth(window=timedelta(hours=1), threshold=0.2, min_samples=3)
    assert judged(h, [failed(80), failed(100)], 110) == []  # two: not yet an incident
    # The earlier retries arrive after the judged time passed them: the window failed at 40.
    assert judged(h, [failed(0), failed(20), failed(40)], 120) == [(T0 + timedelta(minutes=40), True)]
    # One more read late inside that incident raises nothing more; quiet for a window, it closes.
    assert judged(h, [failed(60)], 130) == []
    assert judged(h, [], 200) == [(T0 + timedelta(minutes=160), False)]


def test_a_failure_read_late_inside_an_incident_already_raised_raises_no_second_one() -> None:
    h = LinkHealth(window=timedelta(hours=1), threshold=0.2, min_samples=3)
    assert judged(h, [failed(0), failed(10), failed(20)], 30) == [(T0 + timedelta(minutes=20), True)]
    assert judged(h, [], 100) == [(T0 + timedelta(minutes=80), False)]
    assert judged(h, [failed(5), failed(15)], 110) == []
    # Far from it, three failures read late are an incident of their own, over already.
    assert judged(h, [failed(200), failed(210), failed(220), failed(221)], 400) == [
        (T0 + timedelta(minutes=220), True),
        (T0 + timedelta(minutes=281), False),
    ]


def test_a_lost_log_found_twice_keeps_its_pardon_from_the_newest_beat_read_before_it() -> None:
    """Regression: a demo month's broker crash was found twice a second apart (a late
    acknowledgement of the old log put the read position above the new end again); the second
    pardon counted from a beat of the new log read in between, and the gap across the loss, from
    social security's last beat before it to the first after, was reported a silence."""
    s = AgencySilence(limit=timedelta(minutes=10))
    s.observe(ev("agency.heartbeat", "bhxh", 0, {"seq": 0}, dossier=None))
    assert s.tick(T0) == []
    s.interrupted({"bhxh"})  # the beats of minutes 1..39 are gone with the log
    s.observe(ev("agency.heartbeat", "bhxh", 40, {"seq": 0}, dossier=None))  # read, not judged yet
    s.interrupted({"bhxh"})  # the same loss, found again
    assert s.tick(T0 + timedelta(minutes=41)) == []
    s.observe(ev("agency.heartbeat", "bhxh", 45, {"seq": 1}, dossier=None))
    assert s.tick(T0 + timedelta(minutes=46)) == []
    # The pardon used, a real silence after it is reported as ever.
    assert [(i.at, i.opened) for i in s.tick(T0 + timedelta(minutes=60))] == [(T0 + timedelta(minutes=55), True)]
