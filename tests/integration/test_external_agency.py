"""What the portal says of a dossier an external producer submitted. (An integrator's own residence
system replacing the simulator: tests/e2e/test_conformance.py.)"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from pathlib import Path

import aiohttp
import pytest

from contracts import topics
from contracts.clock import VN_TZ
from contracts.envelope import new_event
from contracts.event_types import DOSSIER_CLOSED, DOSSIER_SUBMITTED, STEP_COMPLETED
from runtime.kafka import AIOKafkaPublisher
from tests.integration.conftest import Infra, running

pytestmark = pytest.mark.integration


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
