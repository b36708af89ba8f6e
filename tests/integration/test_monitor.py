"""The monitor as it runs: a faust worker on the real broker and PostgreSQL catches dossiers that
residence never receives (the simulator is left out and nothing takes its place), with the
timeline as evidence, and raises nothing about the links that work."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest

from tests.integration.conftest import Infra, monitor_process, running
from tests.integration.test_birth_chain import submit_births

pytestmark = [pytest.mark.integration, pytest.mark.parametrize("infra", ["kafka"], indirect=True)]
"""On the Apache Kafka cluster; on the embedded broker the same loss (a residence handoff never
received) is tests/integration/test_faults.py's `residence-never-receives`, judged by the scorer."""


async def alerts(url: str) -> list[dict[str, Any]]:
    conn = await asyncpg.connect(url)
    try:
        if not await conn.fetchval("SELECT to_regclass('monitor.alerts') IS NOT NULL"):
            return []
        return [dict(r) for r in await conn.fetch("SELECT * FROM monitor.alerts ORDER BY id")]
    finally:
        await conn.close()


async def test_monitor_raises_one_lost_alert_per_dossier_residence_never_received(infra: Infra, tmp_path: Path) -> None:
    async with running(infra, ["portal", "motcua", "hotich", "bhxh"], tmp_path) as stack:
        s = stack.settings
        with monitor_process(s, tmp_path) as monitor:
            async with aiohttp.ClientSession() as http:
                ids = await submit_births(http, stack, 3, seed=51)
            lost: list[dict[str, Any]] = []
            for _ in range(240):
                found = await alerts(s.database_url or "")
                lost = [a for a in found if a["kind"] == "lost"]
                if len(lost) >= 3:
                    break
                assert monitor.poll() is None, (tmp_path / "monitor.log").read_text()[-3000:]
                await asyncio.sleep(0.5)
            else:
                pytest.fail(f"no lost alerts in time: {found}\n{(tmp_path / 'monitor.log').read_text()[-3000:]}")
            await asyncio.sleep(2)  # a little longer: nothing more may come on the working links
            found = await alerts(s.database_url or "")
    lost = [a for a in found if a["kind"] == "lost"]
    assert sorted(a["dossier_id"] for a in lost) == sorted(ids)
    assert {a["subject"] for a in lost} == {"link:hotich->cutru"}
    assert all(a["resolved_at"] is None for a in lost)
    for a in lost:
        assert a["opened_at"] > a["due_at"]
        evidence = json.loads(a["evidence"])
        assert evidence[0]["type"] == "dossier.submitted"
        assert any(e["type"] == "step.completed" and e["agency"] == "hotich" for e in evidence)
    # The other branch (social security) and every earlier link worked: no alert names them.
    assert not [a for a in found if "bhxh" in a["subject"] or "motcua" in a["subject"]]
