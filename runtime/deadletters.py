"""Where an agency keeps what it refused, as it came, for a replay once the cause is fixed: the
port, its PostgreSQL adapter and an in-memory one for unit tests.

The dead-letter topic only carries a masked copy (contracts/deadletters.py); the original, with
its personal data, never leaves the agency's own database. One contract, tested once against both
adapters (`tests/integration/test_stores.py`): a kept letter is taken for a replay once (`take`
marks it replayed in the caller's transaction); asked again, it is `skipped`; an id the store
never kept is `missing`."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Protocol

from runtime.conn import Conn
from runtime.taskstore import Task


@dataclass(frozen=True)
class Refusal:
    """A message the agency cannot use, on its way to the dead-letter topic."""

    topic: str
    partition: int | None
    offset: int | None
    key: bytes | None
    value: bytes | None
    reason: str
    task: Task | None = None
    """A step that failed: its task, to put back on a replay (its handoff was taken in already)."""


@dataclass(frozen=True)
class Kept(Refusal):
    """A refusal as the agency keeps it, under the id of the letter it published."""

    letter_id: str = ""

    @classmethod
    def of(cls, refused: Refusal, letter_id: str) -> Kept:
        return cls(**{f.name: getattr(refused, f.name) for f in fields(Refusal)}, letter_id=letter_id)


@dataclass(frozen=True)
class Taken:
    fresh: list[Kept]
    skipped: list[str]
    """Replayed before: not again."""
    missing: list[str]


class DeadLetterStore(Protocol):
    async def keep(self, conn: Conn, letters: list[Kept]) -> None: ...

    async def take(self, conn: Conn, letter_ids: list[str]) -> Taken:
        """The letters to replay now, marked replayed; those replayed before; unknown ids."""
        ...


def task_json(t: Task) -> str:
    return json.dumps(
        {
            "event_id": t.event_id,
            "dossier_id": t.dossier_id,
            "received_at": t.received_at.isoformat(),
            "deadline": t.deadline.isoformat(),
            "plan": [[k, at.isoformat()] for k, at in t.plan],
            "next_idx": t.next_idx,
        }
    )


def task_of(doc: str, message: bytes) -> Task:
    d = json.loads(doc)
    return Task(
        event_id=d["event_id"],
        dossier_id=d["dossier_id"],
        message=message,
        received_at=datetime.fromisoformat(d["received_at"]),
        deadline=datetime.fromisoformat(d["deadline"]),
        plan=tuple((k, datetime.fromisoformat(at)) for k, at in d["plan"]),
        next_idx=d["next_idx"],
    )


def _uuids(ids: list[str]) -> tuple[list[uuid.UUID], list[str]]:
    """Well-formed ids as UUIDs, and the others (never kept, so missing)."""
    good, bad = [], []
    for i in ids:
        try:
            good.append(uuid.UUID(i))
        except ValueError:
            bad.append(i)
    return good, bad


@dataclass(frozen=True)
class PgDeadLetters:
    schema: str

    async def keep(self, conn: Conn, letters: list[Kept]) -> None:
        if letters:
            await conn.executemany(
                f'INSERT INTO {self.schema}.dead_letters (letter_id, topic, part, "offset", key, value, reason, task) '
                "VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb) ON CONFLICT (letter_id) DO NOTHING",
                [
                    (
                        uuid.UUID(k.letter_id),
                        k.topic,
                        k.partition,
                        k.offset,
                        k.key,
                        k.value,
                        k.reason,
                        task_json(k.task) if k.task else None,
                    )
                    for k in letters
                ],
            )

    async def take(self, conn: Conn, letter_ids: list[str]) -> Taken:
        good, bad = _uuids(letter_ids)
        rows = await conn.fetch(
            f'SELECT letter_id, topic, part, "offset", key, value, reason, task, replayed_at '
            f"FROM {self.schema}.dead_letters WHERE letter_id = ANY($1::uuid[]) ORDER BY kept_at FOR UPDATE",
            good,
        )
        fresh = [r for r in rows if r["replayed_at"] is None]
        await conn.execute(
            f"UPDATE {self.schema}.dead_letters SET replayed_at = now() WHERE letter_id = ANY($1::uuid[])",
            [r["letter_id"] for r in fresh],
        )
        found = {str(r["letter_id"]) for r in rows}
        return Taken(
            fresh=[
                Kept(
                    r["topic"],
                    r["part"],
                    r["offset"],
                    bytes(r["key"]) if r["key"] is not None else None,
                    bytes(r["value"]) if r["value"] is not None else None,
                    r["reason"],
                    task_of(r["task"], bytes(r["value"] or b"")) if r["task"] else None,
                    str(r["letter_id"]),
                )
                for r in fresh
            ],
            skipped=[str(r["letter_id"]) for r in rows if r["replayed_at"] is not None],
            missing=bad + [str(u) for u in good if str(u) not in found],
        )


@dataclass
class MemoryDeadLetters:
    """The same contract in a dict, for unit tests."""

    letters: dict[str, Kept] = field(default_factory=dict)
    replayed: set[str] = field(default_factory=set)

    async def keep(self, conn: Conn, letters: list[Kept]) -> None:
        for k in letters:
            self.letters.setdefault(str(uuid.UUID(k.letter_id)), k)

    async def take(self, conn: Conn, letter_ids: list[str]) -> Taken:
        good, bad = _uuids(letter_ids)
        ids = [str(u) for u in good]
        fresh_ids = [i for i in ids if i in self.letters and i not in self.replayed]
        skipped = [i for i in ids if i in self.replayed]
        self.replayed.update(fresh_ids)
        fresh = [self.letters[i] for i in fresh_ids]
        return Taken(fresh, skipped, bad + [i for i in ids if i not in self.letters])
