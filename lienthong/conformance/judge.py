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
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from contracts.chains import Chain
from contracts.clock import SimClock
from contracts.commands import COMMAND_HEADER, Done
from contracts.envelope import Event, parse_event
from contracts.errors import ContractError
from contracts.event_types import (
    AGENCY_HEARTBEAT,
    HANDOFF_RECEIVED,
    HANDOFF_SENT,
    STEP_COMPLETED,
    STEP_REJECTED,
    STEP_STARTED,
    STEP_STATE,
)
from contracts.partitioning import partition_of
from contracts.topics import PRIMER_HEADER
from contracts.validation import validate

RULES = ("schema", "partitioner", "sequence", "results", "stamping", "idempotence", "heartbeat", "commands")
"""The rules judged, in the order they are reported (ids of contracts/normative.py)."""
SHOWN = 5
"""Failures listed per rule."""
FUTURE_TOLERANCE_S = 0.5
"""Real seconds an event may run ahead of the publishing clock: every process reads the clock's
changes within its lead (runtime/clockfile.py), so a stamp this close is not in the future."""
CLOCK_SKEW_S = 1.0
"""Real seconds a message's broker timestamp may precede the check's start and still be its own."""
SILENCE_BEATS = 3
"""Heartbeats missed in a row that the monitor reads as the agency being down."""


@dataclass(frozen=True)
class Record:
    topic: str
    partition: int
    offset: int
    timestamp_ms: int
    key: bytes | None
    value: bytes
    headers: tuple[tuple[str, bytes], ...] = ()

    @property
    def primer(self) -> bool:
        return any(k == PRIMER_HEADER for k, _ in self.headers)

    @property
    def command(self) -> bool:
        return any(k == COMMAND_HEADER for k, _ in self.headers)

    @property
    def published(self) -> float:
        return self.timestamp_ms / 1000


@dataclass(frozen=True)
class Probe:
    """What the check did to the system."""

    duplicate: Record | None = None
    """A work message delivered to the agency twice (the second copy sent by the check)."""
    command_dossier: str | None = None
    answer: Done | None = None
    """The agency's answer to a `republish` of `command_dossier`, if one came."""
    answer_wait_s: float = 0.0


@dataclass
class Verdict:
    rule: str
    checked: int = 0
    failures: list[str] = field(default_factory=list)
    failed: int = 0

    def fail(self, why: str) -> None:
        """Count a failure; list it among the first SHOWN distinct ones."""
        self.failed += 1
        if len(self.failures) < SHOWN and why not in self.failures:
            self.failures.append(why)

    @property
    def passed(self) -> bool:
        return self.failed == 0 and self.checked > 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "passed": self.passed,
            "checked": self.checked,
            "failed": self.failed,
            "failures": self.failures or ([] if self.checked else ["nothing to judge"]),
        }


@dataclass(frozen=True)
class Scene:
    """What the judge needs to know about the stack."""

    agency: str
    events_topic: str
    work_topic: str
    partitions: dict[str, int]
    chains: dict[str, Chain]
    clock: SimClock
    bound_s: float
    heartbeat_s: float
    dossiers: frozenset[str]
    started: float
    ended: float


def judge(scene: Scene, records: Iterable[Record], probe: Probe) -> list[Verdict]:
    verdicts = {r: Verdict(r) for r in RULES}
    mine: list[tuple[Record, Event]] = []
    received: list[Event] = []
    for r in records:
        if r.primer or r.command:  # commands are judged by their answers (rule "commands")
            continue
        if r.published < scene.started - CLOCK_SKEW_S:
            continue  # before the check (a stack kept from an earlier check)
        event, problem = _decode(r)
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
    _sequences(scene, received, lifecycle, verdicts["sequence"])
    _results(scene, lifecycle, verdicts["results"])
    _stamping(scene, lifecycle, verdicts["stamping"])
    _idempotence(scene, received, lifecycle, probe, verdicts["idempotence"])
    _heartbeats(scene, lifecycle, verdicts["heartbeat"])
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


def _who(e: Event) -> str:
    return f"{e.dossier_id or e.agency} {e.type}" + (f" at {e.step}" if e.step else "")


def _partitions(scene: Scene, mine: list[tuple[Record, Event]], v: Verdict) -> None:
    for r, e in mine:
        v.checked += 1
        key = (e.dossier_id or e.agency).encode()
        if r.key != key:
            v.fail(f"{_who(e)} on {r.topic}: keyed {r.key!r}, the contract says {key!r}")
            continue
        n = scene.partitions.get(r.topic)
        if n and r.partition != partition_of(key, n):
            v.fail(
                f"{_who(e)} on {r.topic}: partition {r.partition}, murmur2 says {partition_of(key, n)} of {n} "
                "(confluent-kafka: set partitioner=murmur2_random)"
            )


def _sequences(scene: Scene, received: list[Event], lifecycle: list[tuple[Record, Event]], v: Verdict) -> None:
    by_step: dict[tuple[str, str], list[tuple[Record, Event]]] = defaultdict(list)
    for r, e in lifecycle:
        if e.dossier_id and e.step:
            by_step[(e.dossier_id, e.step)].append((r, e))
    asked: dict[tuple[str, str], Event] = {}
    for h in received:
        asked.setdefault((h.dossier_id or "", str(h.payload.get("to_step"))), h)
    for (dossier, step), handoff in sorted(asked.items()):
        v.checked += 1
        events = _first_of_each(by_step.get((dossier, step), []))
        why = _order_problem([e.type for e in events])
        if why is None:
            why = _routing_problem(handoff, [e for e in events if e.type == HANDOFF_SENT])
        if why is not None:
            v.fail(f"{dossier} at {step}: {why}")


