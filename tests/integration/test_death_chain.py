"""The death chain end to end on the real broker and database: civil status, residence removal,
and the burial payment by whichever payer covers the deceased; refusals propagate with a code."""

from __future__ import annotations

import random

import aiohttp
import asyncpg
import pytest

from contracts.topics import AGENCIES
from runtime.secrets import operator_headers
from simulation.scoring.verify import verify
from simulation.workload.baddata import spoil
from simulation.workload.citizens import CitizenFactory
from tests.integration.conftest import Agencies, Infra, running
from tests.integration.test_birth_chain import assert_results_typed, submit, wait_closed

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def stack(infra: Infra, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    async with running(infra, list(AGENCIES), tmp_path_factory.mktemp("death")) as agencies:
        yield agencies


async def test_death_dossiers_reach_the_right_payer_exactly_once(stack: Agencies) -> None:
    factory = CitizenFactory("042", seed=31)
    cases = {
        "two": factory.death_dossier(stack.today(), procedures=2, beneficiary="none"),
        "pensioner": factory.death_dossier(stack.today(), procedures=3, beneficiary="pensioner"),
        "merit": factory.death_dossier(stack.today(), procedures=3, beneficiary="merit"),
        "four": factory.death_dossier(stack.today(), procedures=4, beneficiary="insured"),
    }
    async with aiohttp.ClientSession() as http:
        ids = {}
        for name, doc in cases.items():
            status, body = await submit(http, stack.portal, doc)
            assert status == 202, body
            ids[name] = body["dossier_id"]
        states = await wait_closed(
            http, stack.portal, list(ids.values()), timeout=90, headers=operator_headers(stack.settings)
        )
    assert {s["status"] for s in states.values()} == {"completed"}
    assert_results_typed(states)
    assert set(states[ids["two"]]["results"]) == {"remove_residence"}
    assert set(states[ids["pensioner"]]["results"]) == {"remove_residence", "burial_allowance"}
    assert set(states[ids["merit"]]["results"]) == {"remove_residence", "burial_support"}
    assert set(states[ids["four"]]["results"]) == {"remove_residence", "burial_allowance", "survivor_benefit"}
    assert states[ids["pensioner"]]["results"]["burial_allowance"]["result"]["amount_vnd"] == 18_000_000
    conn = await asyncpg.connect(stack.settings.database_url)
    try:
        bhxh = {r["dossier_id"] for r in await conn.fetch("SELECT dossier_id FROM bhxh.burial_payments")}
        btxh = {r["dossier_id"] for r in await conn.fetch("SELECT dossier_id FROM btxh.burial_payments")}
        assert bhxh == {ids["pensioner"], ids["four"]}
        assert btxh == {ids["merit"]}
        assert await conn.fetchval("SELECT count(*) FROM cutru.residence_removals") == 4
    finally:
        await conn.close()
    result = await verify(stack.settings.database_url or "")
    assert result["violations"] == 0, result


async def test_a_second_dossier_for_the_same_death_is_refused_and_nothing_is_paid_twice(stack: Agencies) -> None:
    """Another relative reports the same death after the first dossier closed: the portal
    refuses the duplicate with a reason, and the burial allowance stays paid once."""
    doc = CitizenFactory("042", seed=32).death_dossier(stack.today(), procedures=3, beneficiary="pensioner")
    second = {**doc, "applicant": {**doc["applicant"], "full_name": "Lê Thị Hạnh"}}
    async with aiohttp.ClientSession() as http:
        _, first = await submit(http, stack.portal, doc)
        await wait_closed(http, stack.portal, [first["dossier_id"]], timeout=90)
        status, body = await submit(http, stack.portal, second)
    # Same subject while the first is completed: the portal refuses the duplicate at once.
    assert status == 409, body
    assert body["error"] == "duplicate_dossier"
    result = await verify(stack.settings.database_url or "")
    assert result["checks"]["burial_paid_more_than_once_per_death"] == 0


async def test_identity_mismatch_is_refused_by_civil_status_with_its_code(stack: Agencies) -> None:
    doc = spoil(
        CitizenFactory("042", seed=33).death_dossier(stack.today(), procedures=3, beneficiary="merit"),
        "identity_mismatch",
        random.Random(1),
    )
    async with aiohttp.ClientSession() as http:
        status, body = await submit(http, stack.portal, doc)
        assert status == 202, body
        states = await wait_closed(http, stack.portal, [body["dossier_id"]], timeout=90)
    state = states[body["dossier_id"]]
    assert state["status"] == "rejected"
    assert "population database" in state["reason"]
    rejected = [e for e in state["timeline"] if e["type"] == "step.rejected"]
    assert [(e["agency"], e["payload"]["code"]) for e in rejected] == [("hotich", "identity_mismatch")]
    # The refusal propagates: residence and the payer never start.
    assert not [e for e in state["timeline"] if e["agency"] in ("cutru", "btxh", "bhxh")]
