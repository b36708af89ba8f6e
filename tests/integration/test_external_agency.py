"""An integrator swaps the residence simulator for their own system speaking the contract."""

from __future__ import annotations

import argparse
import asyncio
import threading
from pathlib import Path

import aiohttp
import asyncpg
import pytest

from lienthong.commands.outputs import cmd_contract_export
from lienthong.ui import Console
from lienthong.verify import verify
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
