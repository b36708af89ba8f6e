"""The birth chain across real processes' code, a real broker and a real database: the happy
path, duplicate delivery, dead-lettering, and the portal's refusals at the edge; on the embedded
broker and on the 3-node Apache Kafka cluster."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest
from aiokafka import AIOKafkaProducer

from contracts import topics
from contracts.chains import load_chains
from contracts.validation import validate
from runtime.secrets import operator_headers
from simulation.scoring.verify import verify
from simulation.workload.citizens import CitizenFactory
from tests.integration.conftest import BROKERS, Agencies, Infra, running

pytestmark = [pytest.mark.integration, pytest.mark.parametrize("infra", BROKERS, indirect=True)]
ALL = ["portal", "motcua", "hotich", "cutru", "bhxh"]


async def submit(http: aiohttp.ClientSession, base: str, body: Any) -> tuple[int, dict[str, Any]]:
    async with http.post(f"{base}/api/v1/dossiers", data=body if isinstance(body, str) else json.dumps(body)) as r:
        return r.status, await r.json()


async def submit_births(http: aiohttp.ClientSession, stack: Agencies, n: int, seed: int) -> list[str]:
    """Submit `n` valid birth dossiers; their ids, each accepted with 202."""
    factory = CitizenFactory("042", seed=seed)
    ids = []
    for _ in range(n):
        status, body = await submit(http, stack.portal, factory.birth_dossier(stack.today()))
        assert status == 202, body
        ids.append(body["dossier_id"])
    return ids


async def wait_closed(
    http: aiohttp.ClientSession,
    base: str,
    ids: list[str],
    timeout: float = 60,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Each dossier as the portal tells it once all are closed (read with `headers`: the
    operator's to see results in full)."""
    deadline = asyncio.get_running_loop().time() + timeout
    states: dict[str, Any] = {}
    while True:
        for i in ids:
            async with http.get(f"{base}/api/v1/dossiers/{i}", headers=headers) as r:
                states[i] = await r.json()
        # The timeline is fed from the event stream, so it may trail the status by a moment.
        if all(s["status"] != "in_progress" and _timeline_closed(s) for s in states.values()):
            return states
        assert asyncio.get_running_loop().time() < deadline, "dossiers did not finish in time"
        await asyncio.sleep(0.3)


def assert_results_typed(states: dict[str, Any]) -> None:
    """Every step.completed result carries the fields and types chains.yaml declares for its step
    (what the exported contract promises an integrator)."""
    chains = load_chains()
    checked = 0
    for state in states.values():
        for e in state["timeline"]:
            if e["type"] == "step.completed":
                schema = chains[state["chain"]].step(e["step"]).result_schema()
                assert validate(e["payload"]["result"], schema) == [], (e["step"], e["payload"])
                checked += 1
    assert checked, "no step.completed in the timelines"


def assert_masked_for_anyone_but_the_operator(full: dict[str, Any], anonymous: dict[str, Any]) -> None:
    """The child's new personal ID (a result) is in full for the operator and masked for anyone
    else, and nothing else of the answer differs: the same steps, states and event ids."""
    child = full["results"]["register_residence"]["result"]["personal_id"]
    assert len(child) == 12
    assert child.isdigit()
    assert full["masked"] is False
    assert anonymous["masked"] is True
    shown = anonymous["results"]["register_residence"]["result"]["personal_id"]
    assert shown == child[:3] + "*" * 7 + child[-2:]
    assert child not in json.dumps(anonymous)
    assert [e["event_id"] for e in anonymous["timeline"]] == [e["event_id"] for e in full["timeline"]]
    assert anonymous["status"] == full["status"]


def _timeline_closed(state: dict[str, Any]) -> bool:
    return any(e["type"] == "dossier.closed" for e in state["timeline"])


@pytest.fixture(scope="module")
async def stack(infra: Infra, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    async with running(infra, ALL, tmp_path_factory.mktemp("birth")) as agencies:
        yield agencies


async def test_birth_dossiers_complete_with_one_id_residence_and_card(stack: Agencies) -> None:
    factory = CitizenFactory("042", seed=11)
    today = stack.today()
    async with aiohttp.ClientSession() as http:
        ids = []
        for _ in range(20):
            status, body = await submit(http, stack.portal, factory.birth_dossier(today))
            assert status == 202, body
            ids.append(body["dossier_id"])
        states = await wait_closed(http, stack.portal, ids, headers=operator_headers(stack.settings, "Lê Thị Hoa"))
        async with http.get(f"{stack.portal}/api/v1/dossiers/{ids[0]}") as r:
            anonymous = await r.json()
    assert {s["status"] for s in states.values()} == {"completed"}
    assert_results_typed(states)
    assert_masked_for_anyone_but_the_operator(states[ids[0]], anonymous)
    # Found by the child's newly issued personal ID (a result, not the submission), masked.
    child = states[ids[0]]["results"]["register_residence"]["result"]["personal_id"]
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{stack.portal}/api/v1/dossiers", params={"personal_id": child}) as r,
    ):
        found = await r.json()
    assert [d["dossier_id"] for d in found["dossiers"]] == [ids[0]]
    assert found["personal_id"] == child[:3] + "*" * 7 + child[-2:]
    assert found["dossiers"][0]["commune"]
    conn = await asyncpg.connect(stack.settings.database_url)
    try:
        reads = await conn.fetch("SELECT dossier_id, operator, path FROM portal.personal_data_reads")
    finally:
        await conn.close()
    assert {(r["dossier_id"], r["operator"]) for r in reads} >= {(i, "Lê Thị Hoa") for i in ids}
    assert all(r["path"].startswith("/api/v1/dossiers/") for r in reads)
    one = states[ids[0]]
    assert one["state_vi"] == "Đã trả kết quả"
    assert set(one["results"]) == {"register_residence", "issue_bhyt"}
    types = [e["type"] for e in one["timeline"]]
    for t in (
        "dossier.submitted",
        "handoff.sent",
        "handoff.received",
        "step.completed",
        "result.synced",
        "dossier.closed",
    ):
        assert t in types
    result = await verify(stack.settings.database_url or "")
    assert result["violations"] == 0, result


