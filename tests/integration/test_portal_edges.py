"""The real portal's edge against a client that sends too much: over its share of requests it
gets 429 with a JSON reason and Retry-After, and what it sent is not stored; the submitter token's
holder (the workload, a gateway) is not limited; a body over the cap gets 413 with a JSON reason.
The portal keeps serving throughout."""

from __future__ import annotations

import json
from pathlib import Path

import aiohttp
import asyncpg
import pytest

from runtime.secrets import submitter_headers
from simulation.workload.citizens import CitizenFactory
from tests.integration.conftest import Infra, running

pytestmark = pytest.mark.integration


async def test_a_client_over_its_share_is_told_to_wait_and_nothing_it_sent_is_stored(
    infra: Infra, tmp_path: Path
) -> None:
    async with running(
        # One request per 100 s past a burst of 3: no token comes back while the test runs, however
        # slow the machine (the limiter's refill under a moving clock is a unit test with a fake one).
        infra,
        ["portal"],
        tmp_path,
        portal_rate_limit=0.01,
        portal_rate_burst=3,
        max_body_bytes=4096,
    ) as stack:
        factory = CitizenFactory("042", seed=31)
        url = f"{stack.portal}/api/v1/dossiers"
        conn = await asyncpg.connect(stack.settings.database_url)
        try:
            async with aiohttp.ClientSession() as http:
                answers = []
                for _ in range(5):
                    async with http.post(url, json=factory.birth_dossier(stack.today())) as r:
                        answers.append((r.status, await r.json(), r.headers.get("Retry-After")))
                assert [a[0] for a in answers] == [202, 202, 202, 429, 429]
                _, refused, retry_after = answers[3]
                assert refused["error"] == "rate_limited"
                assert refused["retry_after_s"] >= 1
                assert retry_after == str(refused["retry_after_s"])
                assert "requests a second from this client" in refused["problems"][0]["reason"]
                assert await conn.fetchval("SELECT count(*) FROM portal.dossiers") == 3

                # The workload's token: not limited, while the anonymous client still is.
                token = submitter_headers(stack.settings)
                for _ in range(4):
                    async with http.post(url, json=factory.birth_dossier(stack.today()), headers=token) as r:
                        assert r.status == 202, await r.text()
                assert await conn.fetchval("SELECT count(*) FROM portal.dossiers") == 7

                big = factory.birth_dossier(stack.today())
                big["note"] = "x" * 5000
                async with http.post(url, data=json.dumps(big), headers=token) as r:
                    assert r.status == 413
                    body = await r.json()
                assert body["error"] == "body_too_large"
                assert "4096 bytes" in body["problems"][0]["reason"]
                assert await conn.fetchval("SELECT count(*) FROM portal.dossiers") == 7

                async with http.get(f"{stack.portal}/healthz") as r:
                    assert r.status == 200  # still serving, and probes are never limited
        finally:
            await conn.close()
