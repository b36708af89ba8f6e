"""Regression: on Apache Kafka the asker read partition 0 of the replies topic only. Its consumer,
with no subscription, never learned the topic's partitions, fell back to partition 0 after 10 s,
and every answer on the other partitions was lost: the console's redrive on the compose layout
said "no answer" from agencies whose logs said "admin command carried out". The asker now reads
every partition, and hears an answer on each of them, on both brokers."""

from __future__ import annotations

import uuid

import pytest
from aiokafka import AIOKafkaProducer

from contracts import topics
from contracts.commands import Done, Republish
from runtime.ask import Asking
from tests.integration.conftest import Infra

pytestmark = [pytest.mark.integration, pytest.mark.parametrize("infra", ["tansu", "kafka"], indirect=True)]
PARTITIONS = 4


async def test_the_asker_hears_an_answer_on_every_partition_of_the_replies_topic(infra: Infra) -> None:
    prefix = f"ask{uuid.uuid4().hex[:6]}"
    replies = topics.admin_replies(prefix)
    commands = [Republish(agency="cutru", dossier_id=str(uuid.uuid4())) for _ in range(PARTITIONS)]
    async with Asking(infra.bootstrap, prefix, PARTITIONS) as asking:
        asking.awaiting(commands)
        producer = AIOKafkaProducer(bootstrap_servers=infra.bootstrap)
        await producer.start()
        try:
            assert len(await producer.partitions_for(replies)) == PARTITIONS
            for partition, command in enumerate(commands):  # one answer on each partition
                done = Done(command_id=command.command_id, agency="cutru", queued=partition, missing=())
                await producer.send_and_wait(
                    replies, done.to_json(), key=command.command_id.encode(), partition=partition
                )
        finally:
            await producer.stop()
        got = await asking.collect(timeout_s=15)
    assert {c.command_id for c in commands} == set(got)
    assert sorted(d.queued for d in got.values()) == list(range(PARTITIONS))
