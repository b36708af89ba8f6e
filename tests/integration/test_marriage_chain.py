"""The marriage liaison end to end on the real broker and database: the commune the partner lives
in confirms their marital status, then the applicant's commune registers the marriage; across two
communes, across two provinces, and refused when the partner is married or too young."""

from __future__ import annotations

import random
from typing import Any

import aiohttp
import pytest

from contracts.identity import Sex, generate_personal_id
from simulation.scoring.verify import verify
from simulation.workload.citizens import CitizenFactory
from tests.integration.conftest import Agencies, Infra, running
from tests.integration.test_birth_chain import assert_results_typed, submit, wait_closed

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def stack(infra: Infra, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    async with running(infra, ["portal", "motcua", "hotich"], tmp_path_factory.mktemp("marriage")) as agencies:
        yield agencies


def steps_by(state: dict[str, Any]) -> list[tuple[str, str]]:
    return [(e["agency"], e["step"]) for e in state["timeline"] if e["type"] == "step.completed"]


async def test_a_marriage_across_two_communes_and_one_across_two_provinces_are_registered(stack: Agencies) -> None:
    factory = CitizenFactory("042", seed=41)
    communes = factory.marriage_dossier(stack.today(), partner_lives="commune")
    provinces = factory.marriage_dossier(stack.today(), partner_lives="province", other_province="008")
    async with aiohttp.ClientSession() as http:
        ids = {}
        for name, doc in (("communes", communes), ("provinces", provinces)):
            status, body = await submit(http, stack.portal, doc)
            assert status == 202, body
            ids[name] = body["dossier_id"]
        states = await wait_closed(http, stack.portal, list(ids.values()))
    assert_results_typed(states)
    for name, doc in (("communes", communes), ("provinces", provinces)):
        state = states[ids[name]]
        assert state["status"] == "completed", state
        assert steps_by(state) == [
            ("motcua", "intake"),
            ("hotich", "confirm_marital_status"),
            ("hotich", "register_marriage"),
        ]
        results = state["results"]
        assert set(results) == {"register_marriage"}
        confirmed = next(
            e["payload"]["result"]
            for e in state["timeline"]
            if e["type"] == "step.completed" and e["step"] == "confirm_marital_status"
        )
        # Confirmed where the partner lives, registered where the applicant does.
        assert confirmed["commune"] == doc["partner"]["residence"]["commune"]
        assert results["register_marriage"]["result"]["commune"] == doc["area"]["commune"]
        assert confirmed["commune"] != doc["area"]["commune"]
    assert provinces["partner"]["residence"]["province"] == "008"
    assert communes["partner"]["residence"]["province"] == "042"
    result = await verify(stack.settings.database_url or "")
    assert result["violations"] == 0, result
    assert result["checks"]["marriage_completed_without_exactly_one_marriage"] == 0


async def test_a_married_partner_and_an_under_age_one_are_refused_with_their_codes(stack: Agencies) -> None:
    factory = CitizenFactory("042", seed=43)
    first = factory.marriage_dossier(stack.today(), partner_lives="commune")
    again = factory.marriage_dossier(stack.today(), partner_lives="commune")
    again["partner"] = first["partner"]  # the same partner, already married by the first dossier
    young = factory.marriage_dossier(stack.today(), partner_lives="same")
    sixteen = stack.today().year - 16
    sex = Sex(young["partner"]["sex"])
    young["partner"]["birth_year"] = sixteen
    young["partner"]["personal_id"] = generate_personal_id("042", sex, sixteen, random.Random(43))
    async with aiohttp.ClientSession() as http:
        status, body = await submit(http, stack.portal, first)
        assert status == 202, body
        married = body["dossier_id"]
        await wait_closed(http, stack.portal, [married])
        ids = {}
        for name, doc in (("again", again), ("young", young)):
            status, body = await submit(http, stack.portal, doc)
            assert status == 202, body
            ids[name] = body["dossier_id"]
        states = await wait_closed(http, stack.portal, list(ids.values()))
    refused = {name: next(e for e in states[i]["timeline"] if e["type"] == "step.rejected") for name, i in ids.items()}
    assert {n: s["status"] for n, s in ((n, states[i]) for n, i in ids.items())} == {
        "again": "rejected",
        "young": "rejected",
    }
    assert (refused["again"]["step"], refused["again"]["payload"]["code"]) == ("confirm_marital_status", "married")
    assert (refused["young"]["step"], refused["young"]["payload"]["code"]) == ("register_marriage", "not_eligible")
    assert "under" in refused["young"]["payload"]["reason"]
    result = await verify(stack.settings.database_url or "")
    assert result["violations"] == 0, result
    assert result["checks"]["married_twice"] == 0
