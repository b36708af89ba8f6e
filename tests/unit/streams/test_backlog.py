"""The positional evidence for a lost handoff (streams/backlog.py): lost only once the receiver's
group has committed past the end its partition had after the deadline; until then, held under one
infrastructure incident per partition that closes when the last held handoff flows."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from aiokafka.partitioner import DefaultPartitioner
from hypothesis import given
from hypothesis import strategies as st

from contracts.alerts import AlertKind
from streams.backlog import OPEN_AFTER_S, Backlog, Met, Position, Snapshot, partition_of
from streams.detect import Finding
from streams.tracker import Expectation

T0 = datetime(2024, 1, 9, 8, 0)
TOPIC = "lt.work.cutru"


def finding(dossier: str, n: int = 0) -> Finding:
    x = Expectation(f"handoff:e{n}", "lost", T0, T0 - timedelta(hours=4), "link:hotich->cutru", "never acknowledged")
    return Finding(dossier, x, T0 + timedelta(minutes=n))


def snap(taken: float, **parts: Position) -> Snapshot:
    return Snapshot(taken, {"cutru": TOPIC}, {"cutru": {int(p.removeprefix("p")): pos for p, pos in parts.items()}})


def only_partition(committed: int | None, end: int = 10, leader: bool = True) -> dict[str, Position]:
    return {"p0": Position(end=end, committed=committed, leader=leader)}


@given(st.text(min_size=1, max_size=30), st.integers(min_value=1, max_value=64))
def test_the_partition_is_the_java_clients_murmur2_of_the_dossier_id(dossier: str, n: int) -> None:
    assert partition_of(dossier, n) == DefaultPartitioner()(dossier.encode(), list(range(n)), list(range(n)))


def test_a_receiver_that_committed_past_the_handoff_makes_it_lost_and_opens_no_incident() -> None:
    b = Backlog()
    b.hold(finding("D1"), "cutru", now=1.0)
    out = b.settle(snap(2.0, **only_partition(committed=10)), T0)
    assert [f.dossier_id for f in out.lost] == ["D1"]
    assert out.incidents == []
    assert not b.busy()


def test_a_receiver_behind_for_an_instant_opens_no_incident() -> None:
    # Regression: the demo month (4 December 2026) opened and closed an incident on
    # lt.work.motcua/2, "1 messages behind", within one look at the broker: a busy receiver.
    b = Backlog()
    b.hold(finding("D1"), "cutru", now=1.0)
    assert b.settle(snap(1.5, **only_partition(committed=9, end=10)), T0).incidents == []
    out = b.settle(snap(2.0, **only_partition(committed=10, end=10)), T0)
    assert [f.dossier_id for f in out.lost] == ["D1"]
    assert out.incidents == []
    assert not b.busy()


def test_a_snapshot_asked_for_before_the_hold_proves_nothing() -> None:
    b = Backlog()
    b.hold(finding("D1"), "cutru", now=5.0)
    out = b.settle(snap(4.0, **only_partition(committed=10)), T0)
    assert out.lost == []
    assert out.incidents == []
    assert b.busy()


def test_a_consumer_behind_holds_every_handoff_under_one_incident_that_closes_when_they_flow() -> None:
    b = Backlog()
    for n, d in enumerate(["D1", "D2", "D3"]):
        b.hold(finding(d, n), "cutru", now=1.0)
    # Behind for less than OPEN_AFTER_S: busy, not broken; held, no incident yet.
    early = b.settle(snap(2.0, **only_partition(committed=4, end=10)), T0 + timedelta(hours=1))
    assert early.lost == []
    assert early.incidents == []
    opened = b.settle(snap(1.0 + OPEN_AFTER_S, **only_partition(committed=4, end=10)), T0 + timedelta(hours=1))
    assert opened.lost == []
    [incident] = opened.incidents
    assert incident.kind == AlertKind.INFRASTRUCTURE
    assert incident.opened
    assert incident.subject == "work:cutru/0"
    assert "6 messages behind" in incident.detail
    assert "holding 3 dossiers: D1, D2, D3" in incident.detail
    assert incident.at == T0  # the first held finding's judged time
    assert b.waiting() == {"cutru/0": ["D1", "D2", "D3"]}
    # Still behind, and more held: the same incident, no second one.
    b.hold(finding("D4", 4), "cutru", now=3.0)
    assert b.settle(snap(7.0, **only_partition(committed=5, end=12)), T0).incidents == []
    # The receipts come: the handoffs flowed, and the incident closes at the judged time.
    for n, d in enumerate(["D1", "D2", "D3"]):
        # Received past the deadline in the model, but the incident explains it.
        assert b.met(d, f"handoff:e{n}", T0 + timedelta(hours=2)) is Met.FLOWED
    assert b.met("D4", "handoff:e4", T0 + timedelta(hours=2)) is Met.FLOWED
    closed = b.settle(snap(8.0), T0 + timedelta(days=1))
    assert [(i.opened, i.subject, i.at, i.detail) for i in closed.incidents] == [
        (False, "work:cutru/0", T0 + timedelta(days=1), "flowed again: 4 dossiers")
    ]
    assert not b.busy()


def test_once_the_receiver_catches_up_past_a_held_handoff_without_its_receipt_it_is_lost() -> None:
    b = Backlog()
    b.hold(finding("D1"), "cutru", now=1.0)
    assert b.settle(snap(6.0, **only_partition(committed=4, end=10)), T0).incidents
    # Later messages arrive (end 30), but only the end seen first must be passed.
    out = b.settle(snap(7.0, **only_partition(committed=10, end=30)), T0)
    assert [f.dossier_id for f in out.lost] == ["D1"]
    [closing] = out.incidents
    assert not closing.opened
    assert closing.detail == "flowed again: 1 dossiers"


def test_a_partition_without_a_leader_or_a_reader_holds_its_handoffs() -> None:
    for parts, words in (
        (only_partition(committed=10, leader=False), f"{TOPIC}/0 has no leader"),
        (only_partition(committed=None), f"no consumer group has committed on {TOPIC}/0, 10 messages unread"),
    ):
        b = Backlog()
        b.hold(finding("D1"), "cutru", now=1.0)
        out = b.settle(snap(6.0, **parts), T0)
        assert out.lost == []
        assert [i.detail.split(";")[0] for i in out.incidents] == [words]


def test_a_partition_holding_nothing_but_its_primer_never_got_the_handoff_so_it_is_lost() -> None:
    # Regression: handoffs dropped on the way to a partition nobody had written to yet were held
    # for ever as "no consumer group has committed" (integration faults run, 4 December 2026).
    for floor in (0, 1):
        b = Backlog()
        b.hold(finding("D1"), "cutru", now=1.0)
        out = b.settle(snap(2.0, p0=Position(end=floor, committed=None, leader=True, floor=floor)), T0)
        assert [f.dossier_id for f in out.lost] == ["D1"]
        assert out.incidents == []
    # Past its primer a partition never committed on holds unread messages: held.
    b = Backlog()
    b.hold(finding("D1"), "cutru", now=1.0)
    assert b.settle(snap(2.0, p0=Position(end=3, committed=None, leader=True, floor=1)), T0).lost == []


def test_no_answer_for_an_agency_leaves_its_handoffs_held_without_verdict() -> None:
    b = Backlog()
    b.hold(finding("D1"), "cutru", now=1.0)
    out = b.settle(Snapshot(2.0, {}, {}), T0)
    assert out.lost == []
    assert out.incidents == []
    assert b.agencies() == {"cutru"}


def test_dossiers_another_worker_took_over_are_forgotten() -> None:
    b = Backlog()
    b.hold(finding("D1"), "cutru", now=1.0)
    b.settle(snap(2.0, **only_partition(committed=0)), T0)
    b.forget({"D1"})
    assert b.held == {}
    assert b.waiting() == {}


def test_a_held_handoff_received_past_its_deadline_before_any_look_is_late_not_flowed() -> None:
    """Regression: a handoff the sender put on the topic a day late (a delayed delivery) was held
    at its deadline; at 16 times the speed its receipt came before any look at the broker, the
    backlog took it for a handoff that flowed, and the lost dossier went unreported."""
    b = Backlog()
    b.hold(finding("D1"), "cutru", now=1.0)
    assert b.met("D1", "handoff:e0", T0 + timedelta(days=1)) is Met.LATE
    assert not b.busy()
    # Received in time in the model (a receiver that was only slow to read it): it flowed.
    b.hold(finding("D2"), "cutru", now=1.0)
    assert b.met("D2", "handoff:e0", T0 - timedelta(hours=3)) is Met.FLOWED
    # Not held at all: the caller resolves its alert as before.
    assert b.met("D3", "handoff:e0", T0 + timedelta(days=1)) is Met.NOT_HELD


def test_a_held_handoff_proven_by_the_dossiers_closing_is_not_late_by_the_closings_time() -> None:
    """Regression: after a broker crash the portal's receipt, published again, came after the
    dossier's closing; the closing proved the handoff received, and its own time, a day past the
    deadline, was taken for the receipt's: a handoff received in time was reported lost (late)."""
    b = Backlog()
    b.hold(finding("D1"), "cutru", now=1.0)
    assert b.met("D1", "handoff:e0", None) is Met.FLOWED
    assert not b.busy()


