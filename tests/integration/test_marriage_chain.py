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


async def test_marriages_across_two_communes_and_two_provinces_and_the_refusals_with_their_codes(
    stack: Agencies,
) -> None:
    """All submitted at once (the suite's time): two that must be registered, two for the same
    partner (whichever is registered first, the other is refused: the partner is married), and
    one whose partner is too young."""
    factory = CitizenFactory("042", seed=41)
    today = stack.today()
    communes = factory.marriage_dossier(today, partner_lives="commune")
    provinces = factory.marriage_dossier(today, partner_lives="province", other_province="008")
    first = factory.marriage_dossier(today, partner_lives="commune")
    again = factory.marriage_dossier(today, partner_lives="commune")
    again["partner"] = first["partner"]
    young = factory.marriage_dossier(today, partner_lives="same")
    sixteen = today.year - 16
    young["partner"]["birth_year"] = sixteen
    young["partner"]["personal_id"] = generate_personal_id(
        "042", Sex(young["partner"]["sex"]), sixteen, random.Random(43)
    )
    docs = {"communes": communes, "provinces": provinces, "first": first, "again": again, "young": young}
    async with aiohttp.ClientSession() as http:
        ids = {}
        for name, doc in docs.items():
            status, body = await submit(http, stack.portal, doc)
            assert status == 202, body
            ids[name] = body["dossier_id"]
        states = await wait_closed(http, stack.portal, list(ids.values()))
    assert_results_typed(states)
    for name in ("communes", "provinces"):
        state, doc = states[ids[name]], docs[name]
        assert state["status"] == "completed", state
        assert steps_by(state) == [
            ("motcua", "intake"),
            ("hotich", "confirm_marital_status"),
            ("hotich", "register_marriage"),
        ]
        assert set(state["results"]) == {"register_marriage"}
        confirmed = next(
            e["payload"]["result"]
            for e in state["timeline"]
            if e["type"] == "step.completed" and e["step"] == "confirm_marital_status"
        )
        # Confirmed where the partner lives, registered where the applicant does.
        assert confirmed["commune"] == doc["partner"]["residence"]["commune"]
        assert state["results"]["register_marriage"]["result"]["commune"] == doc["area"]["commune"]
        assert confirmed["commune"] != doc["area"]["commune"]
    assert provinces["partner"]["residence"]["province"] == "008"
    assert communes["partner"]["residence"]["province"] == "042"

    def refusal(name: str) -> tuple[str, str, str]:
        e = next(e for e in states[ids[name]]["timeline"] if e["type"] == "step.rejected")
        return e["step"], e["payload"]["code"], e["payload"]["reason"]

    # One partner, two dossiers: one registered, the other refused, at its confirmation or, if
    # both were confirmed before either was registered, at its registration.
    pair = sorted(states[ids[n]]["status"] for n in ("first", "again"))
    assert pair == ["completed", "rejected"], pair
    refused = next(n for n in ("first", "again") if states[ids[n]]["status"] == "rejected")
    step, code, _ = refusal(refused)
    assert (step in ("confirm_marital_status", "register_marriage"), code) == (True, "married")
    assert states[ids["young"]]["status"] == "rejected"
    step, code, reason = refusal("young")
    assert (step, code) == ("register_marriage", "not_eligible")
    assert "under" in reason
    result = await verify(stack.settings.database_url or "")
    assert result["violations"] == 0, result
    assert result["checks"]["marriage_completed_without_exactly_one_marriage"] == 0
    assert result["checks"]["married_twice"] == 0
