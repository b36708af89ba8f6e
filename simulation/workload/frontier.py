"""Which submissions the workload still owes: the driver's part of a governed clock's proof.

The driver posts each planned submission once the clock reaches its time, and the clock may
move past a moment only once every submission planned up to it was posted and answered
(simulation/horizon.py). `through()` is the sim time of the earliest one not yet answered.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Generic, Protocol, TypeVar


class Timed(Protocol):
    @property
    def at(self) -> datetime: ...


P = TypeVar("P", bound=Timed)


@dataclass
class Frontier(Generic[P]):
    planned: Sequence[P]
    """In order of their time."""
    _next: int = 0
    _open: dict[int, datetime] = field(default_factory=dict)
    """Taken and not yet answered: by id, the sim time each waits for or was posted at."""
    _after: dict[int, P] = field(default_factory=dict)
    """Open copies, by id, and the submission each repeats."""

    def take(self) -> Iterator[P]:
        """The planned submissions, one at a time, each open until `answered`."""
        while self._next < len(self.planned):
            p = self.planned[self._next]
            self._next += 1
            self._open[id(p)] = p.at
            yield p

    def waits_until(self, p: P, at: datetime) -> None:
        """`p` is posted again at `at` (the portal was down)."""
        self._open[id(p)] = at

    def waits_for(self, p: P, original: P) -> None:
        """`p` repeats `original` and is posted only once that is answered: while `original` is
        open, `p` is owed no earlier than it (a copy planned inside a portal outage once held sim
        time short of the outage's end, where its deferred original waited: the run hung)."""
        self._after[id(p)] = original

    def answered(self, p: P) -> None:
        self._open.pop(id(p), None)
        self._after.pop(id(p), None)

    def through(self) -> datetime | None:
        upcoming = [self.planned[self._next].at] if self._next < len(self.planned) else []
        owed = []
        for key, at in self._open.items():
            original = self._after.get(key)
            if original is not None and id(original) in self._open:
                at = max(at, self._open[id(original)])
            owed.append(at)
        return min([*owed, *upcoming], default=None)
