"""Detectors as pure functions of (timeline, clock): an alert fires if and only if a deadline
passed without the expected event; healthy dossiers never alert; each incident alerts once."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.chains import load_chains
from contracts.clock import VN_TZ
from contracts.envelope import Event, new_event
from streams.detect import Monitor, Recovery
from streams.rules import default_rules
from streams.tracker import LOST, STUCK, Tracker
from tests.unit.streams.model import healthy_timeline

CHAINS = load_chains()
TRACKER = Tracker(CHAINS, default_rules())
PROCEDURES = {"birth": (), "lltp": (), "death": ("death_registration", "residence_removal", "burial_allowance")}
START = datetime(2024, 1, 1, tzinfo=VN_TZ)


def run(events: list[Event], ticks: list[datetime]) -> tuple[Monitor, list, list]:  # type: ignore[type-arg]
    """Feed events in time order, ticking at each tick time once every earlier event is in."""
    m = Monitor(TRACKER)
    findings, recoveries = [], []
    queue = sorted(ticks)
    for e in events:
        while queue and queue[0] <= e.occurred_at:
            findings += m.tick(queue.pop(0))
        recoveries += m.observe(e)
    for t in queue:
        findings += m.tick(t)
    return m, findings, recoveries


# A certificate returned by post: issued by its appointment date, delivered up to three working
# days later. Stamp: the monitor called it "not closed by its appointment date" when the post
# delivered it after that date, while the report counted it resolved on time.
CASES = [*PROCEDURES.items(), ("lltp", ("return_by_post",))]

timelines = st.builds(
    lambda case, minutes, seed: healthy_timeline(
        CHAINS[case[0]],
        f"d-{seed}",
        START + timedelta(minutes=minutes),
        random.Random(seed),
        case[1],
    ),
    case=st.sampled_from(CASES),
    minutes=st.integers(0, 365 * 24 * 60),
    seed=st.integers(0, 10**6),
)


@settings(max_examples=150, deadline=None)
@given(events=timelines, ticks=st.lists(st.integers(0, 40 * 24 * 60), max_size=20))
def test_healthy_dossiers_never_alert_and_are_forgotten_once_closed(events: list[Event], ticks: list[int]) -> None:
    t0 = events[0].occurred_at
    m, findings, _ = run(events, [t0 + timedelta(minutes=k) for k in ticks])
    assert findings == []
    assert m.dossiers == {}


@settings(max_examples=200, deadline=None)
@given(events=timelines, data=st.data())
def test_an_alert_fires_iff_a_deadline_passed_without_the_expected_event(
    events: list[Event], data: st.DataObject
) -> None:
    """Drop one event: the expectations it would have met alert at the first tick after their
    deadline, and nothing alerts before it; with the event back, nothing alerts at all."""
    # A dropped step.completed can be proven by later events: its own property, below.
    droppable = [i for i, e in enumerate(events) if e.type in ("handoff.received", "dossier.closed")]
    i = data.draw(st.sampled_from(droppable))
    kept = events[:i] + events[i + 1 :]
    # Which expectations the dropped event would have met, and their deadlines:
    probe = Monitor(TRACKER)
    for e in events[:i]:
        probe.observe(e)
    change = TRACKER.apply(probe.dossiers[events[i].dossier_id], events[i])
    if not change.met:
        # A certificate issued met its appointment date: the post's delivery closes the dossier
        # late or never, and nothing else awaited it.
        assert events[i].type == "dossier.closed"
        assert "return_by_post" in events[0].payload["procedures"]
        _, late, _ = run(kept, [events[-1].occurred_at + timedelta(days=data.draw(st.integers(1, 60)))])
        assert late == []
        return
    deadline = min(x.due_at for x in change.met)
    before = deadline - timedelta(seconds=1)
    after = deadline + timedelta(seconds=data.draw(st.integers(1, 3600)))
    _, early, _ = run(kept, [before])
    assert not [f for f in early if f.expectation.key in {x.key for x in change.met}]
    _, late, _ = run(kept, [before, after])
    missed = {f.expectation.key for f in late}
    # The dossier's closing proves everything it awaited: a receipt dropped before it is no loss.
    closed_in_time = any(e.type == "dossier.closed" and e.occurred_at <= after for e in kept)
    if closed_in_time and events[i].type != "dossier.closed":
        assert not [x for x in change.met if x.key in missed]
        return
    assert any(x.key in missed for x in change.met if x.due_at == deadline)
    assert {f.expectation.kind for f in late} <= {LOST, STUCK}
    assert all(f.detected_at > f.expectation.due_at for f in late)


def test_one_alert_per_incident_then_recovery_when_the_event_finally_comes() -> None:
    events = healthy_timeline(CHAINS["birth"], "d-1", datetime(2024, 3, 4, 9, tzinfo=VN_TZ), random.Random(1))
    i = next(i for i, e in enumerate(events) if e.type == "handoff.received" and e.agency == "cutru")
    late = events[i]
    # Residence receives the dossier two days late (docs/domain.md): lost after the link timeout, once.
    delayed = late.__class__(**{**late.__dict__, "occurred_at": late.occurred_at + timedelta(days=2)})
    ticks = [late.occurred_at + timedelta(minutes=k) for k in range(0, 600, 10)]
    # Only what comes by the receipt's time: the later events of the dossier follow from it.
    m, findings, _ = run([e for e in events if e is not late and e.occurred_at <= late.occurred_at], ticks)
    lost = [f for f in findings if f.expectation.kind == LOST]
    assert len(lost) == 1
    assert lost[0].expectation.subject == "link:hotich->cutru"
    assert lost[0].detected_at - lost[0].expectation.due_at <= timedelta(minutes=10)  # within one tick
    recoveries = m.observe(delayed)
    assert [(r.expectation.key, r.how) for r in recoveries] == [(lost[0].expectation.key, "handoff.received")]


def test_the_deadline_index_pops_only_what_is_due() -> None:
    m = Monitor(TRACKER)
    for n in range(1000):
        for e in healthy_timeline(CHAINS["lltp"], f"d-{n}", START + timedelta(hours=n), random.Random(n))[:2]:
            m.observe(e)  # submitted + the first handoff: two open expectations each
    assert len(m.index) == 2000
    first_due = START + default_rules().link_timeout
    found = m.tick(first_due + timedelta(seconds=1))
    assert [f.dossier_id for f in found] == ["d-0"]  # only the first handoff is overdue
    assert len(m.index) == 1999


def test_a_deadline_met_late_before_any_tick_is_reported_late() -> None:
    from streams.detect import Late

    events = healthy_timeline(CHAINS["birth"], "d-2", datetime(2024, 3, 4, 9, tzinfo=VN_TZ), random.Random(2))
    i = next(i for i, e in enumerate(events) if e.type == "handoff.received" and e.agency == "cutru")
    late = events[i].__class__(**{**events[i].__dict__, "occurred_at": events[i].occurred_at + timedelta(days=1)})
    m = Monitor(TRACKER)
    for e in events[:i]:
        m.observe(e)
    out = m.observe(late)  # no tick ran in between: the event's own time shows the deadline passed
    assert [(type(r), r.expectation.kind, r.expectation.subject) for r in out] == [(Late, LOST, "link:hotich->cutru")]


@settings(max_examples=100, deadline=None)
@given(events=timelines, data=st.data())
def test_an_acknowledgement_read_before_its_handoff_raises_nothing(events: list[Event], data: st.DataObject) -> None:
    """handoff.sent and handoff.received come from different producers: either may come first."""
    pairs = [i for i, e in enumerate(events) if e.type == "handoff.sent"]
    i = data.draw(st.sampled_from(pairs))
    sent = events[i]
    j = next(
        (
            j
            for j, e in enumerate(events)
            if e.type == "handoff.received" and e.payload["sent_event_id"] == sent.event_id
        ),
        None,
    )
    if j is None:
        return
    swapped = [*events[:i], events[j], *[e for k, e in enumerate(events[i:], i) if k != j]]
    m, findings, recoveries = run(swapped, [e.occurred_at + timedelta(days=30) for e in events[-1:]])
    assert findings == []
    assert recoveries == []
    assert m.dossiers == {}


def test_a_late_acknowledgement_read_before_its_handoff_is_still_reported_late() -> None:
    """After a broker crash the sender's handoff.sent is published again from its outbox, after
    receipts written meanwhile: a receipt that came ten hours after the handoff (the portal was
    down) is late, whichever of the two the monitor reads first."""
    from streams.detect import Late

    events = healthy_timeline(CHAINS["lltp"], "d-3", datetime(2024, 3, 4, 9, tzinfo=VN_TZ), random.Random(3))
    i = next(i for i, e in enumerate(events) if e.type == "handoff.sent" and e.payload["to"] == "portal")
    j = next(j for j, e in enumerate(events) if e.type == "handoff.received" and e.agency == "portal")
    sent = events[i]
    receipt = events[j].__class__(**{**events[j].__dict__, "occurred_at": sent.occurred_at + timedelta(hours=10)})
    m = Monitor(TRACKER)
    for e in events[:i]:
        m.observe(e)
    assert m.observe(receipt) == []
    out = m.observe(sent)
    assert [(type(r), r.expectation.subject, r.met_at) for r in out] == [
        (Late, "link:lltp->portal", receipt.occurred_at)
    ]
    # The dossier may even close before the handoff's copy arrives: it is still judged.
    m = Monitor(TRACKER)
    for e in events[:i]:
        m.observe(e)
    m.observe(receipt)
    for e in events[j + 1 :]:
        m.observe(e)
    assert [type(r) for r in m.observe(sent)] == [Late]
    assert m.dossiers == {}  # and then it is forgotten
    # On time, the same order raises nothing.
    m = Monitor(TRACKER)
    for e in events[:i]:
        m.observe(e)
    m.observe(events[j])
    assert m.observe(sent) == []


@settings(max_examples=100, deadline=None)
@given(events=timelines, data=st.data())
def test_a_handoff_read_after_its_dossier_closed_raises_nothing(events: list[Event], data: st.DataObject) -> None:
    """A reordered delivery can bring a handoff.sent after the dossier closed: a straggler of a
    settled dossier, not a new dossier whose handoff went missing."""
    i = data.draw(st.sampled_from([i for i, e in enumerate(events) if e.type == "handoff.sent"]))
    straggler = events[i]
    ordered = [*events[:i], *events[i + 1 :], straggler]
    if not any(e.type == "dossier.closed" for e in ordered[:-1]):
        return
    m, findings, _ = run(ordered, [events[-1].occurred_at + timedelta(days=k) for k in (1, 10)])
    assert findings == []
    assert m.dossiers == {}
    assert straggler.dossier_id in m.closed


@settings(max_examples=100, deadline=None)
@given(events=timelines)
def test_a_submission_replayed_after_the_dossier_closed_opens_no_appointment_deadline(events: list[Event]) -> None:
    """Regression (faults e2e run, 4 December 2026): after the embedded broker's crash every agency
    published its outbox again, and the portal's `dossier.submitted` and first handoff came after the
    dossier's closing, with motcua's receipt before them. The closed dossier waited for that
    handoff's copy; the submission read meanwhile opened a fresh appointment deadline that nothing
    could meet, and a week later the monitor called a finished dossier stuck. A closed dossier
    awaits nothing new."""
    first = [e for e in events if e.agency == "portal" and e.type in ("dossier.submitted", "handoff.sent")][:2]
    replayed = [e for e in events if e not in first] + first
    m, findings, _ = run(replayed, [events[-1].occurred_at + timedelta(days=k) for k in (1, 10, 25)])
    assert findings == []
    assert m.dossiers == {}  # settled once the handoff's copy came: nothing left open


def test_settled_dossiers_are_forgotten_after_a_month() -> None:
    from streams.detect import CLOSED_MEMORY

    events = healthy_timeline(CHAINS["lltp"], "d-3", START, random.Random(3))
    m, _, _ = run(events, [])
    assert "d-3" in m.closed
    m.tick(events[-1].occurred_at + CLOSED_MEMORY + timedelta(seconds=1))
    assert m.closed == {}


def _descends(chain_name: str, step: str | None, ancestor: str) -> bool:
    """Whether `step` comes after `ancestor` in the chain (through its `after` links)."""
    chain = CHAINS[chain_name]
    names = {s.name for s in chain.steps}
    while step in names:
        step = chain.step(step).after
        if step == ancestor:
            return True
    return False


@settings(max_examples=200, deadline=None)
@given(events=timelines, data=st.data())
def test_a_missed_completion_alerts_only_if_nothing_later_proves_the_step_done(
    events: list[Event], data: st.DataObject
) -> None:
    """Drop a step.completed: a later step that ran before the step's deadline, or the
    dossier's closing, proves the step done and nothing alerts; otherwise it alerts once the
    deadline passed."""
    i = data.draw(st.sampled_from([i for i, e in enumerate(events) if e.type == "step.completed"]))
    dropped = events[i]
    kept = events[:i] + events[i + 1 :]
    key = f"step:{dropped.agency}:{dropped.step}"
    probe = Monitor(TRACKER)
    for e in events[:i]:
        probe.observe(e)
    due = probe.dossiers[dropped.dossier_id].pending[key].due_at
    tick = due + timedelta(seconds=data.draw(st.integers(1, 3600)))
    assert dropped.chain is not None
    assert dropped.step is not None
    proven = any(
        (e.occurred_at <= tick and e.type == "dossier.closed")
        or (e.occurred_at <= due and _descends(dropped.chain, e.step, dropped.step))
        for e in kept[i:]
    )
    _, findings, _ = run(kept, [tick])
    alerted = key in {f.expectation.key for f in findings}
    assert alerted == (not proven)


def test_a_step_proven_by_a_later_one_resolves_its_alert_with_the_proof() -> None:
    events = healthy_timeline(CHAINS["birth"], "d-3", datetime(2024, 3, 4, 9, tzinfo=VN_TZ), random.Random(3))
    i = next(i for i, e in enumerate(events) if e.type == "step.completed" and e.step == "register_birth")
    kept = events[:i] + events[i + 1 :]
    j = next(j for j, e in enumerate(kept) if e.type == "handoff.received" and e.agency == "cutru")
    m = Monitor(TRACKER)
    for e in kept[:j]:
        m.observe(e)
    key = "step:hotich:register_birth"
    due = m.dossiers["d-3"].pending[key].due_at
    assert key in {f.expectation.key for f in m.tick(due + timedelta(seconds=1))}  # its receipt is late, say
    later = kept[j].__class__(**{**kept[j].__dict__, "occurred_at": due + timedelta(hours=1)})
    out = m.observe(later)
    assert [(r.expectation.key, r.how) for r in out if r.expectation.key == key] == [
        (key, "a later step ran: cutru/register_residence")
    ]


def test_a_closing_dossier_resolves_every_alert_still_open_on_it() -> None:
    events = healthy_timeline(CHAINS["lltp"], "d-4", datetime(2024, 3, 4, 9, tzinfo=VN_TZ), random.Random(4))
    closing = next(e for e in events if e.type == "dossier.closed")
    # The monitor missed everything between the first handoff and the closing (a broker crash).
    m = Monitor(TRACKER)
    for e in events[:2]:
        m.observe(e)
    pending = set(m.dossiers["d-4"].pending)
    reported = {f.expectation.key for f in m.tick(max(x.due_at for x in m.dossiers["d-4"].pending.values()))}
    assert reported
    assert reported <= pending
    out = m.observe(closing)
    assert {r.expectation.key for r in out if r.how == "dossier closed"} == reported - {"dossier"}
    # A proof, not the awaited event: when what it awaited happened is not known (streams/backlog.py).
    assert all(r.proven for r in out if isinstance(r, Recovery) and r.how == "dossier closed")
    assert "d-4" not in m.dossiers  # settled: nothing left to wait for


def test_a_receipt_replayed_after_its_step_completed_opens_no_fresh_deadline() -> None:
    """A crash replay publishes the sender's outbox again, so a step's `handoff.received` (and its
    states) can be read after its own `step.completed`: the step is done, and no deadline may be
    opened for it again (two false stuck alerts came from that in an unseen fault mix)."""
    events = healthy_timeline(CHAINS["birth"], "d-5", datetime(2024, 3, 4, 9, tzinfo=VN_TZ), random.Random(5))
    i = next(i for i, e in enumerate(events) if e.type == "step.completed" and e.step == "register_birth")
    received = next(e for e in events[:i] if e.type == "handoff.received" and e.step == "register_birth")
    states = [e for e in events[:i] if e.type == "step.state" and e.step == "register_birth"]
    m = Monitor(TRACKER)
    for e in events[: i + 1]:
        m.observe(e)
    assert "step:hotich:register_birth" not in m.dossiers["d-5"].pending
    replayed_at = events[i].occurred_at + timedelta(minutes=5)
    for copy in [received, *states]:
        m.observe(copy.__class__(**{**copy.__dict__, "occurred_at": replayed_at}))
    pending = m.dossiers["d-5"].pending
    assert not [k for k in pending if k.startswith(("step:hotich:register_birth", "state:hotich:register_birth"))]
    far = replayed_at + timedelta(days=60)
    assert not [f for f in m.tick(far) if f.expectation.subject == "step:hotich/register_birth"]


def test_a_late_step_whose_receipt_is_read_after_its_end_is_still_reported_late() -> None:
    """Regression: after a broker crash the senders published again what the broker lost, behind
    what came since; a civil-status step that waited past its deadline for the population database
    was read ended before it was read received, and its lateness went unreported (11 of 13 in a
    faults run). Read in either order, a late step is late; on time, it raises nothing."""
    from streams.detect import Late

    events = healthy_timeline(CHAINS["birth"], "d-6", datetime(2024, 3, 4, 9, tzinfo=VN_TZ), random.Random(6))
    received = next(e for e in events if e.type == "handoff.received" and e.step == "register_birth")
    i = next(i for i, e in enumerate(events) if e.type == "step.completed" and e.step == "register_birth")
    deadline = TRACKER.calendar.deadline(received.occurred_at, 1)
    ended = events[i].__class__(**{**events[i].__dict__, "occurred_at": deadline + timedelta(hours=15)})
    before = [e for e in events[:i] if e is not received and e.step != "register_birth"]
    m = Monitor(TRACKER)
    for e in before:
        m.observe(e)
    m.observe(ended)
    out = m.observe(received)
    assert [(type(r), r.expectation.subject, r.met_at) for r in out] == [
        (Late, "step:hotich/register_birth", ended.occurred_at)
    ]
    m = Monitor(TRACKER)
    for e in before:
        m.observe(e)
    m.observe(events[i])
    assert m.observe(received) == []


def test_a_certificate_issued_by_its_appointment_date_is_not_late_while_the_post_delivers_it() -> None:
    """Stamp: the monitor called a certificate returned by post "not closed by its appointment
    date" when the post delivered it after that date, though it was issued in time (the report
    counts it resolved on time)."""
    due = START + timedelta(days=14)

    def lltp(dossier_id: str, procedures: list[str]) -> list[Event]:
        return [
            new_event(
                "dossier.submitted", "portal", START, dossier_id=dossier_id, chain="lltp",
                payload={"channel": "online", "procedures": procedures, "area": {}, "due_at": due.isoformat()},
            ),
            new_event(
                "step.completed", "lltp", due - timedelta(hours=1), dossier_id=dossier_id, chain="lltp",
                step="issue_certificate", payload={"result": {}},
            ),
        ]  # fmt: skip

    _, posted, _ = run(lltp("post", ["return_by_post"]), [due + timedelta(days=2)])
    assert posted == []
    # Collected at the desk, the same issuance leaves it open until the portal closes it: late.
    _, desk, _ = run(lltp("desk", []), [due + timedelta(days=2)])
    assert [(f.expectation.key, f.expectation.kind) for f in desk] == [("dossier", STUCK)]


def test_a_dossier_settled_by_a_straggler_is_remembered_from_its_closing() -> None:
    """Stamp: a handoff.sent reordered after its dossier's closing settled it, and the monitor
    remembered the dossier from the handoff's own stamp, 15 days older than the closing: 25 days
    after the closing it had forgotten the dossier, and a further copy would have opened a phantom
    one. A certificate sent by post made timelines that long."""
    events = healthy_timeline(CHAINS["lltp"], "d-158", START, random.Random(158), ("return_by_post",))
    straggler = next(e for e in events if e.type == "handoff.sent")
    ordered = [e for e in events if e is not straggler] + [straggler]
    closed_at = next(e.occurred_at for e in events if e.type == "dossier.closed")
    assert closed_at - straggler.occurred_at > timedelta(days=14)
    m, findings, _ = run(ordered, [closed_at + timedelta(days=25)])
    assert findings == []
    assert m.closed == {"d-158": closed_at}
