"""The portal's capacity against a bare baseline, both driven by the same load generator
(loadgen.py) in one run, level by level in turn: the highest rate each sustains with p99 under
`P99_LIMIT_MS` and no error, over rising concurrency.

The portal runs alone (the other agencies, the monitor and the dashboard left out, as the
baseline runs alone): what is measured is its edge, validation and durable acceptance (the
duplicate check, the dossier row and its outbox rows in one statement), with its relay
publishing to the broker and its timeline follower reading the events back, as in service.
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
from simulation.bench.child import ROOT, last_json
from simulation.workload.citizens import CitizenFactory

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
    args = [url, "--bodies", str(body_file), "--concurrency", str(concurrency), "--seconds", str(LEVEL_S)]
    return last_json("simulation.bench.loadgen", [*args, "--skip", str(skip)], 300, "load generator")


def best(levels: list[dict[str, Any]]) -> dict[str, Any]:
    """Capacity: the best rate among the levels within the limits (no error, p99 under the limit)."""
    good = [lv for lv in levels if lv["errors"] == 0 and lv["p99_ms"] < P99_LIMIT_MS]
    top = max(good, key=lambda lv: lv["rps"], default=None)
    return {"capacity_rps": top["rps"] if top else 0.0, "p99_ms": top["p99_ms"] if top else None, "levels": levels}


def side_by_side(
    targets: dict[str, str], body_file: Path, progress: Callable[[str], None]
) -> dict[str, dict[str, Any]]:
    """Every target at each concurrency in turn, level after level: the machine's speed drifts
    from minute to minute here, and interleaving gives both targets the same minutes."""
    levels: dict[str, list[dict[str, Any]]] = {name: [] for name in targets}
    used = dict.fromkeys(targets, 0)
    for c in CONCURRENCY:
        for name, url in targets.items():
            if levels[name] and levels[name][-1]["p99_ms"] > 2 * P99_LIMIT_MS:
                continue  # well past the limit: more clients only queue
            r = drive(url, body_file, c, used[name])
            used[name] += r["requests"]
            levels[name].append({"concurrency": c, **r})
            progress(f"{name}: {c} clients → {r['rps']} rps, p99 {r['p99_ms']} ms, {r['errors']} errors")
    return {name: best(lv) for name, lv in levels.items()}


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
        port = free_port()
        with open(Path(tmp) / "baseline.log", "wb") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "simulation.bench.baseline", str(port), database_url],
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            asyncio.run(_healthy(f"http://127.0.0.1:{port}/healthz"))
            # Each target gets its own run of the bodies (the portal refuses a subject twice).
            found = side_by_side(
                {"portal": f"{portal_url}/api/v1/dossiers", "baseline": f"http://127.0.0.1:{port}/api/v1/dossiers"},
                body_file,
                progress,
            )
            portal, baseline = found["portal"], found["baseline"]
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