def test_a_receiver_past_the_handoff_makes_it_lost_only_once_the_monitor_read_its_log_that_far() -> None:
    """Regression: after a broker crash the receivers' receipts came back long after their stamps
    (published again from the senders' outboxes); the receivers' commits in the new log were past
    the handoffs, and 92 handoffs were judged lost just before the monitor read their receipts."""
    b = Backlog()
    b.log_lost(T0)  # the handoffs below were sent before it
    b.hold(finding("D1"), "cutru", now=1.0)
    event_partition = partition_of("D1", 4)
    ends = {p: 100 + p for p in range(4)}
    past = Snapshot(2.0, {"cutru": TOPIC}, {"cutru": {0: Position(end=10, committed=10, leader=True)}}, ends)
    behind = {event_partition: ends[event_partition] - 1}
    assert b.settle(past, T0, read=behind).lost == []
    assert b.busy()
    # The event log grew meanwhile: only the end seen when the receiver was past counts.
    later = Snapshot(3.0, past.topics, past.positions, {p: e + 50 for p, e in ends.items()})
    assert b.settle(later, T0, read=behind).lost == []
    out = b.settle(later, T0, read={event_partition: ends[event_partition]})
    assert [f.dossier_id for f in out.lost] == ["D1"]
    assert out.incidents == []
    assert not b.busy()
    # Its receipt read meanwhile instead: the handoff flowed.
    b.hold(finding("D2"), "cutru", now=1.0)
    assert b.settle(past, T0, read={}).lost == []
    assert b.met("D2", "handoff:e0", T0 - timedelta(minutes=5)) is Met.FLOWED
    # A handoff sent after the loss: the watermark already saw its receipt, no wait.
    later_sent = Finding("D3", replace(finding("D3").expectation, opened_at=T0 + timedelta(hours=1)), T0)
    b.hold(later_sent, "cutru", now=1.0)
    assert [f.dossier_id for f in b.settle(past, T0, read={}).lost] == ["D3"]


