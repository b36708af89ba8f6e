"""deploy/compose.yaml run as it would start, without a container engine: `lienthong compose
check` brings up its 3 Kafka nodes, PostgreSQL, the topics job and every replica of ours as local
processes with the file's own environment, then proves the wiring through the running product.
Nothing of it is left running afterwards."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
PROBES = [
    "the topics job made every topic",
    "each portal replica takes a dossier",
    "the console knows each dossier",
    "the console opens the people at the portal",
    "an agency takes the console's signed redrive",
    "data sits in the volumes",
]


def test_the_compose_file_comes_up_and_its_wiring_holds(tmp_path: Path) -> None:
    workdir = tmp_path / "compose"
    done = subprocess.run(
        [sys.executable, "-m", "lienthong.cli", "compose", "check", "--json", "--workdir", str(workdir)],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=ROOT,
        check=False,
    )
    assert done.stdout.strip(), done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    failed = [s for s in report["steps"] if not s["ok"]]
    assert report["ok"], (failed, done.stderr[-3000:])
    assert done.returncode == 0
    steps = [s["what"] for s in report["steps"]]
    for probe in PROBES:
        assert probe in steps, steps
    healthy = {s["what"].split(" healthy")[0] for s in report["steps"] if " healthy ×" in s["what"]}
    assert {"kafka-1", "kafka-2", "kafka-3", "postgres", "portal", "monitor", "dashboard", "lltp"} <= healthy
    assert "topics completed" in steps
    people = next(s for s in report["steps"] if s["what"] == "the console opens the people at the portal")
    assert people["detail"].endswith("people in full")
    left = subprocess.run(["pgrep", "-f", str(workdir)], capture_output=True, text=True, check=False)
    assert left.stdout.strip() == "", f"processes left running: {left.stdout}"
