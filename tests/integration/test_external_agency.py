"""An integrator swaps the residence simulator for their own system speaking the contract."""

from __future__ import annotations

import argparse
import asyncio
import threading
from datetime import datetime, timedelta
from pathlib import Path

import aiohttp
import asyncpg
import pytest

from contracts import topics
from contracts.clock import VN_TZ
from contracts.envelope import new_event
from contracts.event_types import DOSSIER_CLOSED, DOSSIER_SUBMITTED, STEP_COMPLETED
from lienthong.commands.outputs import cmd_contract_export
from lienthong.ui import Console
from lienthong.verify import verify
from runtime.kafka import AIOKafkaPublisher
from tests.integration.conftest import Infra, running
from tests.integration.standin_cutru import StandInResidence
from tests.integration.test_birth_chain import submit_births, wait_closed

pytestmark = pytest.mark.integration


async def test_external_residence_system_completes_birth_chains(infra: Infra, tmp_path: Path) -> None:
    async with running(infra, ["portal", "motcua", "hotich", "bhxh"], tmp_path) as stack:
        contract = tmp_path / "contract"
        cmd_contract_export(argparse.Namespace(out=contract), stack.settings, Console(quiet=True))
        standin = StandInResidence(contract, stack.settings.kafka_bootstrap or "", stack.settings.topic_prefix)
        thread = threading.Thread(target=standin.run, daemon=True)
        thread.start()
        try:
            async with aiohttp.ClientSession() as http:
                ids = await submit_births(http, stack, 5, seed=21)
                states = await wait_closed(http, stack.portal, ids, timeout=90)
        finally:
            standin.stop.set()
            await asyncio.to_thread(thread.join, 10)
        assert {s["status"] for s in states.values()} == {"completed"}
        assert set(standin.registered) == set(ids)
        for i in ids:
            assert states[i]["results"]["register_residence"]["result"]["personal_id"] == standin.registered[i]
        conn = await asyncpg.connect(stack.settings.database_url)
        try:
            # The simulator was left out: nothing was registered in its schema.
            assert await conn.fetchval("SELECT to_regclass('cutru.residence_registrations')") is None
        finally:
            await conn.close()
        result = await verify(stack.settings.database_url or "")
        assert result["violations"] == 0
        assert "birth_completed_without_exactly_one_residence" in result["skipped"]
        assert "birth_completed_without_exactly_one_personal_id" in result["checks"]


async def test_the_portal_answers_for_a_dossier_an_external_producer_submitted(infra: Infra, tmp_path: Path) -> None:
    """Regression: GET /api/v1/dossiers/{id} answered 404 for a dossier the portal had not taken in
    itself, while the dashboard showed it from the event log."""
    async with running(infra, ["portal"], tmp_path) as stack:
        prefix = stack.settings.topic_prefix
        at = datetime(2024, 3, 4, 9, 0, tzinfo=VN_TZ)
        dossier = "EXT-1"
        submitted = {"channel": "online", "procedures": [], "area": {"province": "42"}}
        events = [
            new_event(DOSSIER_SUBMITTED, "portal", at, dossier_id=dossier, chain="lltp", payload=submitted),
            new_event(
                STEP_COMPLETED,
                "lltp",
                at + timedelta(days=2),
                dossier_id=dossier,
                chain="lltp",
                step="issue_certificate",
                payload={"result": {"certificate_no": "42/2024/LLTP"}},
            ),
            new_event(
                DOSSIER_CLOSED,
                "portal",
                at + timedelta(days=3),
                dossier_id=dossier,
                chain="lltp",
                payload={"outcome": "completed"},
            ),
        ]
        publisher = AIOKafkaPublisher(infra.bootstrap, client_id="it-external-producer")
        await publisher.start()
        try:
            for e in events:
                await publisher.publish(topics.dossier_events(prefix), dossier.encode(), e.to_json())
        finally:
            await publisher.stop()
        async with aiohttp.ClientSession() as http:
            ends = asyncio.get_running_loop().time() + 30
            while True:
                async with http.get(f"{stack.portal}/api/v1/dossiers/{dossier}") as r:
                    body = await r.json()
                    if r.status == 200 and len(body["timeline"]) == 3:
                        break
                assert asyncio.get_running_loop().time() < ends, (r.status, body)
                await asyncio.sleep(0.3)
            async with http.get(f"{stack.portal}/api/v1/dossiers/NOT-KNOWN") as r:
                assert r.status == 404
                assert (await r.json())["error"] == "not_found"
        assert body["received_by_portal"] is False
        assert (body["chain"], body["status"], body["state_vi"]) == ("lltp", "completed", "Đã trả kết quả")
        assert body["results"]["issue_certificate"]["result"] == {"certificate_no": "42/2024/LLTP"}
        assert datetime.fromisoformat(body["submitted_at"]) == at
        assert [t["type"] for t in body["timeline"]] == [DOSSIER_SUBMITTED, STEP_COMPLETED, DOSSIER_CLOSED]
