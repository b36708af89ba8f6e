"""The portal's capacity against a bare baseline, both driven by the same load generator
(loadgen.py) in one run: the highest rate each sustains with p99 under `P99_LIMIT_MS` and no
error, over rising concurrency.

The portal runs alone (the other agencies left out, as when an integrator plugs in its own):
what is measured is its edge, validation and durable acceptance (dossier row and outbox rows in
one transaction), with its relay publishing to the broker and the monitor reading, as in service.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import aiohttp

from deploy.embedded import free_port, stop_pid
from lienthong.workload.citizens import CitizenFactory

ROOT = Path(__file__).resolve().parents[2]
P99_LIMIT_MS = 250.0
CONCURRENCY = (4, 8, 16, 32, 64)
LEVEL_S = 6.0
MAX_RPS = 3_000
"""Bodies are made for at most this rate at every level (each dossier is a new citizen)."""


def bodies(path: Path, n: int, today: date) -> None:
    factory = CitizenFactory("042", seed=4242)
    with path.open("w", encoding="utf-8") as f:
        for _ in range(n):
            f.write(json.dumps(factory.lltp_dossier(today, "online", True, paid_online=True), ensure_ascii=False))
            f.write("\n")


def drive(url: str, body_file: Path, concurrency: int, skip: int) -> dict[str, Any]:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "lienthong.bench.loadgen",
            url,
            "--bodies",
            str(body_file),
            "--concurrency",
            str(concurrency),
            "--seconds",
            str(LEVEL_S),
            "--skip",
            str(skip),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"load generator failed: {done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def capacity(url: str, body_file: Path, progress: Callable[[str], None], label: str) -> dict[str, Any]:
    """Levels of rising concurrency; capacity is the best rate among those within the limits."""
    levels = []
    used = 0
    for c in CONCURRENCY:
        r = drive(url, body_file, c, used)
        used += r["requests"]
        levels.append({"concurrency": c, **r})
        progress(f"{label}: {c} clients → {r['rps']} rps, p99 {r['p99_ms']} ms, {r['errors']} errors")
        if r["p99_ms"] > 2 * P99_LIMIT_MS:
            break  # well past the limit: more clients only queue
    good = [lv for lv in levels if lv["errors"] == 0 and lv["p99_ms"] < P99_LIMIT_MS]
    best = max(good, key=lambda lv: lv["rps"], default=None)
    return {"capacity_rps": best["rps"] if best else 0.0, "p99_ms": best["p99_ms"] if best else None, "levels": levels}


async def _healthy(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as http:
        while time.monotonic() < deadline:
            try:
                async with http.get(url) as r:
                    if r.status == 200:
                        return
            except (TimeoutError, aiohttp.ClientError):
                pass
            await asyncio.sleep(0.2)
    raise TimeoutError(f"{url} not healthy within {timeout:.0f} s")


def measure(portal_url: str, database_url: str, today: date, progress: Callable[[str], None]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="lienthong-bench-") as tmp:
        body_file = Path(tmp) / "bodies.jsonl"
        progress("portal capacity: making the dossiers")
        bodies(body_file, int(MAX_RPS * LEVEL_S * len(CONCURRENCY)), today)
        portal = capacity(f"{portal_url}/api/v1/dossiers", body_file, progress, "portal")
        port = free_port()
        with open(Path(tmp) / "baseline.log", "wb") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "lienthong.bench.baseline", str(port), database_url],
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            asyncio.run(_healthy(f"http://127.0.0.1:{port}/healthz"))
            baseline = capacity(f"http://127.0.0.1:{port}/api/v1/dossiers", body_file, progress, "baseline")
        finally:
            stop_pid(proc.pid, timeout=10)
            proc.wait()
    ratio = portal["capacity_rps"] / baseline["capacity_rps"] if baseline["capacity_rps"] else 0.0
    return {
        "portal_capacity_rps": portal["capacity_rps"],
        "portal_p99_ms": portal["p99_ms"],
        "baseline_capacity_rps": baseline["capacity_rps"],
        "baseline_p99_ms": baseline["p99_ms"],
        "portal_capacity_ratio": round(ratio, 3),
        "portal_levels": portal["levels"],
        "baseline_levels": baseline["levels"],
    }