def test_a_lost_event_log_drops_the_ends_seen_in_it() -> None:
    b = Backlog()
    b.hold(finding("D1"), "cutru", now=1.0)
    event_partition = partition_of("D1", 4)
    positions = {"cutru": {0: Position(end=10, committed=10, leader=True)}}
    old = Snapshot(2.0, {"cutru": TOPIC}, positions, dict.fromkeys(range(4), 5000))
    b.log_lost(T0)
    assert b.settle(old, T0, read={event_partition: 4000}).lost == []
    # The broker lost the log again: the monitor reads the new one from its start, and the end it
    # must reach is the new log's.
    b.log_lost(T0)
    new = Snapshot(3.0, {"cutru": TOPIC}, positions, dict.fromkeys(range(4), 40))
    assert [f.dossier_id for f in b.settle(new, T0, read={event_partition: 40}).lost] == ["D1"]


def test_an_event_partition_without_a_leader_gives_no_evidence_yet() -> None:
    b = Backlog()
    b.hold(finding("D1"), "cutru", now=1.0)
    event_partition = partition_of("D1", 4)
    positions = {"cutru": {0: Position(end=10, committed=10, leader=True)}}
    ends: dict[int, int | None] = dict.fromkeys(range(4), 100)
    ends[event_partition] = None
    b.log_lost(T0)
    assert b.settle(Snapshot(2.0, {"cutru": TOPIC}, positions, ends), T0, read={event_partition: 500}).lost == []
    ends[event_partition] = 100
    out = b.settle(Snapshot(3.0, {"cutru": TOPIC}, positions, ends), T0, read={event_partition: 100})
    assert [f.dossier_id for f in out.lost] == ["D1"]
