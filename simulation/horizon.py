"""How far sim time may go: the last moment proven done, plus a window (pure).

A governed run's clock never runs more than `window` past the latest sim time `t` for which every
agency has shown that nothing due at or before `t` is left: sim time moves on evidence of
progress, never on a warning of a fault. The evidence (runtime/progress.py), asked of every agency
process twice, one round after the other, with `t` read before the first round:
- every process answers both rounds, as the same instance (a restart proves nothing);
- in each round it has no unread message, none in hand, nothing due at or before `t`, and each
  agency's processes own every partition of its work topic between them;
- its counts (processed, published, task batches) did not change between the rounds, so no
  message moved while the rounds were asked: one sent after an answer was read shows in the
  sender's counts, one taken after it in the receiver's;
- the workload has posted every submission planned at or before `t` and had its answer.

Within the window the agencies work through what falls due as fast as they can, stamping each
event with its model time: a stamp trails the clock by less than the window, which is below the
stamping bound, so no stamp is clamped. The monitor judges deadlines a whole bound behind the
clock (streams/watermark.py), so never past a moment not yet proven. A process killed, frozen
(SIGSTOP), cut off from the broker, or an agency behind a partition without a leader simply fails
to prove its part: sim time stops at the window's end and waits, however long the fault lasts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from deploy.processes import process_of

WINDOW_SHARE = 0.8
"""The window as a share of the stamping bound (in sim seconds: bound × the run's speed). A stamp
trails the clock by less than the window, so any share below 1 clamps none; 0.8 leaves a fifth
of the bound spare, and a wider window means fewer proofs (the measured gain: docs/performance.md,
ADR 0022)."""
SUBMISSIONS = "submissions"
"""The holder's name when the workload has not posted everything due."""


@dataclass(frozen=True)
class Proof:
    proven: bool
    holders: tuple[str, ...]
    """Who kept `t` from being proven, with why (empty when proven)."""


def _due(value: Any, t: datetime) -> bool:
    if value is None:
        return False
    return value == "now" or datetime.fromisoformat(str(value)) <= t


def _blocker(body: Mapping[str, Any], t: datetime) -> str | None:
    if not body.get("ready", False):
        return "not ready"
    if body.get("unread") is None:
        return "no answer from the broker"
    if int(body["unread"]) > 0:
        return f"{body['unread']} unread"
    if int(body.get("in_hand", 0)) > 0:
        return f"{body['in_hand']} in hand"
    if _due(body.get("next_due"), t):
        return "work due"
    return None


def prove(
    t: datetime,
    first: Mapping[str, Mapping[str, Any]],
    second: Mapping[str, Mapping[str, Any]],
    expected: set[str],
    submissions: datetime | None,
) -> Proof:
    """Whether everything due at or before `t` is done (see the module docstring). `first` and
    `second` are the processes' /progress bodies by name (the silent ones left out), `expected`
    every agency process's name, `submissions` the time of the earliest submission not yet
    answered (None: all were)."""
    holders: list[str] = []
    for name in sorted(expected):
        a, b = first.get(name), second.get(name)
        if a is None or b is None:
            holders.append(f"{name}: no answer")
            continue
        if a.get("instance") != b.get("instance") or a.get("counts") != b.get("counts"):
            holders.append(f"{name}: working")
            continue
        why = _blocker(a, t) or _blocker(b, t)
        if why is not None:
            holders.append(f"{name}: {why}")
    for agency, owned in _coverage(second).items():
        if owned is not None:
            holders.append(f"{agency}: partitions {owned} unowned")
    if submissions is not None and submissions <= t:
        holders.append(f"{SUBMISSIONS}: not all posted")
    return Proof(not holders, tuple(holders))


def quiet_until(bodies: Mapping[str, Mapping[str, Any]], submissions: datetime | None) -> datetime | None:
    """The earliest sim time at which anything is due next, by the processes' /progress bodies
    and the workload's next submission (None: nothing is known to come). Pure."""
    times = [
        datetime.fromisoformat(str(b["next_due"])) for b in bodies.values() if b.get("next_due") not in (None, "now")
    ]
    if any(b.get("next_due") == "now" for b in bodies.values()):
        return None
    if submissions is not None:
        times.append(submissions)
    return min(times, default=None)


def _coverage(bodies: Mapping[str, Mapping[str, Any]]) -> dict[str, list[int] | None]:
    """Per agency, the partitions of its work topic no process of it owns (None: all owned)."""
    owned: dict[str, set[int]] = {}
    total: dict[str, int] = {}
    for name, body in bodies.items():
        agency = process_of(name)
        owned.setdefault(agency, set()).update(int(p) for p in body.get("owned") or ())
        total[agency] = max(total.get(agency, 0), int(body.get("total") or 0))
    result: dict[str, list[int] | None] = {}
    for agency, have in owned.items():
        missing = sorted(set(range(total[agency])) - have)
        result[agency] = missing or None
    return result
