"""Bad input inside the stack, on the real embedded broker and PostgreSQL: malformed bytes, another
schema version, an unknown event type, an oversized message and a handoff for a step the agency
does not have, given to an agency and to the monitor. Each becomes a dead letter with its reason
and without personal data, the consumers keep running, `lienthong dlq` lists the letters by
reason, and a replay is answered once per letter however often it is asked."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiokafka import AIOKafkaProducer

from contracts import topics
from contracts.clock import VN_TZ
from contracts.envelope import MAX_EVENT_BYTES, new_event
from contracts.event_types import HANDOFF_SENT
from deploy.embedded import free_port
from ops import dlq
from runtime.secrets import operator_token
from simulation.workload.citizens import CitizenFactory
from tests.integration.conftest import Infra, monitor_process, running
from tests.integration.test_birth_chain import submit, wait_closed

pytestmark = pytest.mark.integration

PERSONAL_ID = "042190001234"
FULL_NAME = "Nguyễn Thị Dead Letter"


def handoff(to_step: str) -> bytes:
    from datetime import datetime

    return new_event(
        HANDOFF_SENT,
        "hotich",
        datetime(2024, 3, 4, 9, tzinfo=VN_TZ),
        dossier_id="D-DLQ-1",
        chain="birth",
        payload={
            "to": "cutru",
            "to_step": to_step,
            "dossier": {"child": {"full_name": FULL_NAME}, "mother": {"personal_id": PERSONAL_ID}},
            "results": {},
            "next": [],
        },
    ).to_json()


def bad_inputs() -> dict[str, bytes]:
    good = json.loads(handoff("register_residence"))
    return {
        "not valid JSON": b"{not json " + PERSONAL_ID.encode(),
        "schema_version": json.dumps({**good, "schema_version": 99}).encode(),
        "type": json.dumps({**good, "type": "dossier.exploded"}).encode(),
        "larger than the contract's limit": b'{"pad": "' + b"x" * (MAX_EVENT_BYTES + 10) + b'"}',
        "has no step 'register_marriage'": handoff("register_marriage"),
    }


async def letters_until(bootstrap: str, prefix: str, partitions: int, n: int) -> list[Any]:
    for _ in range(60):
        found = await dlq.read(bootstrap, prefix, partitions, timeout_s=10)
        if len(found.letters) >= n:
            return found.letters
        await asyncio.sleep(0.5)
    return found.letters


async def test_bad_input_becomes_masked_letters_consumers_carry_on_a_replay_counts_once_monitor_metrics_answer(
    infra: Infra, tmp_path: Path
) -> None:
    async with running(infra, ["portal", "motcua", "hotich", "cutru", "bhxh"], tmp_path) as stack:
        s = stack.settings
        port = free_port()
        with monitor_process(s, tmp_path, port) as monitor:
            producer = AIOKafkaProducer(bootstrap_servers=s.kafka_bootstrap, acks="all", max_request_size=2**21)
            await producer.start()
            try:
                for value in bad_inputs().values():
                    await producer.send_and_wait(topics.work("cutru", s.topic_prefix), value, key=b"D-DLQ-1")
                await producer.send_and_wait(topics.dossier_events(s.topic_prefix), b"\x00\xff", key=b"D-DLQ-2")
            finally:
                await producer.stop()
            letters = await letters_until(s.kafka_bootstrap or "", s.topic_prefix, s.partitions, 6)
            assert monitor.poll() is None, (tmp_path / "monitor.log").read_text()[-3000:]

            # One letter per bad input, each with its reason; the monitor's is not replayable.
            by_agency = {lt.agency for lt in letters}
            assert by_agency == {"cutru", "monitor"}
            reasons = [lt.reason for lt in letters if lt.agency == "cutru"]
            for expected in bad_inputs():
                assert sum(expected in r for r in reasons) == 1, (expected, reasons)
            (mine,) = [lt for lt in letters if lt.agency == "monitor"]
            assert (mine.replayable, mine.size, mine.value) == (False, 2, None)
            # No personal data on the topic: the letters are masked, the originals stay with cutru.
            raw = json.dumps([lt.model_dump() for lt in letters], ensure_ascii=False)
            assert PERSONAL_ID not in raw
            assert FULL_NAME not in raw
            step = next(lt for lt in letters if "register_marriage" in lt.reason)
            assert step.value["payload"]["dossier"]["child"]["full_name"] == "N. T. D. L."

            rows = dlq.by_reason(letters)
            assert sum(r["letters"] for r in rows) == len(letters)

            # A replay (nothing was fixed: it is refused again, as a new letter), then the same
            # replay again: skipped, never applied twice.
            chosen = dlq.select(letters, reason="register_marriage")
            bootstrap, token = s.kafka_bootstrap or "", operator_token(s)
            first = await dlq.replay(bootstrap, s.topic_prefix, s.partitions, chosen, 30, token)
            assert (first.replayed, first.skipped, first.no_answer) == (1, 0, [])
            again = await dlq.replay(bootstrap, s.topic_prefix, s.partitions, chosen, 30, token)
            assert (again.replayed, again.skipped) == (0, 1)
            monitors = await dlq.replay(bootstrap, s.topic_prefix, s.partitions, [mine], 5, token)
            assert monitors.not_replayable == [mine.letter_id]
            after = await letters_until(s.kafka_bootstrap or "", s.topic_prefix, s.partitions, len(letters) + 1)
            assert sum("register_marriage" in lt.reason for lt in after) == 2

            await the_monitors_metrics_answer(port)

            # The consumers carried on: a birth dossier still goes through cutru to the end.
            async with aiohttp.ClientSession() as http:
                _, body = await submit(http, stack.portal, CitizenFactory("042", seed=71).birth_dossier(stack.today()))
                states = await wait_closed(http, stack.portal, [body["dossier_id"]])
            assert states[body["dossier_id"]]["status"] == "completed"


async def the_monitors_metrics_answer(port: int) -> None:
    """Regression: the monitor's /metrics answered 500 (aiohttp refused the Prometheus content
    type's charset as a content_type argument), so no scrape ever saw its counters."""
    async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}/metrics") as r:
        assert r.status == 200, await r.text()
        assert r.headers["Content-Type"].startswith("text/plain")
        assert "lienthong_open_alerts" in await r.text()
