"""`lienthong dlq`: what the consumers refused, by reason, and the replay of what was fixed.

The dead-letter topic is read from its beginning, with no consumer group (reading changes
nothing). A letter (contracts/deadletters.py) never carries personal data; the original stays
with the agency that refused it, and a replay asks that agency, by the admin command `replay`
on its work topic, to apply its kept originals again. The agency applies each letter at most
once however often it is asked, so a replay may be repeated; a letter refused again comes back
as a new letter with its new reason. The monitor's letters are not replayable: the producer of
the refused event publishes it again.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TypedDict

from contracts import topics
from contracts.commands import Replay
from contracts.deadletters import Letter, parse_letter
from contracts.errors import ContractError
from runtime.ask import ANSWER_S, ask
from runtime.reading import read_to_end
from runtime.topicadmin import ensure_topics


@dataclass
class Letters:
    letters: list[Letter] = field(default_factory=list)
    unreadable: int = 0
    """Messages on the topic that are not letters (another producer's)."""


async def read(bootstrap: str, prefix: str, partitions: int, timeout_s: float = 30.0) -> Letters:
    """Every letter on the dead-letter topic, oldest first per partition."""
    topic = topics.dead_letter(prefix)
    await ensure_topics(bootstrap, [topic], partitions)
    out = Letters()
    for r in await read_to_end(bootstrap, [topic], "lienthong-dlq", timeout_s):
        try:
            out.letters.append(parse_letter(r.value or b""))
        except ContractError:
            out.unreadable += 1
    return out


class ReasonRow(TypedDict):
    """Dead letters of one agency and reason."""

    agency: str
    reason: str
    letters: int
    replayable: bool
    ids: list[str]


def by_reason(letters: Iterable[Letter]) -> list[ReasonRow]:
    """One row per agency and reason: how many, whether they can be replayed, their ids."""
    groups: dict[tuple[str, str], list[Letter]] = {}
    for lt in letters:
        groups.setdefault((lt.agency, lt.reason), []).append(lt)
    return [
        {
            "agency": agency,
            "reason": reason,
            "letters": len(found),
            "replayable": found[0].replayable,
            "ids": [lt.letter_id for lt in found],
        }
        for (agency, reason), found in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    ]


def select(letters: Iterable[Letter], ids: Iterable[str] = (), reason: str | None = None) -> list[Letter]:
    """The letters named by id, or whose reason contains `reason` (case ignored)."""
    wanted = set(ids)
    needle = reason.casefold() if reason else None
    return [lt for lt in letters if lt.letter_id in wanted or (needle is not None and needle in lt.reason.casefold())]


class ReplayedView(TypedDict):
    asked: int
    replayed: int
    skipped: int
    missing: list[str]
    not_replayable: list[str]
    no_answer: list[str]


@dataclass
class Replayed:
    asked: int = 0
    replayed: int = 0
    skipped: int = 0
    """Replayed before: applied once, not again."""
    missing: list[str] = field(default_factory=list)
    not_replayable: list[str] = field(default_factory=list)
    no_answer: list[str] = field(default_factory=list)
    """Agencies that did not answer in time (down, or an integrator's system without commands)."""

    def as_dict(self) -> ReplayedView:
        return {
            "asked": self.asked,
            "replayed": self.replayed,
            "skipped": self.skipped,
            "missing": self.missing,
            "not_replayable": self.not_replayable,
            "no_answer": self.no_answer,
        }


async def replay(
    bootstrap: str,
    prefix: str,
    partitions: int,
    chosen: list[Letter],
    timeout_s: float = ANSWER_S,
    token: str | None = None,
) -> Replayed:
    """Ask each agency to replay its letters among `chosen` (commands signed with `token`)."""
    out = Replayed(asked=len(chosen))
    by_agency: dict[str, list[str]] = {}
    for lt in chosen:
        if not lt.replayable or lt.agency not in topics.AGENCIES:
            out.not_replayable.append(lt.letter_id)
        else:
            by_agency.setdefault(lt.agency, []).append(lt.letter_id)
    commands = [Replay(agency=a, letters=tuple(ids)) for a, ids in sorted(by_agency.items())]
    answers = await ask(bootstrap, prefix, list(commands), partitions, timeout_s, token=token) if commands else {}
    for c in commands:
        done = answers.get(c.command_id)
        if done is None:
            out.no_answer.append(c.agency)
            continue
        out.replayed += done.queued
        out.skipped += len(done.skipped)
        out.missing += list(done.missing)
    return out
