"""Redrive asks the owning agency to republish from its own outbox (admin commands on its work
topic, answers on the replies topic). After the embedded broker lost its log, the replay
publishes again what it had acknowledged, and nothing a fault dropped; a redrive publishes a
dropped handoff. Real broker, real PostgreSQL, a real agency."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import asyncpg
from aiokafka import AIOKafkaConsumer, TopicPartition

from contracts import topics
from contracts.clock import VN_TZ
from contracts.commands import COMMAND_HEADER, SIGNATURE_HEADER, Republish, Selected, sign
from contracts.envelope import Event, new_event
from runtime import outbox
from runtime.ask import Asking, ask
from runtime.kafka import AIOKafkaPublisher
from runtime.secrets import operator_token
from runtime.settings import Settings
from simulation.inflight import in_flight, replay_commands
from simulation.stranded import replay_stranded
from tests.integration.conftest import Infra, running


async def _published(conn: Any, dossier_id: str) -> int:
    """How many times the portal's relay published the work message of `dossier_id`."""
    n: int = await conn.fetchval(
        "SELECT count(*) FROM portal.outbox_sent s JOIN portal.outbox o USING (id) "
        "WHERE o.dossier_id = $1 AND o.topic LIKE '%.work.motcua'",
        dossier_id,
    )
    return n


async def _until(conn: Any, dossier_id: str, times: int, seconds: float = 30.0) -> None:
    ends = time.monotonic() + seconds
    while await _published(conn, dossier_id) != times:
        assert time.monotonic() < ends, f"{dossier_id} not published {times} times within {seconds} s"
        await asyncio.sleep(0.2)


def _handoffs() -> tuple[Event, Event]:
    at = datetime(2024, 3, 31, 19, 15, tzinfo=VN_TZ)
    payload = {"to": "motcua", "to_step": "intake", "dossier": {}}
    sent, dropped = (
        new_event("handoff.sent", "portal", at, dossier_id=d, chain="lltp", payload=payload)
        for d in ("D-SENT", "D-DROPPED")
    )
    return sent, dropped


async def test_the_owner_replays_what_the_broker_lost_and_redrives_what_a_fault_dropped(
    infra: Infra, tmp_path: Path
) -> None:
    async with running(infra, ["portal"], tmp_path) as stack:
        settings = stack.settings
        prefix = settings.topic_prefix
        work = topics.work("motcua", prefix)
        sent, dropped = _handoffs()
        conn = await asyncpg.connect(settings.database_url)
        try:
            async with conn.transaction():
                # The second handoff's work message is dropped by a fault: released never.
                await outbox.add(outbox.PgOutbox("portal"), conn, [(work, sent), (work, dropped)], {1: ()})
            await _until(conn, "D-SENT", 1)

            # The broker lost its log: in flight is what it acknowledged and the receiver has not
            # stored (by id), and the portal publishes that again, nothing a fault dropped.
            flights = await in_flight(conn, prefix, ["motcua"])
            assert [(f.dossier_id, f.event_id, f.subject) for f in flights] == [
                ("D-SENT", sent.event_id, "link:portal->motcua")
            ]
            # Asked of the portal, by id; its dead letters since the crash too (it has none).
            commands = replay_commands(prefix, ["portal"], flights, since=time.time())
            answers = await ask(infra.bootstrap, prefix, commands, settings.partitions, token=operator_token(settings))
            assert [d.queued for d in answers.values()] == [1, 0]
            await _until(conn, "D-SENT", 2)
            assert await _published(conn, "D-DROPPED") == 0

            # Once the receiver stored it, it is no longer in flight.
            await conn.execute(
                "CREATE SCHEMA IF NOT EXISTS motcua; CREATE TABLE IF NOT EXISTS motcua.inbox "
                "(event_id uuid PRIMARY KEY, dossier_id text, type text NOT NULL)"
            )
            await conn.execute(
                "INSERT INTO motcua.inbox VALUES ($1, 'D-SENT', 'handoff.sent')", uuid.UUID(sent.event_id)
            )
            assert await in_flight(conn, prefix, ["motcua"]) == []

            # A redrive of the dropped handoff: its sender publishes it; an id it never sent is
            # reported missing, not invented.
            unknown = str(uuid.uuid4())
            command = Republish(
                agency="portal",
                messages=(Selected(event_id=dropped.event_id, topic=work), Selected(event_id=unknown)),
            )
            answers = await ask(infra.bootstrap, prefix, [command], settings.partitions, token=operator_token(settings))
            assert answers[command.command_id].queued == 1
            assert answers[command.command_id].missing == (unknown,)
            await _until(conn, "D-DROPPED", 1)
        finally:
            await conn.close()


