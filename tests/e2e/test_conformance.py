"""An integrator's residence system, written with confluent-kafka against the exported contract
only (examples/standin_cutru.py), checked by `lienthong conformance cutru` as an integrator runs
it: the faithful stand-in passes every rule; each deliberately broken variant fails exactly the
rule it breaks, on the same stack, one after the other (`--keep-stack`). Real embedded broker,
real PostgreSQL, the project's other agencies as simulators."""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from deploy.embedded import free_port
from deploy.state import StackState
from tests import debian
from tests.e2e import officer
from tests.e2e.test_smoke_run import LIENTHONG, ROOT, last_json, lienthong
from tests.receivers import Receivers, receivers

pytestmark = pytest.mark.e2e

SPEED = "40000"
DOSSIERS = "2"


def _standin_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("standin_cutru", ROOT / "examples" / "standin_cutru.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class StandIn:
    """The example stand-in, run in a thread of the test the way its `main` runs it."""

    def __init__(self, home: Path, contract: Path) -> None:
        stack = StackState(home).stack()
        self.system = _standin_module().StandInResidence(contract, stack["kafka_bootstrap"], "lt", home)
        self.thread = threading.Thread(target=self.system.run, daemon=True)

    def __enter__(self) -> StandIn:
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.system.stop.set()
        self.thread.join(20)


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    home = tmp_path_factory.mktemp("conformance") / "home"
    env = {k: v for k, v in os.environ.items() if not k.startswith("LT_")}
    env.update(LT_HOME=str(home), LT_PORTAL_PORT=str(free_port()), LT_DASHBOARD_PORT=str(free_port()))
    yield env
    lienthong(env, "down")


def _started_until(env: dict[str, str], args: list[str], line: str) -> tuple[subprocess.Popen[str], list[str]]:
    """`lienthong ARGS` started, once it printed `line` on stderr (the moment to start an external
    system: the topics are new); the process and what it said so far."""
    process = subprocess.Popen(
        [*LIENTHONG, *args], env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert process.stderr is not None
    said: list[str] = []
    ends = time.monotonic() + 180
    for text in process.stderr:
        said.append(text)
        if line in text:
            return process, said
        assert time.monotonic() < ends, "".join(said)
    pytest.fail(f"`lienthong {' '.join(args)}` never said {line!r}:\n" + "".join(said))


def _verdicts(out: str) -> dict[str, dict[str, Any]]:
    return {r["rule"]: r for r in last_json(out)["rules"]}


def test_the_faithful_stand_in_passes_then_each_broken_one_fails_exactly_its_rule(
    env: dict[str, str], tmp_path: Path
) -> None:
    home = Path(env["LT_HOME"])
    contract = tmp_path / "contract"
    assert lienthong(env, "contract", "export", "--out", str(contract)).returncode == 0

    # A fresh simulation: the check says when to start the system (its topics are new).
    args = ["conformance", "cutru", "--speed", SPEED, "--dossiers", DOSSIERS, "--json"]
    check, said = _started_until(env, args, "system now")
    with StandIn(home, contract) as standin:
        out, err = check.communicate(timeout=300)
        assert check.returncode == 0, "".join(said) + err + out
        good = _verdicts(out)
        assert all(v["passed"] for v in good.values()), good
        assert last_json(out)["unfinished"] == 0
        # The rest of the stack agrees: every effect once, the residence simulator left out.
        verify = lienthong(env, "verify", "--json")
        assert verify.returncode == 0, verify.stderr
        audit = last_json(verify.stdout)
        assert audit["violations"] == 0, audit
        assert "birth_completed_without_exactly_one_residence" in audit["skipped"]

        failed = _broken_one_by_one(env, standin)
        assert failed == {b: {b} for b in failed}, failed

    # Nothing attached at all: a verdict per rule, within the bounds given, never a hang.
    silent = lienthong(
        env,
        "conformance",
        "cutru",
        "--keep-stack",
        "--dossiers",
        "1",
        "--attach-timeout",
        "2",
        "--timeout",
        "5",
        "--json",
    )
    assert silent.returncode == 1, silent.stderr
    verdicts = _verdicts(silent.stdout)
    assert verdicts["heartbeat"]["failures"][0].startswith("no agency.heartbeat from cutru")
    assert verdicts["sequence"]["failures"][0].endswith("at register_residence: no handoff.received")
    assert "never came" in silent.stderr


def _broken_one_by_one(env: dict[str, str], standin: StandIn) -> dict[str, set[str]]:
    """The same system, its switch set to break one rule at a time: which rules each check failed."""
    failed: dict[str, set[str]] = {}
    for broken in ("partitioner", "sequence", "idempotence", "stamping", "heartbeat"):
        standin.system.broken = broken
        run = lienthong(
            env, "conformance", "cutru", "--keep-stack", "--dossiers", DOSSIERS, "--attach-timeout", "3", "--json"
        )
        assert run.returncode == 1, run.stderr + run.stdout
        verdicts = _verdicts(run.stdout)
        failed[broken] = {rule for rule, v in verdicts.items() if not v["passed"]}
        assert verdicts[broken]["failures"], verdicts[broken]
        took = last_json(run.stdout)["elapsed_s"]
        print(broken, took, json.dumps(verdicts[broken]["failures"][:1], ensure_ascii=False), file=sys.stderr)
    return failed


TINY = {
    "name": "tiny",
    "description": "Một ngày làm việc: bốn hồ sơ khai sinh",
    "province": "042",
    "period": {"start": "2024-03-05", "days": 1},
    "volumes": {"birth": 4, "death": 0, "lltp": 0},
    "arrival": "office-hours",
    "speed": 100000,
}
"""Short, and fast: a run waits three sim weeks past its period for what is still in progress."""


def test_a_run_whose_external_agency_drops_dossiers_says_where_they_wait_and_fails(
    env: dict[str, str], tmp_path: Path
) -> None:
    with contextlib.ExitStack() as exits:
        _drops_dossiers(env, tmp_path, exits)


def _drops_dossiers(env: dict[str, str], tmp_path: Path, exits: contextlib.ExitStack) -> None:
    """The stand-in as its own process (`--break drop`: every second dossier received and never
    finished), started once `run` has made the topics anew, as contract.md's rule "attach" says."""
    home = Path(env["LT_HOME"])
    contract = tmp_path / "contract"
    assert lienthong(env, "contract", "export", "--out", str(contract)).returncode == 0
    profile = tmp_path / "tiny.yaml"
    profile.write_text(yaml.safe_dump(TINY, allow_unicode=True), encoding="utf-8")
    # Settled after 10 quiet real seconds (30 by default): the two dropped dossiers never move again.
    # With Prometheus and Alertmanager beside it, notifying a webhook and a mail sink of this test.
    args = ["run", "--profile", str(profile), "--external", "cutru", "--settle", "10", "--alerting", "--json"]
    debian.ensure_alerting()
    got = exits.enter_context(receivers())
    env = {
        **env,
        "LT_ALERT_INTERVAL_S": "2",
        "LT_ALERT_GROUP_INTERVAL_S": "2",
        "LT_ALERT_GROUP_WAIT_S": "1",
        "LT_ALERT_WEBHOOK_URL": got.webhook_url,
        "LT_ALERT_SMTP": got.smtp,
    }
    run, said = _started_until(env, args, "start cutru's system now")
    script = ROOT / "examples" / "standin_cutru.py"
    log = tmp_path / "standin.log"
    with log.open("w") as to_log:
        standin = subprocess.Popen(
            [sys.executable, str(script), "--contract", str(contract), "--home", str(home), "--break", "drop"],
            env=env,
            stdout=to_log,
            stderr=subprocess.STDOUT,
        )
        try:
            out, err = run.communicate(timeout=300)
            assert standin.poll() is None, log.read_text()  # it survived the whole run
        finally:
            standin.terminate()
            standin.wait(20)
    assert run.returncode == 1, "".join(said) + err[-2000:]
    summary = last_json(out)
    assert summary["in_progress"] == 2, summary["chains"]
    assert summary["waiting_at"] == {"cutru/register_residence": 2}
    assert "error: 2 accepted dossiers were still in progress when the run settled" in err
    assert "--allow-unfinished accepts this" in err

    # The two dossiers left at cutru are overdue: each one notified on both channels, named as the
    # console's queue names it; then an officer's day on them in the console.
    notified = notifications_name_the_queues_dossiers(env, got)
    assert len(notified) == 2, notified  # the two still waiting at cutru
    token = (home / "operator-token").read_text().strip()
    day = officer.officers_day(f"http://127.0.0.1:{env['LT_DASHBOARD_PORT']}/", token)
    assert day["commune_overdue"] >= 1, day


def notifications_name_the_queues_dossiers(env: dict[str, str], got: Receivers) -> set[str]:
    """The dossiers still open in the console's queue after the run reached the webhook and the
    mail relay through Prometheus and Alertmanager, each named by its code, commune, place and
    lateness in Vietnamese as the queue names it, with the console's link; their ids."""
    console_url = f"http://127.0.0.1:{env['LT_DASHBOARD_PORT']}"
    queue: dict[str, dict[str, Any]] = {}
    for page in range(1, 100):
        with urllib.request.urlopen(f"{console_url}/api/v1/queue?state=all&size=100&page={page}", timeout=10) as r:
            rows = json.loads(r.read())["rows"]
        # A dossier may have several incidents (one resolved, one open): its open one names it.
        queue.update(
            (row["dossier_id"], row)
            for row in sorted(rows, key=lambda row: row["state"] != "resolved")
            if row["dossier_id"]
        )
        if len(rows) < 100:
            break
    still_open = {d for d, row in queue.items() if row["state"] != "resolved" and row["kind"] in ("lost", "stuck")}
    assert still_open, queue
    ends = time.monotonic() + 90
    firing: dict[str, dict[str, Any]] = {}
    while time.monotonic() < ends:
        firing = {
            a["labels"]["dossier"]: a
            for n in got.posted
            for a in n["alerts"]
            if a["labels"]["alertname"] == "LienthongDossierOverdue" and a["status"] == "firing"
        }
        mails = got.mailbox.texts()
        mailed = {d for d in still_open if d in firing and any(firing[d]["labels"]["code"] in m for m in mails)}
        if mailed == still_open:
            break
        time.sleep(0.5)
    assert still_open <= set(firing), ([n["groupLabels"] for n in got.posted], still_open)
    for dossier in still_open:
        labels, notes, row = firing[dossier]["labels"], firing[dossier]["annotations"], queue[dossier]
        assert labels["code"] == row["code"]
        said = f"Hồ sơ {row['code']} ({row['commune']}): {row['kind_vi']} tại {row['where_vi']}"
        assert notes["summary"].startswith(said), notes["summary"]
        assert notes["summary"].endswith("ngày làm việc")
        assert notes["console"] == f"{console_url}/?dossier={dossier}"
        assert any(row["code"] in m for m in got.mailbox.texts()), row["code"]
    return still_open
