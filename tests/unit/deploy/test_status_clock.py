"""`lienthong status` shows the sim clock (regression: its text output formatted the stop time
even while the clock ran, and crashed on None)."""

import os
import subprocess
import sys
from pathlib import Path


def test_status_prints_a_running_clock_without_a_stop_time(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LT_")}
    env["LT_HOME"] = str(tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "lienthong.cli", "status"], env=env, capture_output=True, text=True, timeout=60
    )
    assert "Traceback" not in done.stderr, done.stderr
    assert done.stdout.strip().splitlines()[-1].endswith(", running")
