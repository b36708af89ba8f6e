"""The judicial-record flow end to end: one-stop, the integration bus, the LLTP software's
signature and issuance states, the certificate back at the portal; refusals with a code."""

from __future__ import annotations

import random
import re
from datetime import datetime

import aiohttp
import asyncpg
import pytest

from contracts.calendar import WorkingCalendar
from simulation.scoring.verify import verify
from simulation.workload.baddata import spoil
from simulation.workload.citizens import CitizenFactory
from tests.integration.conftest import Agencies, Infra, running
from tests.integration.test_birth_chain import assert_results_typed, submit, wait_closed

pytestmark = pytest.mark.integration
calendar = WorkingCalendar()


@pytest.fixture(scope="module")
async def stack(infra: Infra, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    # Ten working days of office work pass in a few real seconds.
    async with running(
        infra, ["portal", "motcua", "lltp"], tmp_path_factory.mktemp("lltp"), sim_speed=200_000.0
    ) as agencies:
        yield agencies


async def test_certificates_come_back_by_post_within_ten_working_days(stack: Agencies) -> None:
    factory = CitizenFactory("042", seed=41)
    docs = [factory.lltp_dossier(stack.today(), "online", True, paid_online=True) for _ in range(5)]
    docs.append(factory.lltp_dossier(stack.today(), "online", False, needs_verification=True))
    async with aiohttp.ClientSession() as http:
        answers = [await submit(http, stack.portal, d) for d in docs]
        assert {s for s, _ in answers} == {202}
        ids = [b["dossier_id"] for _, b in answers]
        states = await wait_closed(http, stack.portal, ids, timeout=120)
    assert_results_typed(states)
    assert {s["status"] for s in states.values()} == {"completed"}
    for i in ids[:5]:
        # The portal keeps the last step's result (the postal item); the certificate is in the timeline.
        completed = {e["step"]: e for e in states[i]["timeline"] if e["type"] == "step.completed"}
        cert = completed["issue_certificate"]["payload"]["result"]
        assert cert["delivery"] == "post"
        assert cert["issued_by"] == "Sở Tư pháp"
        done = {step: e["occurred_at"] for step, e in completed.items()}
        assert done["issue_certificate"] <= states[i]["due_at"]  # on time: 10 working days
        # Then the one-stop desk posts it: an S10 item, in transit, delivered within 3 working days.
        item = states[i]["results"]["return_by_post"]["result"]
        assert re.fullmatch(r"RR\d{9}VN", item["postal_item"]), item
        assert done["issue_certificate"] < done["return_by_post"] == states[i]["closed_at"]
        issued, delivered = (datetime.fromisoformat(done[k]) for k in ("issue_certificate", "return_by_post"))
        assert delivered <= calendar.deadline(issued, 3)
        postal = [
            e["payload"]["state"]
            for e in states[i]["timeline"]
            if e["type"] == "step.state" and e["step"] == "return_by_post"
        ]
        assert postal == ["in_transit"]
    assert states[ids[5]]["results"]["issue_certificate"]["result"]["delivery"] == "electronic"
    # 15 working days when the records of several places must be verified
    submitted = datetime.fromisoformat(states[ids[5]]["submitted_at"])
    assert (datetime.fromisoformat(states[ids[5]]["due_at"]) - submitted).days >= 18
    timeline = states[ids[0]]["timeline"]
    lltp_states = [e["payload"]["state"] for e in timeline if e["type"] == "step.state" and e["agency"] == "lltp"]
    assert lltp_states == ["awaiting_signature", "awaiting_issuance"]
    bus = [e for e in timeline if e["type"] == "handoff.sent" and e["payload"].get("to") == "lltp"]
    assert [e["payload"].get("via") for e in bus] == ["ngsp"]
    times = [e["occurred_at"] for e in timeline]
    assert times == sorted(times)
    conn = await asyncpg.connect(stack.settings.database_url)
    try:
        assert await conn.fetchval("SELECT count(*) FROM lltp.certificates") == 6
        assert await conn.fetchval("SELECT count(*) FROM motcua.postal_items") == 5
    finally:
        await conn.close()
    result = await verify(stack.settings.database_url or "")
    assert result["violations"] == 0, result


@pytest.mark.parametrize("kind", ["identity_mismatch", "wrong_sex_or_year"])
async def test_identity_problems_are_refused_by_the_lltp_software(stack: Agencies, kind: str) -> None:
    doc = spoil(CitizenFactory("042", seed=42).lltp_dossier(stack.today()), kind, random.Random(3))
    async with aiohttp.ClientSession() as http:
        status, body = await submit(http, stack.portal, doc)
        assert status == 202, body
        state = (await wait_closed(http, stack.portal, [body["dossier_id"]], timeout=120))[body["dossier_id"]]
    assert state["status"] == "rejected"
    assert state["state_vi"] == "Từ chối"
    codes = [e["payload"].get("code") for e in state["timeline"] if e["type"] == "step.rejected"]
    assert codes == [kind]
