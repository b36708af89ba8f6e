"""Judging what an agency's system sent during a conformance check, rule by rule (pure).

Input: every message on the event topic and the work topics from the check's start to its end,
as the broker holds them (partition, offset, timestamp, key, value), plus what the check did to
the system (one work message delivered twice, one admin command). Output: for each rule of the
contract (contracts/normative.py, by id) pass or fail, with the first dossiers that failed it
and why. A rule with nothing to judge (no dossier reached the agency) fails: a check that saw
nothing proves nothing.
"""

from __future__ import annotations

import itertools
import json
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from contracts.envelope import Event, parse_event
from contracts.errors import ContractError
from contracts.event_types import (
    AGENCY_HEARTBEAT,
    HANDOFF_SENT,
    STEP_COMPLETED,
    STEP_REJECTED,
)
from contracts.partitioning import partition_of
from simulation.conformance.lifecycle import copies, sequences, who
from simulation.conformance.scene import Probe, Record, Scene, Verdict

RULES = (
    "schema",
    "partitioner",
    "sequence",
    "copies",
    "results",
    "stamping",
    "idempotence",
    "heartbeat",
    "commands",
)
"""The rules judged, in the order they are reported (ids of contracts/normative.py)."""
FUTURE_TOLERANCE_S = 0.5
"""Real seconds an event may run ahead of the publishing clock: every process reads the clock's
changes within its lead (runtime/clockfile.py), so a stamp this close is not in the future."""
CLOCK_SKEW_S = 1.0
"""Real seconds a message's broker timestamp may precede the check's start and still be its own."""
SILENCE_BEATS = 3
"""Heartbeats missed in a row that the monitor reads as the agency being down."""


def judge(scene: Scene, records: Iterable[Record], probe: Probe) -> list[Verdict]:
    verdicts = {r: Verdict(r) for r in RULES}
    mine: list[tuple[Record, Event]] = []
    received: list[Event] = []
    beats: list[tuple[Record, Event]] = []
    """Every heartbeat of the agency, also from before the check (the topics are new in a fresh
    check, so its first beats are there): their `seq` must count from 0."""
    for r in records:
        if r.primer or r.command:  # commands are judged by their answers (rule "commands")
            continue
        event, problem = _decode(r)
        if event is not None and event.type == AGENCY_HEARTBEAT and event.agency == scene.agency:
            beats.append((r, event))
        if r.published < scene.started - CLOCK_SKEW_S:
            continue  # before the check (a stack kept from an earlier check)
        if event is None:
            author = _author(r.value)
            if author in (scene.agency, None):
                verdicts["schema"].checked += 1
                who = "" if author else " (no agency named; only the system under test is new here)"
                verdicts["schema"].fail(f"{r.topic}[{r.partition}]@{r.offset}{who}: {problem}")
            continue
        if r.topic == scene.work_topic and event.type == HANDOFF_SENT and event.dossier_id in scene.dossiers:
            received.append(event)
        if event.agency == scene.agency:
            verdicts["schema"].checked += 1
            mine.append((r, event))
    _partitions(scene, mine, verdicts["partitioner"])
    lifecycle = [(r, e) for r, e in mine if r.topic == scene.events_topic]
    sequences(scene, received, lifecycle, verdicts["sequence"])
    copies(mine, scene.events_topic, verdicts["copies"])
    _results(scene, lifecycle, verdicts["results"])
    _stamping(scene, lifecycle, verdicts["stamping"])
    _idempotence(scene, received, lifecycle, probe, verdicts["idempotence"])
    _heartbeats(scene, lifecycle, beats, verdicts["heartbeat"])
    _commands(probe, verdicts["commands"])
    return [verdicts[r] for r in RULES]


def _decode(r: Record) -> tuple[Event | None, str]:
    try:
        return parse_event(r.value), ""
    except ContractError as exc:
        return None, str(exc)


def _author(value: bytes) -> str | None:
    """The agency a message that breaks the contract names, if it parses that far."""
    try:
        doc = json.loads(value)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    agency = doc.get("agency") if isinstance(doc, dict) else None
    return agency if isinstance(agency, str) else None


def _partitions(scene: Scene, mine: list[tuple[Record, Event]], v: Verdict) -> None:
    for r, e in mine:
        v.checked += 1
        key = (e.dossier_id or e.agency).encode()
        if r.key != key:
            v.fail(f"{who(e)} on {r.topic}: keyed {r.key!r}, the contract says {key!r}")
            continue
        n = scene.partitions.get(r.topic)
        if n and r.partition != partition_of(key, n):
            v.fail(
                f"{who(e)} on {r.topic}: partition {r.partition}, murmur2 says {partition_of(key, n)} of {n} "
                "(confluent-kafka: set partitioner=murmur2_random)"
            )


def _results(scene: Scene, lifecycle: list[tuple[Record, Event]], v: Verdict) -> None:
    for _, e in lifecycle:
        if e.type != STEP_COMPLETED or not e.chain or not e.step or e.chain not in scene.chains:
            continue
        v.checked += 1
        try:
            step = scene.chains[e.chain].step(e.step)
        except KeyError:
            v.fail(f"{who(e)}: the chain {e.chain} has no step {e.step}")
            continue
        problems = step.result_problems(e.payload.get("result"))
        if problems:
            v.fail(f"{who(e)}: " + "; ".join(problems[:3]))


