"""Lost, or waiting behind the infrastructure? The positional evidence for a lost handoff. Pure.

A handoff whose receipt has not come within the link timeout is lost only if the receiver could
have read it: the receiver's consumer group has committed, on the partition of its work topic the
handoff went to, an offset at or past the end that partition had once the deadline passed. The
handoff was written there before its deadline (the sender wrote it together with the event copy
the monitor read), so that end lies past it, and a commit there means the receiver read it and
moved on without a receipt. A partition that holds nothing (or nothing but its primer) at that end
never got the handoff at all: lost too, whatever the receiver's state. Either way the verdict
waits until the monitor has read the dossier's partition of the event topic up to the end it had
when the receiver was first seen past the handoff, for a handoff sent before the broker lost a
log of that topic: a receipt the receiver wrote lies below that end, and one published again
after the crash comes long after its stamp, past the watermark's reach.

Until the broker shows that, the handoff waits behind something no dossier caused: a partition with
no leader, a consumer group that reads nothing or falls behind. Every handoff held at one partition
belongs to one infrastructure incident, opened with the first and closed when the last of them
flows again (its receipt came, or the receiver passed it and it is reported lost after all). A real
outage of one system then gives an operator one incident, not a storm of per-dossier alerts.

The faust adapter (streams/app.py, streams/broker.py) asks the broker for the positions of the
agencies that have held handoffs and hands them in as a `Snapshot`; `settle` answers with the lost
findings the evidence now allows and the incidents to open or close.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from aiokafka.partitioner import murmur2

from contracts.alerts import AlertKind
from streams.detect import Finding
from streams.signals import Incident

INFRASTRUCTURE = AlertKind.INFRASTRUCTURE
SHOWN = 20
"""Dossiers named in an incident's detail; the monitor's /healthz lists them all."""
OPEN_AFTER_S = 5.0
"""Real seconds a handoff stays held before its partition's incident opens: a receiver a message
or two behind for an instant is busy, not broken."""


def partition_of(dossier_id: str, partitions: int) -> int:
    """The partition a message keyed by this dossier goes to: murmur2 of the key, as the Java
    client computes it (the contract's partitioner, docs/integrating.md)."""
    hashed: int = murmur2(dossier_id.encode())
    return (hashed & 0x7FFFFFFF) % partitions


@dataclass(frozen=True)
class Position:
    """One partition of an agency's work topic, as the broker answered."""

    end: int
    committed: int | None
    """The highest offset any consumer group reading the topic committed there; None: none did."""
    leader: bool
    floor: int = 0
    """Where reading starts: 1 past a primer at offset 0 (runtime/primers.py), else 0."""

    @property
    def read_to(self) -> int:
        """The offset below which every message has been read (a partition never committed on has
        read nothing past its primer)."""
        return self.committed if self.committed is not None else self.floor


@dataclass(frozen=True)
class Snapshot:
    """The positions of some agencies' work topics, asked for at real time `taken` (monotonic)."""

    taken: float
    topics: Mapping[str, str]
    """Agency → its work topic (for the words of an incident)."""
    positions: Mapping[str, Mapping[int, Position]]
    """Agency → partition → position; an agency missing was not answered for."""
    events: Mapping[int, int | None] = field(default_factory=dict)
    """The event topic's end offset per partition (None: no leader), asked after the positions
    (empty: unknown)."""


@dataclass
class Held:
    finding: Finding
    agency: str
    since: float
    """Real time (monotonic) the finding fell due: only a snapshot asked for after it counts."""
    needed: int | None = None
    """The end of its partition in the first snapshot after `since`: the handoff lies below it."""
    read_needed: int | None = None
    """The end of the dossier's event partition when the receiver was first seen past the
    handoff: a receipt it wrote lies below it, and the monitor must have read that far."""


class Met(enum.Enum):
    NOT_HELD = "not held"
    FLOWED = "flowed"
    """Held behind the infrastructure, or received in time in the model: no finding."""
    LATE = "late"
    """Held, and received past its deadline with no incident to explain it: a late handoff."""


@dataclass(frozen=True)
class Settled:
    lost: list[Finding]
    """Findings the receiver has read past: lost after all."""
    incidents: list[Incident]


Place = tuple[str, int]


@dataclass
class Backlog:
    held: dict[tuple[str, str], Held] = field(default_factory=dict)
    """(dossier id, expectation key) → its held finding."""
    places: dict[tuple[str, str], Place] = field(default_factory=dict)
    """Held finding → the partition it waits at, once a snapshot named it."""
    open: dict[Place, set[str]] = field(default_factory=dict)
    """Partitions with an open incident → every dossier it has held."""
    lost_before: datetime | None = None
    """The sim time at which the broker was last found to have lost a log of the event topic: a
    handoff sent before it may have its receipt published again, long after its stamp."""

    def hold(self, f: Finding, agency: str, now: float) -> None:
        self.held[(f.dossier_id, f.expectation.key)] = Held(f, agency, now)

    def met(self, dossier_id: str, key: str, at: datetime | None) -> Met:
        """The receipt came, stamped `at` (when the handoff reached the receiver in the model;
        None: proven by a later event, the dossier's closing or a later step, at a time unknown).
        Held at a partition with an open infrastructure incident, the handoff flowed again: the
        incident explains its lateness. Otherwise a receipt stamped past the deadline is a late
        handoff, reported as such: the sender put it on the topic late (a delayed delivery), and
        at 16 times the speed its receipt could come before any look at the broker had judged it,
        and it would go unreported. A proof is no receipt time: after a broker crash, the
        receipt's copy published again may come after the dossier's closing, whose own time would
        make a handoff received in time look late."""
        k = (dossier_id, key)
        place = self.places.pop(k, None)
        held = self.held.pop(k, None)
        if held is None:
            return Met.NOT_HELD
        if at is not None and at > held.finding.expectation.due_at and place not in self.open:
            return Met.LATE
        return Met.FLOWED

    def forget(self, dossier_ids: set[str]) -> None:
        """Dossiers another worker follows now."""
        for k in [k for k in self.held if k[0] in dossier_ids]:
            del self.held[k]
            self.places.pop(k, None)

    def log_lost(self, at: datetime) -> None:
        """The broker lost a log of the event topic, found at sim time `at`. The ends seen before
        belong to the old log, and the monitor, reading the new one from its start, would wait for
        them in vain: they are taken again from the next look."""
        self.lost_before = at if self.lost_before is None else max(self.lost_before, at)
        for h in self.held.values():
            h.read_needed = None

    def busy(self) -> bool:
        """Whether a settle has anything to do: handoffs held, or an incident to close."""
        return bool(self.held or self.open)

    def agencies(self) -> set[str]:
        """The agencies whose positions the next settle needs."""
        return {h.agency for h in self.held.values()}

    def unsettled(self) -> int:
        """Held findings not yet judged lost, nor flowed: sim time waits for their verdict."""
        return len(self.held)

    def waiting(self) -> dict[str, list[str]]:
        """Each partition with held handoffs (`agency/partition`) → the dossiers held there."""
        out: dict[str, list[str]] = {}
        for k, (agency, p) in sorted(self.places.items()):
            out.setdefault(f"{agency}/{p}", []).append(k[0])
        return out

    def settle(self, snap: Snapshot, judged: datetime, read: Mapping[int, int] | None = None) -> Settled:
        """Judge the held handoffs by `snap`; `read` is how far the monitor has read each partition
        of the event topic (the next offset it will handle; None: not asked)."""
        lost: list[Finding] = []
        reasons: dict[Place, str] = {}
        for k, h in list(self.held.items()):
            parts = snap.positions.get(h.agency)
            if not parts or snap.taken < h.since:
                continue
            place = (h.agency, partition_of(h.finding.dossier_id, len(parts)))
            pos = parts.get(place[1])
            if pos is None:
                continue
            self.places[k] = place
            if not pos.leader:
                reasons[place] = f"{snap.topics[h.agency]}/{place[1]} has no leader"
                continue
            if h.needed is None:
                h.needed = pos.end
            # Read past it, or never written there (nothing past the primer): lost either way,
            # once the monitor has read its own log as far as a receipt could lie.
            if pos.read_to >= h.needed:
                if not self._read_far_enough(h, snap, read):
                    continue
                lost.append(h.finding)
                del self.held[k]
                del self.places[k]
                continue
            where = f"{snap.topics[h.agency]}/{place[1]}"
            reasons[place] = (
                f"no consumer group has committed on {where}, {pos.end - pos.floor} messages unread"
                if pos.committed is None
                else f"the consumers of {where} are {pos.end - pos.committed} messages behind"
            )
        return Settled(lost, self._incidents(reasons, judged, snap.taken))

    def _read_far_enough(self, h: Held, snap: Snapshot, read: Mapping[int, int] | None) -> bool:
        """Whether the monitor has read the dossier's event partition up to its end as it stood when
        the receiver was first seen past the handoff. The watermark makes that so for a receipt
        produced in time; but for a handoff sent before the broker lost its log, a receipt
        published again comes long after its stamp, and a verdict before it was read would call
        the handoff lost. Asked only of those: for the others it would only delay."""
        if self.lost_before is None or h.finding.expectation.opened_at > self.lost_before:
            return True
        if read is None or not snap.events:
            return True
        partition = partition_of(h.finding.dossier_id, len(snap.events))
        if h.read_needed is None:
            end = snap.events.get(partition)
            if end is None:
                return False  # no leader there: no evidence yet
            h.read_needed = end
        return read.get(partition, 0) >= h.read_needed

    def _incidents(self, reasons: Mapping[Place, str], judged: datetime, now: float) -> list[Incident]:
        here: dict[Place, list[Held]] = {}
        for k, place in self.places.items():
            here.setdefault(place, []).append(self.held[k])
        out = []
        for place, reason in sorted(reasons.items()):
            if place in self.open or place not in here:
                continue
            if now - min(h.since for h in here[place]) < OPEN_AFTER_S:
                continue
            held = sorted(here[place], key=lambda h: h.finding.detected_at)
            dossiers = _unique(h.finding.dossier_id for h in held)
            self.open[place] = set(dossiers)
            more = f" and {len(dossiers) - SHOWN} more" if len(dossiers) > SHOWN else ""
            named = ", ".join(dossiers[:SHOWN]) + more
            detail = f"{reason}; holding {len(dossiers)} dossiers: {named}"
            out.append(Incident(INFRASTRUCTURE, _subject(place), held[0].finding.detected_at, detail))
        for place in sorted(self.open):
            if place in here:
                self.open[place] |= {h.finding.dossier_id for h in here[place]}
                continue
            n = len(self.open.pop(place))
            out.append(Incident(INFRASTRUCTURE, _subject(place), judged, f"flowed again: {n} dossiers", opened=False))
        return out


def _subject(place: Place) -> str:
    return f"work:{place[0]}/{place[1]}"


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))
