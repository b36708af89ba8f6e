"""The conformance judge, rule by rule, on messages built by hand: a faithful step passes every
rule; each kind of mistake fails its own rule and names the dossier and why."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from contracts.chains import load_chains
from contracts.clock import VN_TZ, SimClock
from contracts.commands import Done
from contracts.envelope import Event, new_event
from contracts.event_types import (
    AGENCY_HEARTBEAT,
    HANDOFF_RECEIVED,
    HANDOFF_SENT,
    STEP_COMPLETED,
    STEP_STARTED,
)
from contracts.partitioning import partition_of
from simulation.conformance.judge import Probe, Record, Scene, judge

EPOCH = datetime(2024, 3, 4, 8, 0, tzinfo=VN_TZ)
ANCHOR = 1_000_000.0
SPEED = 3600.0
EVENTS, WORK = "lt.dossier-events", "lt.work.cutru"
DOSSIER = "D-1"
PID = "042024000017"


def _scene() -> Scene:
    return Scene(
        agency="cutru",
        events_topic=EVENTS,
        work_topic=WORK,
        partitions={EVENTS: 4, WORK: 4, "lt.work.portal": 4},
        chains=load_chains(),
        clock=SimClock(EPOCH, ANCHOR, SPEED, max_lag_s=5.0),
        bound_s=5.0,
        heartbeat_s=1.0,
        dossiers=frozenset({DOSSIER}),
        started=ANCHOR,
        ended=ANCHOR + 6,
    )


def _at(real: float) -> datetime:
    return EPOCH + timedelta(seconds=(real - ANCHOR) * SPEED)


def _record(topic: str, e: Event, real: float, offset: int = 0, key: bytes | None = None) -> Record:
    k = key if key is not None else e.key
    return Record(topic, partition_of(k, 4), offset, int(real * 1000), k, e.to_json())


def _handoff_in() -> Event:
    payload = {
        "to": "cutru",
        "to_step": "register_residence",
        "dossier": {"procedures": []},
        "results": {"register_birth": {"personal_id": PID}},
        "next": [{"agency": "portal", "step": "result"}],
        "outcome": "completed",
    }
    return new_event(HANDOFF_SENT, "hotich", _at(ANCHOR + 0.5), dossier_id=DOSSIER, chain="birth", payload=payload)


def _step(handoff: Event, started: bool = True, real: float = ANCHOR + 1) -> list[tuple[str, Event, float]]:
    def ev(type_: str, payload: dict[str, object], at: float) -> Event:
        return new_event(
            type_, "cutru", _at(at), dossier_id=DOSSIER, chain="birth", step="register_residence", payload=payload
        )

    out = [(EVENTS, ev(HANDOFF_RECEIVED, {"from": "hotich", "sent_event_id": handoff.event_id}, real), real)]
    if started:
        out.append((EVENTS, ev(STEP_STARTED, {}, real + 0.1), real + 0.1))
    result = {"personal_id": PID, "registered_at": _at(real + 0.2).isoformat()}
    out.append((EVENTS, ev(STEP_COMPLETED, {"result": result}, real + 0.2), real + 0.2))
    sent = ev(
        HANDOFF_SENT,
        {"to": "portal", "to_step": "result", "next": [], "outcome": "completed", "results": {}, "dossier": {}},
        real + 0.3,
    )
    out.append(("lt.work.portal", sent, real + 0.3))
    out.append((EVENTS, sent.for_lifecycle(), real + 0.3))
    return out


def _beats(every: float = 1.0, until: float = 6.0) -> list[Record]:
    n = int(until / every)
    return [
        _record(
            EVENTS,
            new_event(
                AGENCY_HEARTBEAT, "cutru", _at(ANCHOR + i * every), dossier_id=None, chain=None, payload={"seq": i}
            ),
            ANCHOR + i * every,
            offset=100 + i,
        )
        for i in range(n + 1)
    ]


def _records(step: list[tuple[str, Event, float]], handoff: Event) -> list[Record]:
    return [
        _record(WORK, handoff, ANCHOR + 0.5),
        *[_record(t, e, at, i) for i, (t, e, at) in enumerate(step)],
        *_beats(),
    ]


PROBE = Probe(command_dossier=DOSSIER, answer=Done(command_id="c", agency="cutru", queued=1), answer_wait_s=15)


def _failed(records: list[Record], probe: Probe = PROBE) -> dict[str, list[str]]:
    return {v.rule: v.as_dict()["failures"] for v in judge(_scene(), records, probe) if not v.passed}


def test_a_faithful_step_passes_every_rule_but_idempotence_needs_the_duplicate_delivery() -> None:
    handoff = _handoff_in()
    records = _records(_step(handoff), handoff)
    assert _failed(records) == {"idempotence": ["nothing to judge"]}
    dup = replace(records[0], offset=1)
    assert _failed([*records, dup], replace(PROBE, duplicate=dup)) == {}


def test_a_missing_step_started_fails_the_sequence_rule_only() -> None:
    handoff = _handoff_in()
    records = _records(_step(handoff, started=False), handoff)
    dup = replace(records[0], offset=1)
    failed = _failed([*records, dup], replace(PROBE, duplicate=dup))
    assert failed == {"sequence": ["D-1 at register_residence: no step.started"]}


def test_a_message_on_another_partition_fails_the_partitioner_rule() -> None:
    handoff = _handoff_in()
    records = _records(_step(handoff), handoff)
    wrong = (records[2].partition + 1) % 4
    records[2] = replace(records[2], partition=wrong)
    dup = replace(records[0], offset=1)
    failed = _failed([*records, dup], replace(PROBE, duplicate=dup))
    assert list(failed) == ["partitioner"]
    assert f"partition {wrong}, murmur2 says {(wrong - 1) % 4} of 4" in failed["partitioner"][0]


def test_an_event_published_past_the_bound_fails_stamping_and_one_from_the_future_too() -> None:
    handoff = _handoff_in()
    step = _step(handoff)
    late = [(t, e, at + 30 if e.type == STEP_STARTED else at) for t, e, at in step]
    records = _records(late, handoff)
    dup = replace(records[0], offset=1)
    failed = _failed([*records, dup], replace(PROBE, duplicate=dup))
    assert list(failed) == ["stamping"]
    assert "D-1 step.started at register_residence: stamped" in failed["stamping"][0]
    assert "more than 5 real s late" in failed["stamping"][0]
    later = _step(handoff, real=ANCHOR + 4)
    early = [(t, e, at - 3 if e.type == STEP_STARTED else at) for t, e, at in later]
    records = _records(early, handoff)
    failed = _failed([*records, dup], replace(PROBE, duplicate=dup))
    assert "in the future" in failed["stamping"][0]


def test_a_step_finished_twice_fails_idempotence_and_a_wrong_result_fails_results() -> None:
    handoff = _handoff_in()
    step = _step(handoff)
    again = _step(handoff, real=ANCHOR + 2)
    records = _records([*step, *again[2:]], handoff)
    dup = replace(records[0], offset=1)
    failed = _failed([*records, dup], replace(PROBE, duplicate=dup))
    assert list(failed) == ["idempotence"]
    assert "finished 2 times" in failed["idempotence"][0]

    bad = [
        (t, replace(e, payload={"result": {"personal_id": "12"}}) if e.type == STEP_COMPLETED else e, at)
        for t, e, at in step
    ]
    records = _records(bad, handoff)
    failed = _failed([*records, replace(records[0], offset=1)], replace(PROBE, duplicate=replace(records[0], offset=1)))
    assert list(failed) == ["results"]
    assert "registered_at" in failed["results"][0]


def test_silence_fails_heartbeat_garbage_fails_schema_and_no_answer_fails_commands() -> None:
    handoff = _handoff_in()
    records = [r for r in _records(_step(handoff), handoff) if b"agency.heartbeat" not in r.value]
    garbage = Record(EVENTS, 0, 999, int((ANCHOR + 2) * 1000), b"D-1", b"\xff not json")
    dup = replace(records[0], offset=1)
    failed = _failed([*records, garbage, dup], Probe(duplicate=dup, command_dossier=DOSSIER, answer_wait_s=15))
    assert set(failed) == {"heartbeat", "schema", "commands"}
    assert failed["heartbeat"] == ["no agency.heartbeat from cutru in 6 s"]
    assert "not valid JSON" in failed["schema"][0]
    assert failed["commands"] == ["no answer to a republish of D-1 within 15 s"]


def test_the_dossiers_follow_a_profiles_mix_among_the_chains_through_the_agency() -> None:
    from simulation.conformance.drive import chain_order, chains_through

    chains = load_chains()
    assert chains_through("cutru", chains) == ["birth", "death"]
    assert chains_through("motcua", chains) == ["birth", "death", "lltp", "marriage"]
    assert chains_through("hotich", chains) == ["birth", "death", "marriage"]
    assert chain_order(["birth", "death"], 4, {}) == ["birth", "death", "birth", "death"]
    # Hà Tĩnh's month: 1,600 births, 607 deaths, 3,282 LLTP requests; cutru sees no LLTP.
    mix = {"birth": 1600, "death": 607, "lltp": 3282}
    order = chain_order(["birth", "death"], 12, mix)
    assert len(order) == 12
    assert order.count("birth") == 9
    assert order.count("death") == 3
    assert chain_order(["birth", "death", "lltp"], 3, {"birth": 0, "death": 0, "lltp": 5}) == ["lltp"] * 3


def _passing(records: list[Record]) -> tuple[list[Record], Probe]:
    dup = replace(records[0], offset=1)
    return [*records, dup], replace(PROBE, duplicate=dup)


def test_an_event_topic_copy_with_personal_data_or_other_routing_fails_the_copies_rule() -> None:
    """Regression: the checker never looked at the event-topic copy of a handoff.sent."""
    handoff = _handoff_in()
    step = _step(handoff)
    leaky = [
        (t, replace(e, payload={**e.payload, "dossier": {}}) if t == EVENTS and e.type == HANDOFF_SENT else e, at)
        for t, e, at in step
    ]
    failed = _failed(*_passing(_records(leaky, handoff)))
    assert list(failed) == ["copies"]
    assert "carries dossier" in failed["copies"][0]
    astray = [
        (
            t,
            replace(e, payload={**e.payload, "outcome": "rejected"}) if t == EVENTS and e.type == HANDOFF_SENT else e,
            at,
        )
        for t, e, at in step
    ]
    failed = _failed(*_passing(_records(astray, handoff)))
    assert failed == {"copies": ["D-1 handoff.sent at register_residence: the two copies differ in outcome"]}


def test_a_republished_copy_keeps_its_time_and_is_no_late_stamp() -> None:
    """Regression: the copies of a by-dossier republish (same event_id, published later, as the
    contract allows) failed the stamping rule with a message that read like a clock bug."""
    handoff = _handoff_in()
    step = _step(handoff)
    again = [(t, e, at + 30) for t, e, at in step if e.type == HANDOFF_SENT]
    records = _records(step, handoff)
    records += [_record(t, e, at, 50 + i) for i, (t, e, at) in enumerate(again)]
    assert _failed(*_passing(records)) == {}


def test_heartbeats_count_from_zero_one_by_one() -> None:
    """Regression: the checker never looked at a heartbeat's `seq`."""
    handoff = _handoff_in()
    records = [r for r in _records(_step(handoff), handoff) if b"agency.heartbeat" not in r.value]

    def beats(seqs: list[int]) -> list[Record]:
        return [
            _record(
                EVENTS,
                new_event(
                    AGENCY_HEARTBEAT,
                    "cutru",
                    _at(ANCHOR + i),
                    dossier_id=None,
                    chain=None,
                    payload={"seq": s, "instance": "cutru-1"},
                ),
                ANCHOR + i,
                offset=100 + i,
            )
            for i, s in enumerate(seqs)
        ]

    assert _failed(*_passing([*records, *beats([0, 1, 2, 0, 1, 2, 3])])) == {}  # a restart starts at 0 again
    failed = _failed(*_passing([*records, *beats([4, 5, 6, 7, 8, 9, 10])]))
    assert failed == {"heartbeat": ["instance cutru-1: first heartbeat seq 4, the contract says 0 at each start"]}
    failed = _failed(*_passing([*records, *beats([0, 1, 2, 5, 6, 7, 8])]))
    assert failed == {"heartbeat": ["instance cutru-1: heartbeat seq went 2 → 5, the contract says +1"]}


def test_a_completed_step_without_a_declared_state_fails_the_sequence_rule() -> None:
    chains = load_chains()
    birth = chains["birth"]
    signing = tuple(
        replace(s, states=("awaiting_signature",)) if s.name == "register_residence" else s for s in birth.steps
    )
    scene = replace(_scene(), chains={**chains, "birth": replace(birth, steps=signing)})
    handoff = _handoff_in()
    records, probe = _passing(_records(_step(handoff), handoff))
    failed = {v.rule: v.as_dict()["failures"] for v in judge(scene, records, probe) if not v.passed}
    assert failed == {
        "sequence": [
            "D-1 at register_residence: completed without step.state awaiting_signature, which the chain "
            "declares for the step"
        ]
    }