async def test_a_bad_admin_command_is_dead_lettered_and_the_agency_still_answers(infra: Infra, tmp_path: Path) -> None:
    async with running(infra, ["portal"], tmp_path) as stack:
        settings = stack.settings
        prefix = settings.topic_prefix
        asked = time.time()
        publisher = AIOKafkaPublisher(infra.bootstrap, client_id="it-bad-command")
        await publisher.start()
        try:
            token = operator_token(settings)

            def signed_by(token: str, value: bytes) -> list[tuple[str, bytes]]:
                return [(COMMAND_HEADER, b"1"), (SIGNATURE_HEADER, sign(token, value))]

            broken = b'{"command": "delete_everything"}'
            await publisher.publish(topics.work("portal", prefix), b"k", broken, signed_by(token, broken))
            elsewhere = Republish(agency="hotich", dossier_id="D-1").to_json()
            await publisher.publish(topics.work("portal", prefix), b"k", elsewhere, signed_by(token, elsewhere))
            # Whoever lacks the operator token cannot make an agency act.
            forged = Republish(agency="portal", dossier_id="D-1").to_json()
            await publisher.publish(topics.work("portal", prefix), b"k", forged, signed_by("guessed", forged))
            await publisher.publish(topics.work("portal", prefix), b"k", forged, [(COMMAND_HEADER, b"1")])
        finally:
            await publisher.stop()
        command = Republish(agency="portal", dossier_id="D-NONE")
        answers = await ask(infra.bootstrap, prefix, [command], settings.partitions, token=operator_token(settings))
        assert answers[command.command_id].queued == 0
        conn = await asyncpg.connect(settings.database_url)
        reasons: list[str] = []
        try:
            # The command may sit on another partition than the four letters (its key is its id):
            # its answer does not prove they were read first, so the letters are awaited, bounded.
            deadline = time.monotonic() + 30
            while len(reasons) < 4 and time.monotonic() < deadline:
                reasons = [
                    r["reason"]
                    for r in await conn.fetch(
                        "SELECT convert_from(value, 'UTF8')::jsonb ->> 'reason' AS reason FROM portal.outbox "
                        "WHERE topic = $1 ORDER BY id",
                        topics.dead_letter(prefix),
                    )
                ]
                if len(reasons) < 4:
                    await asyncio.sleep(0.2)
        finally:
            await conn.close()
        assert len(reasons) == 4, reasons
        assert reasons[0].startswith("admin command: $"), reasons
        assert reasons[1] == "admin command for hotich, not portal"
        assert reasons[2:] == ["admin command: not signed with the operator token"] * 2

        # After the broker lost its log, the portal publishes those dead letters again when asked.
        replay = replay_commands(prefix, ["portal"], [], since=asked)
        answers = await ask(infra.bootstrap, prefix, replay, settings.partitions, token=operator_token(settings))
        assert [d.queued for d in answers.values()] == [4]


async def test_a_replay_asked_below_an_agencys_read_position_is_sent_again_and_answered(
    infra: Infra, tmp_path: Path
) -> None:
    """The faults e2e run once lost a replay this way: the command went out while the portal was
    frozen, and the portal's consumer, keeping its read position across the broker's restart,
    read on from above it."""
    prefix = f"it{uuid.uuid4().hex[:8]}"
    command = Republish(agency="portal", dossier_id="D-NONE")
    work = topics.work("portal", prefix)
    token = operator_token(Settings(home=tmp_path))  # the one the portal will hold: the same home
    async with Asking(infra.bootstrap, prefix, 4, token) as early:
        await early.send([command])
    # The group's read position goes past the command, as a position kept across the crash would.
    reader = AIOKafkaConsumer(bootstrap_servers=infra.bootstrap, group_id=f"{prefix}.portal", enable_auto_commit=False)
    await reader.start()
    try:
        await reader.topics()
        owned = [TopicPartition(work, p) for p in sorted(reader.partitions_for_topic(work) or {0})]
        reader.assign(owned)
        ends = await reader.end_offsets(owned)
        assert sum(ends.values()) >= 1
        await reader.commit(dict(ends))
    finally:
        await reader.stop()
    async with running(infra, ["portal"], tmp_path, topic_prefix=prefix) as stack:
        async with Asking(infra.bootstrap, prefix, 4, token) as once:
            once.awaiting([command])  # the command already sent
            assert await once.collect(5.0) == {}, "the portal read below its position after all"
        answers = await ask(infra.bootstrap, prefix, [command], stack.settings.partitions, token=token)
        assert answers[command.command_id].queued == 0


async def test_a_message_marked_sent_after_the_crash_replay_listed_its_flights_is_asked_again(
    infra: Infra, tmp_path: Path
) -> None:
    """Regression: a relay frozen between the dead broker's acknowledgement and its sent mark
    committed the mark after the replay had listed what was in flight, and 18 births were never
    read. The mark is played here by hand: a row marked sent that the broker does not hold is
    stranded and its sender publishes it again; one the broker holds is left to its reader."""
    async with running(infra, ["portal"], tmp_path) as stack:
        settings = stack.settings
        work = topics.work("motcua", settings.topic_prefix)
        on_broker, lost = _handoffs()
        conn = await asyncpg.connect(settings.database_url)
        try:
            async with conn.transaction():
                await outbox.add(outbox.PgOutbox("portal"), conn, [(work, on_broker)])
            await _until(conn, "D-SENT", 1)
            # Acknowledged by a broker that died, marked only afterwards: kept, sent, on no broker.
            await conn.execute(
                "WITH kept AS (INSERT INTO portal.outbox (event_id, dossier_id, topic, key, value) "
                "VALUES ($1, $2, $3, $4, $5) RETURNING id) INSERT INTO portal.outbox_sent (id) SELECT id FROM kept",
                *outbox.records([(work, lost)])[0],
            )
            late = await replay_stranded(settings, infra.bootstrap, asked=[], answer_s=30.0)
            assert [(f.dossier_id, f.event_id, f.subject) for f in late] == [
                ("D-DROPPED", lost.event_id, "link:portal->motcua")
            ]
            await _until(conn, "D-DROPPED", 2)  # the hand-made mark and the real publication
            assert await _published(conn, "D-SENT") == 1
            # Asked for already by the first replay: not asked again.
            assert await replay_stranded(settings, infra.bootstrap, asked=late, answer_s=30.0) == []
        finally:
            await conn.close()
