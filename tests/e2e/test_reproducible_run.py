"""The same profile, seed and fault scenario, run twice: the same injected hits and the same
alerts, counted per kind and per dossier. Dossier ids come from the submissions' keys, every draw
from the run's seed and the dossier; the governed clock keeps the machine's pace out of it."""

from __future__ import annotations

import asyncio
import os
from collections import Counter
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import yaml

from deploy.embedded import free_port
from deploy.state import read_state
from tests.e2e.test_smoke_run import last_json, lienthong

pytestmark = pytest.mark.e2e

PROFILE = {
    "name": "repro",
    "description": "Hai ngày làm việc ở Hà Tĩnh: khai sinh, khai tử, lý lịch tư pháp",
    "province": "042",
    "period": {"start": "2024-01-09", "days": 2},
    "volumes": {"birth": 60, "death": 30, "lltp": 90},
    "shares": {
        "birth": {"online": 1.0, "post": 0.0, "verification": 0.05},
        "death": {"online": 1.0, "post": 0.0, "verification": 0.05},
        "lltp": {"online": 0.589, "post": 1.0, "fee_paid_online": 0.995, "verification": 0.05},
    },
    "arrival": "office-hours",
    "speed": 40000,
    "death_procedures": {2: 0.45, 3: 0.45, 4: 0.10},
    "beneficiaries": {"pensioner": 0.5, "social_protection": 0.3, "none": 0.2},
    "bad_data": {"identity_mismatch": 0.05, "duplicate_submission": 0.03},
}
"""Every chain over two working days, with bad data: short, and enough for the scenario to hit."""
MEASURED = ("kill", "drop_connections", "in_flight")
"""Process faults strike at a real instant: which messages they catch in flight (and so which
dossiers see a re-published event or a late receipt) is measured in each run, not reproduced.
They are compared by count; the dossiers they caught in flight in either run are left out of the
per-dossier comparison, and everything else must match."""


async def _outcome(url: str) -> dict[str, Any]:
    conn = await asyncpg.connect(url)
    try:
        hits = await conn.fetch("SELECT fault, effect, subject, dossier_id FROM sim.faults")
        alerts = await conn.fetch("SELECT kind, subject, dossier_id FROM monitor.alerts")
    finally:
        await conn.close()
    return {
        "hits": Counter(tuple(r) for r in hits if r["effect"] not in MEASURED),
        "process_faults": Counter(r["fault"] for r in hits if r["effect"] in ("kill", "drop_connections")),
        "caught_in_flight": {r["dossier_id"] for r in hits if r["effect"] == "in_flight" and r["dossier_id"]},
        "alerts": [(r["kind"], r["dossier_id"] or r["subject"]) for r in alerts],
    }


def _run(tmp_path: Path, name: str) -> dict[str, Any]:
    profile = tmp_path / "repro.yaml"
    profile.write_text(yaml.safe_dump(PROFILE, allow_unicode=True), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("LT_")}
    env.update(LT_HOME=str(tmp_path / name), LT_PORTAL_PORT=str(free_port()), LT_DASHBOARD_PORT=str(free_port()))
    try:
        run = lienthong(env, "run", "--profile", str(profile), "--faults", "report-faults", "--json")
        assert run.returncode == 0, run.stderr[-3000:]
        summary = last_json(run.stdout)
        assert summary["stamping"]["clamped"] == 0, summary["stamping"]
        url = read_state(tmp_path / name / "stack.json")["database_url"]
        return asyncio.run(_outcome(url))
    finally:
        down = lienthong(env, "down")
        assert down.returncode == 0, down.stderr


def test_the_same_run_twice_injects_the_same_hits_and_raises_the_same_alerts(tmp_path: Path) -> None:
    first, second = _run(tmp_path, "one"), _run(tmp_path, "two")
    assert sum(first["hits"].values()) > 0, first  # the scenario did hit something to compare
    assert first["hits"] == second["hits"]
    assert first["process_faults"] == second["process_faults"]
    in_flight = first["caught_in_flight"] | second["caught_in_flight"]
    one, two = ([a for a in run["alerts"] if a[1] not in in_flight] for run in (first, second))
    assert one, first  # alerts beyond those of the dossiers caught in flight, to compare
    assert Counter(kind for kind, _ in one) == Counter(kind for kind, _ in two)
    assert Counter(one) == Counter(two)
