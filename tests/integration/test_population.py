"""The population database as a service (services/dancu/), asked over HTTP as the agencies ask it,
with its three faults: unreachable for a day (503 with when to try again), slow (the answer comes
office hours later), a newborn's record not synchronised for two working days; a question that
breaks the contract is refused with the field and the reason."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml

from contracts.clock import VN_TZ
from contracts.identity import Sex, generate_personal_id
from simulation.port import FaultSettings
from tests.integration.conftest import SIM_EPOCH, Infra, running

pytestmark = pytest.mark.integration

MONDAY = datetime(2024, 3, 4, 9, tzinfo=VN_TZ)
SCENARIO = {
    "faults": [],
    "define": {
        "down-tuesday": {
            "cites": "unreachable all Tuesday",
            "source": {"engineering": "a test's own window, to see the database refuse every question"},
            "target": {"agency": "dancu"},
            "window": {"from": "2024-03-05", "days": 1},
            "effect": {"kind": "outage"},
        },
        "slow-thursday": {
            "cites": "two office hours late all Thursday",
            "source": {"engineering": "a test's own window, to see the database answer late"},
            "target": {"agency": "dancu"},
            "window": {"from": "2024-03-07", "days": 1},
            "effect": {"kind": "slow", "extra_hours": [2, 2]},
        },
        "unsynced": {
            "cites": "every newborn found two working days late",
            "source": {"engineering": "a test's own rate, to see a record found only once synchronised"},
            "target": {"agency": "dancu"},
            "rate": 1.0,
            "effect": {"kind": "unsynced", "delay_working_days": [2, 2]},
        },
    },
}


def asked(at: datetime, **body: Any) -> dict[str, Any]:
    return {"asker": "cutru", "dossier_id": "D-1", "step": "register_residence", "at": at.isoformat(), **body}


async def test_the_population_database_answers_as_of_the_time_asked_through_its_faults(
    infra: Infra, tmp_path: Path
) -> None:
    scenario = tmp_path / "dancu.yaml"
    scenario.write_text(yaml.safe_dump(SCENARIO), encoding="utf-8")
    faults = FaultSettings(faults=str(scenario), start=SIM_EPOCH, days=10.0).encode()
    rng = random.Random(4)
    mother = generate_personal_id("042", Sex.FEMALE, 1990, rng)
    stranger = generate_personal_id("042", Sex.MALE, 1985, rng, registered=False)
    child = generate_personal_id("042", Sex.MALE, 2024, rng)
    async with running(infra, ["dancu"], tmp_path, simulation=faults) as stack:
        url = f"http://127.0.0.1:{stack.ports['dancu']}"
        async with aiohttp.ClientSession() as http:

            async def post(path: str, body: Any) -> tuple[int, dict[str, Any]]:
                async with http.post(url + path, json=body) as r:
                    return r.status, await r.json()

            status, body = await post("/lookups", {})
            assert status == 400
            assert {p["field"] for p in body["problems"]} >= {"people", "asker", "at"}
            async with http.post(url + "/lookups", data=b"\xff{") as r:
                assert r.status == 400
            status, body = await post("/births", asked(MONDAY, personal_id="12", sex="male", birth_date="2024-02-30"))
            assert status == 400
            assert {p["field"] for p in body["problems"]} == {"personal_id", "birth_date"}

            person = {"role": "mother", "personal_id": mother, "sex": "female"}
            status, body = await post("/lookups", asked(MONDAY, people=[person]))
            assert (status, body) == (200, {"answered_at": MONDAY.isoformat()})
            unknown = {"role": "father", "personal_id": stranger, "sex": "male"}
            status, body = await post("/lookups", asked(MONDAY, people=[person, unknown]))
            assert body["unknown"]["role"] == "father"
            assert body["unknown"]["code"] == "identity_mismatch"

            # A newborn handed over on Monday is found two working days later, not before.
            status, _ = await post("/births", asked(MONDAY, personal_id=child, sex="male", birth_date="2024-03-01"))
            assert status == 200
            newborn = {"role": "child", "personal_id": child, "sex": "male", "birth_year": 2024}
            _, body = await post("/lookups", asked(MONDAY + timedelta(hours=1), people=[newborn]))
            assert body["unknown"]["code"] == "identity_mismatch"
            # Tuesday the database cannot be reached: every question gets a 503 and when to retry.
            tuesday = MONDAY + timedelta(days=1)
            status, body = await post("/lookups", asked(tuesday, people=[newborn]))
            assert status == 503
            assert datetime.fromisoformat(body["retry_at"]) == datetime(2024, 3, 6, tzinfo=VN_TZ)
            status, _ = await post("/births", asked(tuesday, personal_id=child, sex="male", birth_date="2024-03-01"))
            assert status == 503
            wednesday = MONDAY + timedelta(days=2)
            _, body = await post("/lookups", asked(wednesday, people=[newborn]))
            assert body == {"answered_at": wednesday.isoformat()}
            # Handed over again (a retried step): the first record's times stand.
            again = MONDAY + timedelta(days=2, hours=1)
            await post("/births", asked(again, personal_id=child, sex="male", birth_date="2024-03-01"))
            _, body = await post("/lookups", asked(wednesday, people=[newborn]))
            assert "unknown" not in body
            # Thursday every answer comes two office hours late.
            thursday = MONDAY + timedelta(days=3)
            _, body = await post("/lookups", asked(thursday, people=[person]))
            assert datetime.fromisoformat(body["answered_at"]) == thursday + timedelta(hours=2)
