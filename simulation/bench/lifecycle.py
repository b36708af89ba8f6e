"""Synthetic lifecycle events for benchmarks: a birth chain's events as the services write them,
for any number of dossiers, without running the services."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta

from contracts.clock import VN_TZ
from contracts.envelope import Event, new_event
from contracts.event_types import (
    DOSSIER_CLOSED,
    DOSSIER_SUBMITTED,
    HANDOFF_RECEIVED,
    HANDOFF_SENT,
    RESULT_SYNCED,
    STEP_COMPLETED,
    STEP_STARTED,
)

START = datetime(2024, 3, 4, 8, 0, tzinfo=VN_TZ)


def submitted(dossier_id: str, at: datetime) -> list[Event]:
    """A dossier just submitted and handed to the one-stop desk, which received it: three open
    expectations (the dossier's appointment date, the intake step's SLA; the handoff met)."""
    sent = new_event(
        HANDOFF_SENT,
        "portal",
        at,
        dossier_id=dossier_id,
        chain="birth",
        payload={"to": "motcua", "to_step": "intake"},
    )
    return [
        new_event(
            DOSSIER_SUBMITTED,
            "portal",
            at,
            dossier_id=dossier_id,
            chain="birth",
            payload={
                "channel": "online",
                "procedures": [],
                "area": {"province": "042", "district": "Huyện Can Lộc", "commune": "Xã Tùng Lộc"},
                "due_at": (at + timedelta(days=5)).isoformat(),
            },
        ),
        sent,
        new_event(
            HANDOFF_RECEIVED,
            "motcua",
            at + timedelta(minutes=1),
            dossier_id=dossier_id,
            chain="birth",
            step="intake",
            payload={"from": "portal", "sent_event_id": sent.event_id},
        ),
    ]


_TEMPLATE = submitted("template", START)[:2]


def awaiting_intake(dossier_id: str, at: datetime) -> list[Event]:
    """A dossier submitted and handed to the one-stop desk, not yet acknowledged: two open
    expectations (the handoff's acknowledgement, the dossier's appointment date). Copies of a
    validated template: building a million of these must not be the benchmark."""
    shift = at - START
    due = (datetime.fromisoformat(_TEMPLATE[0].payload["due_at"]) + shift).isoformat()
    return [
        replace(
            _TEMPLATE[0],
            event_id=str(uuid.uuid4()),
            dossier_id=dossier_id,
            occurred_at=at,
            payload={**_TEMPLATE[0].payload, "due_at": due},
        ),
        replace(_TEMPLATE[1], event_id=str(uuid.uuid4()), dossier_id=dossier_id, occurred_at=at),
    ]


def birth_chain(dossier_id: str, at: datetime) -> list[Event]:
    """Every event of one birth chain that ends well (about 20)."""
    out = submitted(dossier_id, at)
    t = at + timedelta(minutes=1)
    route = [
        ("motcua", "intake", "hotich", "register_birth"),
        ("hotich", "register_birth", "cutru", "register_residence"),
    ]
    for agency, step, to, to_step in route:
        t += timedelta(hours=1)
        out.append(new_event(STEP_STARTED, agency, t, dossier_id=dossier_id, chain="birth", step=step))
        out.append(new_event(STEP_COMPLETED, agency, t, dossier_id=dossier_id, chain="birth", step=step))
        sent = new_event(
            HANDOFF_SENT,
            agency,
            t,
            dossier_id=dossier_id,
            chain="birth",
            step=step,
            payload={"to": to, "to_step": to_step},
        )
        out.append(sent)
        out.append(
            new_event(
                HANDOFF_RECEIVED,
                to,
                t + timedelta(minutes=2),
                dossier_id=dossier_id,
                chain="birth",
                step=to_step,
                payload={"from": agency, "sent_event_id": sent.event_id},
            )
        )
    t += timedelta(hours=3)
    out.append(new_event(STEP_COMPLETED, "cutru", t, dossier_id=dossier_id, chain="birth", step="register_residence"))
    back = new_event(
        HANDOFF_SENT,
        "cutru",
        t,
        dossier_id=dossier_id,
        chain="birth",
        step="register_residence",
        payload={"to": "portal", "to_step": "result", "outcome": "completed"},
    )
    out.append(back)
    out.append(
        new_event(
            HANDOFF_RECEIVED,
            "portal",
            t + timedelta(minutes=1),
            dossier_id=dossier_id,
            chain="birth",
            step="result",
            payload={"from": "cutru", "sent_event_id": back.event_id},
        )
    )
    out.append(
        new_event(
            RESULT_SYNCED,
            "portal",
            t + timedelta(minutes=1),
            dossier_id=dossier_id,
            chain="birth",
            payload={"outcome": "completed"},
        )
    )
    out.append(
        new_event(
            DOSSIER_CLOSED,
            "portal",
            t + timedelta(minutes=1),
            dossier_id=dossier_id,
            chain="birth",
            payload={"outcome": "completed"},
        )
    )
    return out


def chains(n: int, start: datetime = START) -> Iterator[Event]:
    for i in range(n):
        yield from birth_chain(str(uuid.uuid4()), start + timedelta(seconds=30 * i))
