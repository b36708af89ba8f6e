"""One simulation at a time per stack (regression: a run left behind on a home wrote its governor's
segments into the next run's clock, and sim time jumped three weeks back)."""

import subprocess
import sys
from pathlib import Path

import pytest

from deploy import runlock


def test_a_second_run_on_a_home_whose_clock_is_driven_stops_and_names_the_holder(tmp_path: Path) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; from deploy import runlock; "
            "lock = runlock.acquire(Path(sys.argv[1]), 'run'); print('held', flush=True); time.sleep(30)",
            str(tmp_path),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(runlock.StackBusy, match=rf"`lienthong run` \(pid {holder.pid}\)"):
            runlock.acquire(tmp_path, "run")
    finally:
        holder.kill()
        holder.wait()
        if holder.stdout is not None:
            holder.stdout.close()
    # The kernel released it with its holder: the next run goes ahead.
    runlock.acquire(tmp_path, "run").close()
