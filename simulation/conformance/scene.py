"""What the conformance judge reads and answers: the messages as the broker holds them, what the
check did to the system, the stack it ran on, and a verdict per rule (pure data)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from contracts.chains import Chain
from contracts.clock import SimClock
from contracts.commands import COMMAND_HEADER, Done
from contracts.topics import PRIMER_HEADER

SHOWN = 5
"""Failures listed per rule."""


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
    fresh: bool = True
    """The system was started for this check (its heartbeats count from 0); False on a kept stack."""