async def test_a_standalone_birth_registration_ends_at_civil_status(stack: Agencies) -> None:
    """Registered outside the linked procedure (Hà Tĩnh: fewer than one birth in ten): the
    portal gets its result from civil status, and residence and health insurance never see it."""
    # A seed of its own: the same mother and child as another test's would be a duplicate (409).
    factory = CitizenFactory("042", seed=31)
    body = {**factory.birth_dossier(stack.today()), "linked": False}
    async with aiohttp.ClientSession() as http:
        status, accepted = await submit(http, stack.portal, body)
        assert status == 202, accepted
        dossier = accepted["dossier_id"]
        states = await wait_closed(http, stack.portal, [dossier])
    assert states[dossier]["status"] == "completed"
    assert set(states[dossier]["results"]) == {"register_birth"}
    agencies = {e["agency"] for e in states[dossier]["timeline"]}
    assert {"motcua", "hotich"} <= agencies
    assert not agencies & {"cutru", "bhxh"}, agencies
    result = await verify(stack.settings.database_url or "")
    assert result["violations"] == 0, result
    assert result["checks"]["standalone_registration_went_further"] == 0


async def test_duplicate_delivery_changes_nothing(stack: Agencies) -> None:
    """The same handoff delivered twice to civil status: one ID number, one card, counted as a duplicate."""
    factory = CitizenFactory("042", seed=12)
    async with aiohttp.ClientSession() as http:
        _, body = await submit(http, stack.portal, factory.birth_dossier(stack.today()))
        await wait_closed(http, stack.portal, [body["dossier_id"]])
    conn = await asyncpg.connect(stack.settings.database_url)
    try:
        raw = await conn.fetchval(
            "SELECT value FROM motcua.outbox WHERE dossier_id = $1 AND topic = $2",
            body["dossier_id"],
            topics.work("hotich", stack.settings.topic_prefix),
        )
        producer = AIOKafkaProducer(bootstrap_servers=stack.settings.kafka_bootstrap, acks="all")
        await producer.start()
        try:
            await producer.send_and_wait(
                topics.work("hotich", stack.settings.topic_prefix), raw, key=body["dossier_id"].encode()
            )
        finally:
            await producer.stop()
        for _ in range(50):
            async with (
                aiohttp.ClientSession() as http,
                http.get(f"http://127.0.0.1:{stack.ports['hotich']}/healthz") as r,
            ):
                if (await r.json())["duplicates"] >= 1:
                    break
            await asyncio.sleep(0.2)
        else:
            pytest.fail("civil status never saw the duplicate")
        assert (
            await conn.fetchval(
                "SELECT count(*) FROM hotich.birth_registrations WHERE dossier_id = $1", body["dossier_id"]
            )
            == 1
        )
        assert (
            await conn.fetchval("SELECT count(*) FROM bhxh.bhyt_cards WHERE dossier_id = $1", body["dossier_id"]) == 1
        )
    finally:
        await conn.close()
    assert (await verify(stack.settings.database_url or ""))["violations"] == 0


@pytest.mark.parametrize(
    ("mutate", "status", "field"),
    [
        (lambda d: "{oops", 400, "$"),
        (lambda d: {k: v for k, v in d.items() if k != "child"}, 422, "child.full_name"),
        (lambda d: {**d, "mother": {**d["mother"], "personal_id": "0421"}}, 422, "mother.personal_id"),
        (
            lambda d: {**d, "child": {**d["child"], "birth_date": "2099-01-01"}},
            422,
            "child.birth_date",
        ),
    ],
)
async def test_portal_refuses_bad_input_with_json_reason_and_stores_nothing(
    stack: Agencies, mutate: Any, status: int, field: str
) -> None:
    body = mutate(CitizenFactory("042", seed=14).birth_dossier(stack.today()))
    conn = await asyncpg.connect(stack.settings.database_url)
    try:
        before = await conn.fetchval("SELECT count(*) FROM portal.dossiers")
        async with aiohttp.ClientSession() as http:
            code, answer = await submit(http, stack.portal, body)
        assert code == status
        assert field in [p["field"] for p in answer["problems"]]
        assert await conn.fetchval("SELECT count(*) FROM portal.dossiers") == before
    finally:
        await conn.close()


async def test_idempotency_key_returns_the_first_dossier(stack: Agencies) -> None:
    doc = json.dumps(CitizenFactory("042", seed=15).birth_dossier(stack.today()))
    async with aiohttp.ClientSession() as http:
        answers = []
        for _ in range(2):
            async with http.post(f"{stack.portal}/api/v1/dossiers", data=doc, headers={"Idempotency-Key": "k-1"}) as r:
                answers.append((r.status, await r.json()))
    assert [a[0] for a in answers] == [202, 200]
    assert answers[0][1]["dossier_id"] == answers[1][1]["dossier_id"]


async def test_openapi_document_is_served(stack: Agencies, tmp_path: Path) -> None:
    async with aiohttp.ClientSession() as http, http.get(f"{stack.portal}/api/v1/openapi.json") as r:
        doc = await r.json()
    assert doc["openapi"].startswith("3.")
    assert "/api/v1/dossiers" in doc["paths"]
