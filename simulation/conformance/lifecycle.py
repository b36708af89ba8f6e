"""The conformance rules on a step's lifecycle: the order of its events, the states its chain
declares, where its handoffs went, and the two copies of each handoff (pure)."""

from __future__ import annotations

from collections import defaultdict

from contracts.envelope import Event
from contracts.event_types import (
    HANDOFF_RECEIVED,
    HANDOFF_SENT,
    STEP_COMPLETED,
    STEP_REJECTED,
    STEP_STARTED,
    STEP_STATE,
)
from simulation.conformance.scene import Record, Scene, Verdict


def who(e: Event) -> str:
    return f"{e.dossier_id or e.agency} {e.type}" + (f" at {e.step}" if e.step else "")


def sequences(scene: Scene, received: list[Event], lifecycle: list[tuple[Record, Event]], v: Verdict) -> None:
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
            why = _states_problem(scene, handoff, events)
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


def _states_problem(scene: Scene, handoff: Event, events: list[Event]) -> str | None:
    """A completed step passed through every intermediate state its chain declares (a refusal
    may end it before them)."""
    if not any(e.type == STEP_COMPLETED for e in events):
        return None
    try:
        declared = scene.chains[handoff.chain or ""].step(str(handoff.payload.get("to_step")))
    except KeyError:
        return None
    missing = declared.missing_states(str(e.payload.get("state")) for e in events if e.type == STEP_STATE)
    if missing:
        return f"completed without step.state {', '.join(missing)}, which the chain declares for the step"
    return None


ROUTING_FIELDS = ("to", "to_step", "next", "outcome", "reason", "code", "via")


def copies(mine: list[tuple[Record, Event]], events_topic: str, v: Verdict) -> None:
    """Each `handoff.sent` has its two copies: on the receiver's work topic with `dossier` and
    `results`, and on the event topic without them (no personal data there) but with the same
    `event_id`, `occurred_at`, `trace_id` and routing fields."""
    work = {e.event_id: e for r, e in mine if r.topic != events_topic and e.type == HANDOFF_SENT}
    for r, e in mine:
        if r.topic != events_topic or e.type != HANDOFF_SENT:
            continue
        v.checked += 1
        carried = [k for k in ("dossier", "results") if k in e.payload]
        if carried:
            v.fail(f"{who(e)}: the event-topic copy carries {', '.join(carried)} (personal data stays on work topics)")
            continue
        twin = work.get(e.event_id)
        if twin is None:
            v.fail(f"{who(e)}: no work-topic copy with event_id {e.event_id}")
            continue
        differs = [k for k in ROUTING_FIELDS if e.payload.get(k) != twin.payload.get(k)]
        differs += [k for k in ("occurred_at", "trace_id") if getattr(e, k) != getattr(twin, k)]
        if differs:
            v.fail(f"{who(e)}: the two copies differ in {', '.join(differs)}")


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
