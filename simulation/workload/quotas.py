"""Shares as quotas: which dossiers have an attribute (returned by post, exempt from the fee,
needing verification…) when a profile's counts must come out exact, not drawn.

Per flow and attribute, the n-th dossier asked about has it when ⌊n × share⌋ passes the count
given so far: of the first n, exactly ⌊n × share⌋ have it. A report that counts any first run of
a flow's dossiers then holds the share to the dossier (Tuyên Quang's 231 of 435 by post). The
share is read as the simplest fraction within 1/10,000 of it, so 0.5310344827586207 is 77/145.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction


@dataclass
class Quotas:
    seen: dict[tuple[str, str], int] = field(default_factory=dict)
    given: dict[tuple[str, str], int] = field(default_factory=dict)

    def take(self, chain: str, attribute: str, share: float) -> bool:
        """Whether the next dossier of `chain` asked about `attribute` has it."""
        p = Fraction(str(share)).limit_denominator(10_000)
        key = (chain, attribute)
        n = self.seen[key] = self.seen.get(key, 0) + 1
        if n * p.numerator // p.denominator > self.given.get(key, 0):
            self.given[key] = self.given.get(key, 0) + 1
            return True
        return False
