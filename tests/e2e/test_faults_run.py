"""Every fault of the reports, the broker's kill -9 included, on a short profile run twice
through the CLI as an operator runs it. The first run is scored: the monitor catches every lost
and stuck dossier within one tick of its deadline, raises nothing a recorded fact does not
explain, loses nothing in silence. The second must inject the same hits and raise the same
alerts, per kind and per dossier (reproducible runs: dossier ids come from the submissions' keys,
every draw from the run's seed and the dossier, and the governed clock keeps the machine's pace
out of it); an officer then works from the ops console in a browser (tests/e2e/console.py);
redrive lets every dossier finish, verify finds no double effect, and the
statistics report agrees with the portal and the monitor."""

from __future__ import annotations

import asyncio
import json
import os
import time
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import yaml

from deploy.embedded import free_port
from deploy.state import StackState
from tests.e2e import console, personal_data
from tests.e2e.test_smoke_run import last_json, lienthong

pytestmark = [pytest.mark.e2e, pytest.mark.faults_e2e]

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
    # The ceiling of the governed clock: the busy hours run as fast as the machine keeps up, the
    # quiet weeks a run waits for its last dossiers at this speed.
    "speed": 80000,
    "death_procedures": {2: 0.45, 3: 0.45, 4: 0.10},
    "beneficiaries": {"pensioner": 0.5, "social_protection": 0.3, "none": 0.2},
    "bad_data": {"identity_mismatch": 0.05, "duplicate_submission": 0.03},
}
"""Every chain over two working days, with bad data: short, and enough for every fault of the
scenario to hit (measured: 22 lost, 132 stuck, 4 link, 8 data-quality, 1 duplicate expected)."""
MEASURED = ("kill", "drop_connections", "in_flight")
"""Process faults strike at a real instant: which messages they catch in flight (and so which
dossiers see a re-published event or a late receipt) is measured in each run, not reproduced.
They are compared by count; the dossiers they caught in flight in either run are left out of the
per-dossier comparison, and so is an agency's silence after a process fault on it (or on the
broker): whether a restart took longer than the silence limit in sim time depends on how many real
seconds it took, which is measured, not reproduced. Such a silence must still be one a process
fault explains; everything else must match."""


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
        "struck": {r["subject"] for r in hits if r["effect"] in ("kill", "drop_connections")},
        "alerts": [(r["kind"], r["dossier_id"] or r["subject"]) for r in alerts],
    }


def _measured(alert: tuple[str, str], in_flight: set[str], struck: set[str]) -> bool:
    """Whether an alert is a measured effect of a process fault (MEASURED), left out of the
    per-dossier comparison. A silence on an agency no process fault struck is not."""
    kind, subject = alert
    if kind == "agency":
        return subject in struck or "process:broker" in struck
    return subject in in_flight


def test_agency_silence_after_a_restart_is_measured_only_where_a_process_fault_struck() -> None:
    # Regression: a fresh-clone CI run (4 December 2026) failed because its second run saw one
    # more agency silence than its first, after the broker's kill -9 and restart.
    assert _measured(("agency", "agency:cutru"), set(), {"agency:cutru"})
    assert _measured(("agency", "agency:lltp"), set(), {"process:broker"})
    assert not _measured(("agency", "agency:lltp"), set(), {"agency:cutru"})
    assert not _measured(("stuck", "D1"), {"D2"}, {"process:broker"})
    assert _measured(("stuck", "D2"), {"D2"}, set())


