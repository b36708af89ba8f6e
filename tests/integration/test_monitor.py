"""The monitor as it runs: a faust worker on the real broker and PostgreSQL, with residence left
out: the handoffs nobody reads are held under infrastructure incidents, and once a broken receiver
reads them without answering they are lost, with the timeline as evidence; nothing is raised
about the links that work."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest

from deploy.embedded import free_port
from streams.rules import default_rules
from tests.integration.conftest import Infra, dropping_reader, judged_past, monitor_process, running
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


def held_in(alert: dict[str, Any]) -> set[str]:
    """The dossiers an infrastructure incident names as held (its detail lists them)."""
    named = str(alert["detail"]).partition("dossiers: ")[2]
    return {d.strip() for d in named.split(",") if d.strip()}


async def until(check: Any, what: str, monitor: Any, tmp_path: Path, url: str) -> list[dict[str, Any]]:
    for _ in range(240):
        found = await alerts(url)
        if check(found):
            return found
        assert monitor.poll() is None, (tmp_path / "monitor.log").read_text()[-3000:]
        await asyncio.sleep(0.5)
    pytest.fail(f"{what} not in time: {found}\n{(tmp_path / 'monitor.log').read_text()[-3000:]}")


LINK_TIMEOUT = default_rules().link_timeout


async def until_events(url: str, ids: list[str], agency: str, timeout: float = 120) -> None:
    """Until the monitor stored a step.completed by `agency` for every dossier of `ids`."""
    conn = await asyncpg.connect(url)
    try:
        async with asyncio.timeout(timeout):
            while True:
                done = await conn.fetchval(
                    "SELECT count(DISTINCT dossier_id) FROM monitor.events WHERE type = 'step.completed' "
                    "AND agency = $1 AND dossier_id = ANY($2::text[])",
                    agency,
                    ids,
                )
                if done == len(ids):
                    return
                await asyncio.sleep(0.2)
    finally:
        await conn.close()


async def test_unread_handoffs_are_one_incident_per_partition_until_a_reader_passes_them_then_lost(
    infra: Infra, tmp_path: Path
) -> None:
    """Residence is left out: its handoffs wait past the link timeout with nobody reading them.
    That is no proof they are lost, so the monitor holds them under infrastructure incidents (one
    per partition of lt.work.cutru) and raises no lost alert. Then a broken receiver reads them in
    residence's group, commits and answers nothing: now the broker shows they were read, each is
    lost (with the timeline as evidence), and the incidents close."""
    async with running(infra, ["portal", "motcua", "hotich", "bhxh"], tmp_path) as stack:
        s = stack.settings
        url = s.database_url or ""
        port = free_port()
        with monitor_process(s, tmp_path, port) as monitor:
            async with aiohttp.ClientSession() as http:
                ids = await submit_births(http, stack, 3, seed=51)

            def all_held(found: list[dict[str, Any]]) -> bool:
                held = [a for a in found if a["kind"] == "infrastructure" and a["resolved_at"] is None]
                return set(ids) <= set().union(*(held_in(a) for a in held))

            found = await until(all_held, "infrastructure incidents holding every dossier", monitor, tmp_path, url)
            incidents = [a for a in found if a["kind"] == "infrastructure"]
            assert {a["subject"].rpartition("/")[0] for a in incidents} == {"work:cutru"}
            assert all("no consumer group has committed on" in a["detail"] for a in incidents), incidents
            assert [a for a in found if a["kind"] == "lost"] == []

            def all_lost(found: list[dict[str, Any]]) -> bool:
                return len([a for a in found if a["kind"] == "lost"]) >= 3 and all(
                    a["resolved_at"] is not None for a in found if a["kind"] == "infrastructure"
                )

            async with dropping_reader(s, "cutru") as read:
                await until(all_lost, "lost alerts once read past", monitor, tmp_path, url)
            assert read[0] >= 3
            # Nothing more may come on the working links: social security finished each dossier's
            # card, and the monitor judged every deadline up to a link timeout past that.
            await until_events(url, ids, "bhxh")
            await judged_past(port, s.clock().now() + LINK_TIMEOUT, monitor, tmp_path)
            found = await alerts(url)
    lost = [a for a in found if a["kind"] == "lost"]
    assert sorted(a["dossier_id"] for a in lost) == sorted(ids)
    assert {a["subject"] for a in lost} == {"link:hotich->cutru"}
    assert all(a["resolved_at"] is None for a in lost)
    for a in lost:
        assert a["opened_at"] > a["due_at"]
        evidence = json.loads(a["evidence"])
        assert evidence[0]["type"] == "dossier.submitted"
        assert any(e["type"] == "step.completed" and e["agency"] == "hotich" for e in evidence)
    closed = [a for a in found if a["kind"] == "infrastructure"]
    # Closed once every dossier it held went on (here: read past, and lost); it may have held more
    # than it named when it opened.
    for a in closed:
        n = int(str(a["resolved_how"]).removeprefix("flowed again: ").removesuffix(" dossiers"))
        assert n >= len(held_in(a)), a
    # The other branch (social security) and every earlier link worked: no alert names them.
    assert not [a for a in found if "bhxh" in a["subject"] or "motcua" in a["subject"]]
