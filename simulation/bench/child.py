"""A measurement that runs in a process of its own and prints its result as its last JSON line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def last_json(module: str, args: list[str], timeout: float, what: str, codes: tuple[int, ...] = (0,)) -> dict[str, Any]:
    """Run `python -m module args…` from the project's root; its last stdout line, parsed.
    Raises RuntimeError naming `what`, with the end of its stderr, when it exits with a code
    not in `codes`."""
    done = subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode not in codes:
        raise RuntimeError(f"{what} failed: {done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result