def _first_of_each(found: list[tuple[Record, Event]]) -> list[Event]:
    """One step's events in `occurred_at` order, each kind once (a handoff once per route, every
    state): a repeat is idempotence's business, not the sequence's."""
    seen: set[tuple[str, ...]] = set()
    out: list[Event] = []
    for _, e in sorted(found, key=lambda x: (x[1].occurred_at, x[0].offset)):
        kind: tuple[str, ...] = (e.type,)
        if e.type == HANDOFF_SENT:
            kind = (e.type, str(e.payload.get("to")), str(e.payload.get("to_step")))
        elif e.type == STEP_STATE:
            kind = (e.type, e.event_id)
        elif e.type in (STEP_COMPLETED, STEP_REJECTED):
            kind = ("end",)
        if kind not in seen:
            seen.add(kind)
            out.append(e)
    return out


def _order_problem(types: list[str]) -> str | None:
    """What is wrong with one step's events, in `occurred_at` order (None: right)."""
    expected = [HANDOFF_RECEIVED, STEP_STARTED]
    for i, t in enumerate(expected):
        if t not in types:
            return f"no {t}"
        if types.index(t) != i:
            return f"{t} came after {types[types.index(t) - 1]}, the contract says {' → '.join(expected[: i + 1])}"
    ends = [i for i, t in enumerate(types) if t in (STEP_COMPLETED, STEP_REJECTED)]
    if not ends:
        return "neither step.completed nor step.rejected"
    between = set(types[2 : ends[0]]) - {STEP_STATE}
    if between:
        return f"{', '.join(sorted(between))} between step.started and the step's end"
    after = types[ends[0] + 1 :]
    if any(t != HANDOFF_SENT for t in after):
        return f"{', '.join(t for t in after if t != HANDOFF_SENT)} after the step's end"
    if not after:
        return "no handoff.sent after the step's end"
    return None


def _routing_problem(handoff: Event, sent: list[Event]) -> str | None:
    """Whether the handoffs went where the received `next` said (the portal on a refusal)."""
    outcomes = {e.payload.get("outcome") for e in sent}
    if outcomes == {"rejected"}:
        wanted = {("portal", "result")}
    else:
        wanted = {(str(r.get("agency")), str(r.get("step"))) for r in handoff.payload.get("next") or []}
    got = {(str(e.payload.get("to")), str(e.payload.get("to_step"))) for e in sent}
    if got != wanted:
        return f"sent to {sorted(got)}, `next` said {sorted(wanted)}"
    return None


def _results(scene: Scene, lifecycle: list[tuple[Record, Event]], v: Verdict) -> None:
    for _, e in lifecycle:
        if e.type != STEP_COMPLETED or not e.chain or not e.step or e.chain not in scene.chains:
            continue
        v.checked += 1
        try:
            schema = scene.chains[e.chain].step(e.step).result_schema()
        except KeyError:
            v.fail(f"{_who(e)}: the chain {e.chain} has no step {e.step}")
            continue
        problems = validate(e.payload.get("result"), schema, "$.payload.result")
        if problems:
            v.fail(f"{_who(e)}: " + "; ".join(f"{p.field} {p.reason}" for p in problems[:3]))


def _stamping(scene: Scene, lifecycle: list[tuple[Record, Event]], v: Verdict) -> None:
    for r, e in lifecycle:
        v.checked += 1
        ahead = scene.clock.at(r.published + FUTURE_TOLERANCE_S)
        if e.occurred_at > ahead:
            v.fail(f"{_who(e)}: stamped {_t(e.occurred_at)}, in the future (the clock showed {_t(ahead)})")
            continue
        # The monitor judges a deadline once the clock minus the bound has passed it.
        judged = scene.clock.at(r.published - scene.bound_s)
        if judged > e.occurred_at:
            v.fail(
                f"{_who(e)}: stamped {_t(e.occurred_at)} but published when the monitor had judged up to "
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


def _heartbeats(scene: Scene, lifecycle: list[tuple[Record, Event]], v: Verdict) -> None:
    beats = sorted(r.published for r, e in lifecycle if e.type == AGENCY_HEARTBEAT)
    v.checked = 1
    if not beats:
        v.fail(f"no agency.heartbeat from {scene.agency} in {scene.ended - scene.started:.0f} s")
        return
    limit = SILENCE_BEATS * scene.heartbeat_s
    marks = [scene.started, *beats, scene.ended]
    gaps = [(b - a, a) for a, b in itertools.pairwise(marks)]
    for gap, since in gaps:
        if gap > limit:
            v.fail(f"silent for {gap:.1f} s from {since - scene.started:.1f} s into the check (limit {limit:g} s)")


def _commands(probe: Probe, v: Verdict) -> None:
    if probe.command_dossier is None:
        return
    v.checked = 1
    if probe.answer is None:
        v.fail(f"no answer to a republish of {probe.command_dossier} within {probe.answer_wait_s:.0f} s")


def _t(at: datetime) -> str:
    return at.isoformat(timespec="seconds")
