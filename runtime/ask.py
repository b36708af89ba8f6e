"""Asking agencies to act (contracts/commands.py): send the commands on their work topics and
collect the answers from the replies topic, for at most a given time.

The replies topic is read from its end as it was before the first command went out, with no
consumer group: every asker sees every answer and keeps those to its own commands."""

from __future__ import annotations

import time
from collections.abc import Sequence

import structlog
from aiokafka import AIOKafkaConsumer, TopicPartition

from contracts import topics
from contracts.commands import COMMAND_HEADER, SIGNATURE_HEADER, Command, Done, parse_done, sign
from contracts.errors import ContractError
from runtime import kafkaaccess
from runtime.kafka import AIOKafkaPublisher
from runtime.topicadmin import ensure_topics

log = structlog.get_logger()

ANSWER_S = 30.0
"""Real seconds to wait for the answers by default: an agency in a simulated outage, or whose
group is rejoining after a broker restart, answers once it reads its work topic again."""


ROUNDS = 3
"""Times a command still unanswered is sent again. A consumer that kept its read position
across a broker that lost its log reads on from that offset of the new log and skips what lies
below it; a command sent again goes to the end of the log, past any such position."""


class Asking:
    """One round of questions: `open` (the replies are read from here on), `send` commands, then
    `collect` the answers. `send` and `collect` are apart so the asker can do something between
    them: the chaos harness sends while the agencies are frozen and collects once they run."""

    def __init__(self, bootstrap: str, prefix: str, partitions: int, token: str | None = None) -> None:
        self._token = token
        """The operator token the commands are signed with (an agency refuses unsigned ones)."""
        self._bootstrap = bootstrap
        self._prefix = prefix
        self._partitions = partitions
        self._reader = AIOKafkaConsumer(
            bootstrap_servers=bootstrap, enable_auto_commit=False, client_id="lienthong-ask", **kafkaaccess.options()
        )
        self._publisher = AIOKafkaPublisher(bootstrap, client_id="lienthong-ask")
        self._wanted: set[str] = set()
        self._got: dict[str, Done] = {}

    async def __aenter__(self) -> Asking:
        replies = topics.admin_replies(self._prefix)
        try:
            # A broker that cannot be reached fails here: the reader is closed all the same (left
            # open, its finaliser complained after every refused redrive).
            await ensure_topics(self._bootstrap, [replies], self._partitions)
            await self._publisher.start()
            await self._reader.start()
            # The partitions come from the producer's metadata request for the topic: a consumer
            # with no subscription never learns them on Apache Kafka, and reading partition 0
            # alone lost every answer on the others (the console's redrive said "no answer").
            owned = [TopicPartition(replies, p) for p in sorted(await self._publisher.partitions_for(replies))]
            self._reader.assign(owned)
            await self._reader.seek_to_end(*owned)
            for tp in owned:
                await self._reader.position(tp)  # resolve "the end" now, before any answer can exist
        except BaseException:
            await self._publisher.stop()
            await self._reader.stop()
            raise
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self._publisher.stop()
        await self._reader.stop()

    async def send(self, commands: Sequence[Command]) -> None:
        await ensure_topics(self._bootstrap, {topics.work(c.agency, self._prefix) for c in commands}, self._partitions)
        for c in commands:
            value = c.to_json()
            headers = [(COMMAND_HEADER, b"1")]
            if self._token:
                headers.append((SIGNATURE_HEADER, sign(self._token, value)))
            await self._publisher.publish(topics.work(c.agency, self._prefix), c.command_id.encode(), value, headers)
        self.awaiting(commands)

    def awaiting(self, commands: Sequence[Command]) -> None:
        """Collect the answers to these too (sent earlier, by another asker)."""
        self._wanted.update(c.command_id for c in commands)

    async def answers(
        self, commands: Sequence[Command], timeout_s: float = ANSWER_S, rounds: int = ROUNDS
    ) -> dict[str, Done]:
        """The answers to `commands` (already sent), sending again those still unanswered after
        each of `rounds` equal parts of `timeout_s`. Sending twice is harmless: the agency
        queues a row only if it is not waiting already, and answers once (runtime/commands.py)."""
        got: dict[str, Done] = {}
        for n in range(rounds):
            got = await self.collect(timeout_s / rounds)
            unanswered = [c for c in commands if c.command_id not in got]
            if not unanswered:
                break
            if n < rounds - 1:
                await self.send(unanswered)
        return {c.command_id: got[c.command_id] for c in commands if c.command_id in got}

    async def collect(self, timeout_s: float = ANSWER_S) -> dict[str, Done]:
        """Every answer to the commands sent so far, waiting for the missing ones at most `timeout_s`."""
        answers = self._got
        ends = time.monotonic() + timeout_s
        while self._wanted - answers.keys() and time.monotonic() < ends:
            batches = await self._reader.getmany(timeout_ms=200)
            for record in (r for rs in batches.values() for r in rs):
                try:
                    done = parse_done(record.value)
                except ContractError as exc:
                    log.warning("unreadable answer on the replies topic", offset=record.offset, error=str(exc))
                    continue
                if done.command_id in self._wanted:
                    answers[done.command_id] = done
        return dict(answers)


async def ask(
    bootstrap: str,
    prefix: str,
    commands: Sequence[Command],
    partitions: int,
    timeout_s: float = ANSWER_S,
    rounds: int = ROUNDS,
    token: str | None = None,
) -> dict[str, Done]:
    """Send `commands`, signed with `token`; returns the answers that came within `timeout_s`,
    by command id (`Asking.answers`)."""
    if not commands:
        return {}
    async with Asking(bootstrap, prefix, partitions, token) as asking:
        await asking.send(commands)
        return await asking.answers(commands, timeout_s, rounds)