def _env(tmp_path: Path, name: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LT_")}
    env.update(LT_HOME=str(tmp_path / name), LT_PORTAL_PORT=str(free_port()), LT_DASHBOARD_PORT=str(free_port()))
    return env


def _run(env: dict[str, str], profile: Path) -> dict[str, Any]:
    # At the profile's speed (--speed), not past it: on two busy days the clock has no quiet hours
    # to gain in, and measured alone this test took 168.0 s with the default ceiling and 154.5 s
    # at 80,000×. The default ceiling is held to its verdicts by the smoke run beside a CPU load.
    # Settled after 10 quiet real seconds (30 by default): past the period's tail at this speed that
    # is over a week of sim time in which nothing moved; what is still in progress is held by a fault.
    run = lienthong(
        env,
        "run",
        "--profile",
        str(profile),
        "--speed",
        str(PROFILE["speed"]),
        "--faults",
        "report-faults",
        "--settle",
        "10",
        "--json",
    )
    assert run.returncode == 0, run.stderr[-3000:]
    summary = last_json(run.stdout)
    assert summary["faults"] == "report-faults"
    assert summary["stamping"]["clamped"] == 0, summary["stamping"]
    crash = [f for f in summary["process_faults"] if f["fault"] == "broker-kill"]
    assert crash, summary["process_faults"]
    assert "restarted" in crash[0]["detail"], crash
    assert "consumers back" in crash[0]["detail"], crash
    outcome = asyncio.run(_outcome(StackState(Path(env["LT_HOME"])).stack()["database_url"]))
    return {**outcome, "accepted": sum(c["accepted"] for c in summary["chains"].values())}


def test_report_faults_are_caught_reproduced_then_redriven_to_completion(tmp_path: Path) -> None:
    profile = tmp_path / "repro.yaml"
    profile.write_text(yaml.safe_dump(PROFILE, allow_unicode=True), encoding="utf-8")
    env = _env(tmp_path, "one")
    try:
        first = _run(env, profile)
        _score_first(env)
    finally:
        down = lienthong(env, "down")
    assert down.returncode == 0, down.stderr

    env = _env(tmp_path, "two")
    try:
        second = _run(env, profile)
        assert sum(first["hits"].values()) > 0, first  # the scenario did hit something to compare
        assert first["hits"] == second["hits"]
        assert first["process_faults"] == second["process_faults"]
        in_flight = first["caught_in_flight"] | second["caught_in_flight"]
        one, two = ([a for a in run["alerts"] if not _measured(a, in_flight, run["struck"])] for run in (first, second))
        assert one, first  # alerts beyond those of the dossiers caught in flight, to compare
        assert Counter(kind for kind, _ in one) == Counter(kind for kind, _ in two)
        assert Counter(one) == Counter(two)

        # The ops console after the run, as an officer uses it (its redrive-all goes first).
        home = Path(env["LT_HOME"])
        seen = console.walk(
            f"http://127.0.0.1:{env['LT_DASHBOARD_PORT']}/",
            StackState(home).stack()["database_url"],
            (home / "operator-token").read_text().strip(),
        )
        assert seen["funnel_steps"] > 0

        # One redrive: its own rounds redrive what a redriven dossier meets further on, and it
        # returns once the dossiers finished and the monitor closed their alerts.
        redriven = lienthong(env, "redrive", "--all-lost", "--wait", "120", "--json")
        assert redriven.returncode == 0, redriven.stderr[-3000:]
        outcome = last_json(redriven.stdout)
        assert (outcome["still_in_progress"], outcome["still_alerted"]) == (0, 0), outcome
        still_open = last_json(lienthong(env, "alerts", "--open", "--json").stdout)
        assert still_open["alerts"] == [], still_open["alerts"][:3]
        clear = console.all_clear(f"http://127.0.0.1:{env['LT_DASHBOARD_PORT']}/")
        assert clear["history_rows"] > 0
        assert clear["resolved_badge"] == "rgb(95, 107, 118)", clear  # history, not the red of "Cao"
        verify = lienthong(env, "verify", "--json")
        checked = last_json(verify.stdout)
        assert checked["violations"] == 0, verify.stdout[-3000:]
        reconcile_report(env, tmp_path, checked["dossiers"], second["accepted"])
        no_personal_data_anywhere(env)
    finally:
        down = lienthong(env, "down")
    assert down.returncode == 0, down.stderr


def _score_first(env: dict[str, str]) -> None:
    scored = lienthong(env, "score", "--json", "--verbose")
    assert scored.returncode == 0, scored.stderr[-3000:]
    score = last_json(scored.stdout)
    for kind in ("lost", "stuck"):
        assert score["expected"][kind] > 0, score  # the profile is long enough for both to occur
        assert score["recall"][kind] == 1.0, score["missed"]
    for kind in ("link", "duplicate", "data_quality"):
        assert score["recall"][kind] in (1.0, None), score["missed"]
    assert score["precision"] >= 0.99, score["unexplained_alerts"]
    # The population database unreachable for six hours of a working day: every check that went
    # unanswered is a failed call on the link into it, caught as that link's incident, and no
    # alert about it is false.
    outage = score["by_fault"]["population-db-unreachable"]
    assert outage["expected"] >= 1, outage
    assert outage["caught"] == outage["expected"], outage
    about_it = [a for a in score["unexplained_alerts"] if "dancu" in str(a.get("subject"))]
    assert about_it == [], about_it
    assert score["detection_delay_s"]["p99"] <= score["tick_s"], score["detection_delay_s"]
    assert score["silent_losses"] == 0, score["silent"]


def dashboard_series(env: dict[str, str], first: str, last: str) -> list[dict[str, Any]]:
    """The dashboard's daily throughput for a range of days, both included."""
    url = f"http://127.0.0.1:{env['LT_DASHBOARD_PORT']}/api/v1/series?from={first}&to={last}"
    with urllib.request.urlopen(url, timeout=10) as r:
        days: list[dict[str, Any]] = json.loads(r.read())["series"]["throughput"]
    return days


def no_personal_data_anywhere(env: dict[str, str]) -> None:
    """Every log line, metric label and dead letter of the run, searched for the citizens' ID
    numbers and full names: none unmasked (Decree 13/2023/NĐ-CP)."""
    from ops import dlq

    home = Path(env["LT_HOME"])
    stack = StackState(home).stack()
    bootstrap, url = stack["kafka_bootstrap"], stack["database_url"]
    asyncio.run(personal_data.a_letter_with_personal_data(bootstrap, url))
    letters: list[Any] = []
    for _ in range(60):
        letters = asyncio.run(dlq.read(bootstrap, "lt", 1, timeout_s=10)).letters
        if any(lt.agency == "cutru" and "no_such_step" in lt.reason for lt in letters):
            break
        time.sleep(0.5)
    assert any("no_such_step" in lt.reason for lt in letters), letters
    status = last_json(lienthong(env, "status", "--json").stdout)
    ports = [
        int(c["address"].rsplit(":", 1)[1]) for c in status["components"] if (c["address"] or "").startswith("http")
    ]
    assert len(ports) == 10  # the portal, six agencies, the population database, the monitor, the dashboard
    found, ids, names = personal_data.run_check(home, url, ports, [lt.model_dump() for lt in letters])
    assert ids > 100, ids  # the run's citizens were looked for, the planted one among them
    assert names > 100, names
    assert found == [], found[:20]


def reconcile_report(env: dict[str, str], tmp_path: Path, dossiers: dict[str, int], accepted: int) -> None:
    """The statistics report agrees with the portal's dossiers, with the run's summary, with the
    dashboard's daily charts over the same range, and with the monitor's alerts: every dossier
    resolved late is one that the monitor alerted as not closed by its appointment date."""
    out = tmp_path / "report"
    closed = dossiers.get("completed", 0) + dossiers.get("rejected", 0)
    deadline = time.monotonic() + 60
    while True:
        # The year: a certificate requested in January may be issued in February.
        made = lienthong(env, "report", "--period", "2024", "--by", "commune", "--format", "json", "--out", str(out))
        assert made.returncode == 0, made.stderr[-3000:]
        report = json.loads((out / "bao-cao-2024-commune.json").read_text(encoding="utf-8"))
        total = next(r for r in report["rows"] if r["flow"] == "all")
        # The report reads the monitor's event log, which may trail the portal by a moment.
        if total["resolved_on_time"] + total["resolved_late"] == closed or time.monotonic() > deadline:
            break
        time.sleep(2)
    communes = [r for r in report["rows"] if r["flow"] != "all" and r["area"] != "Tổng cộng"]
    assert sum(r["received"] for r in communes) == total["received"]
    # Every dossier the portal accepted, and how it ended, as the stream told the monitor.
    assert total["received"] + total["carried_over"] == sum(dossiers.values()), (total, dossiers)
    assert total["resolved_on_time"] + total["resolved_late"] == closed
    assert total["refused"] == dossiers.get("rejected", 0)
    assert total["in_progress"] == total["overdue"] == 0
    assert total["received"] == accepted  # the run's summary: every dossier the portal accepted
    days = dashboard_series(env, "2024-01-01", "2024-12-31")
    assert sum(d["submitted"] for d in days) == total["received"], days
    assert sum(d["closed"] for d in days) == total["resolved_on_time"] + total["resolved_late"], days
    alerts = last_json(lienthong(env, "alerts", "--json").stdout)["alerts"]
    late = {
        a["dossier_id"] for a in alerts for f in a["findings"] if f["kind"] == "stuck" and f["subject"] == "dossier"
    }
    assert total["resolved_late"] == len(late) > 0, (total, len(late))