def _stamping(scene: Scene, lifecycle: list[tuple[Record, Event]], v: Verdict) -> None:
    """The first copy of each event id is judged: a copy published again (a republish command,
    a redrive) keeps its original `occurred_at`, as the contract says, and is no late stamp."""
    seen: set[str] = set()
    for r, e in sorted(lifecycle, key=lambda x: x[0].published):
        if e.event_id in seen:
            continue
        seen.add(e.event_id)
        v.checked += 1
        ahead = scene.clock.at(r.published + FUTURE_TOLERANCE_S)
        if e.occurred_at > ahead:
            v.fail(f"{who(e)}: stamped {_t(e.occurred_at)}, in the future (the clock showed {_t(ahead)})")
            continue
        # The monitor judges a deadline once the clock minus the bound has passed it.
        judged = scene.clock.at(r.published - scene.bound_s)
        if judged > e.occurred_at:
            v.fail(
                f"{who(e)}: stamped {_t(e.occurred_at)} but published when the monitor had judged up to "
                f"{_t(judged)} (more than {scene.bound_s:g} real s late)"
            )


def _idempotence(
    scene: Scene, received: list[Event], lifecycle: list[tuple[Record, Event]], probe: Probe, v: Verdict
) -> None:
    ends: dict[tuple[str, str], set[str]] = defaultdict(set)
    sent: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    for _, e in lifecycle:
        if not e.dossier_id or not e.step:
            continue
        if e.type in (STEP_COMPLETED, STEP_REJECTED):
            ends[(e.dossier_id, e.step)].add(e.event_id)
        elif e.type == HANDOFF_SENT:
            sent[(e.dossier_id, e.step, f"{e.payload.get('to')}/{e.payload.get('to_step')}")].add(e.event_id)
    for h in received:
        key = (h.dossier_id or "", str(h.payload.get("to_step")))
        if key not in ends:
            continue
        v.checked += 1
        if len(ends[key]) > 1:
            v.fail(
                f"{key[0]} at {key[1]}: finished {len(ends[key])} times under different event ids (an effect repeated)"
            )
        for (d, s, to), ids in sent.items():
            if (d, s) == key and len(ids) > 1:
                v.fail(f"{d} at {s}: sent to {to} {len(ids)} times under different event ids")
    if probe.duplicate is None:
        v.checked = 0  # without the duplicate delivery, nothing proves idempotence
        return
    dup = parse_event(probe.duplicate.value)
    key = (dup.dossier_id or "", str(dup.payload.get("to_step")))
    if key not in ends:
        v.fail(f"{key[0]} at {key[1]}: delivered twice by the check and never finished")


def _heartbeats(
    scene: Scene, lifecycle: list[tuple[Record, Event]], every_beat: list[tuple[Record, Event]], v: Verdict
) -> None:
    beats = sorted(r.published for r, e in lifecycle if e.type == AGENCY_HEARTBEAT)
    v.checked = 1
    for why in _beat_sequence_problems(scene, every_beat):
        v.fail(why)
    if not beats:
        v.fail(f"no agency.heartbeat from {scene.agency} in {scene.ended - scene.started:.0f} s")
        return
    limit = SILENCE_BEATS * scene.heartbeat_s
    marks = [scene.started, *beats, scene.ended]
    gaps = [(b - a, a) for a, b in itertools.pairwise(marks)]
    for gap, since in gaps:
        if gap > limit:
            v.fail(f"silent for {gap:.1f} s from {since - scene.started:.1f} s into the check (limit {limit:g} s)")


def _beat_sequence_problems(scene: Scene, lifecycle: list[tuple[Record, Event]]) -> list[str]:
    """Each instance's `seq`: 0 at its first beat of a fresh check, then one more at each beat,
    or 0 again after a restart."""
    last: dict[str, int] = {}
    problems: list[str] = []
    for _, e in sorted(lifecycle, key=lambda x: (x[0].published, x[0].offset)):
        if e.type != AGENCY_HEARTBEAT:
            continue
        instance, seq = str(e.payload.get("instance")), e.payload.get("seq")
        if not isinstance(seq, int) or seq < 0:
            problems.append(f"instance {instance}: heartbeat seq {seq!r}, the contract says an integer from 0")
            continue
        before = last.get(instance)
        if before is None and scene.fresh and seq != 0:
            problems.append(f"instance {instance}: first heartbeat seq {seq}, the contract says 0 at each start")
        elif before is not None and seq not in (before + 1, 0):
            problems.append(f"instance {instance}: heartbeat seq went {before} → {seq}, the contract says +1")
        last[instance] = seq
    return problems[:5]


def _commands(probe: Probe, v: Verdict) -> None:
    if probe.command_dossier is None:
        return
    v.checked = 1
    if probe.answer is None:
        v.fail(f"no answer to a republish of {probe.command_dossier} within {probe.answer_wait_s:.0f} s")


def _t(at: datetime) -> str:
    return at.isoformat(timespec="seconds")


__all__ = ["RULES", "Probe", "Record", "Scene", "Verdict", "judge"]
