"""The load generator both HTTP targets are driven by (`python -m simulation.bench.loadgen`): a
closed loop of `--concurrency` clients POSTing distinct JSON bodies for `--seconds`, in its own
process. Prints one JSON line: requests, errors, rps, p50_ms, p99_ms."""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from pathlib import Path

import aiohttp

from runtime.secrets import submitter_headers
from runtime.settings import Settings


async def drive(url: str, bodies: list[bytes], concurrency: int, seconds: float, expect: int) -> dict[str, float]:
    latencies: list[float] = []
    errors = 0
    next_body = 0
    stop_at = time.perf_counter() + seconds
    connector = aiohttp.TCPConnector(limit=concurrency)
    # The submitter token, as the workload sends it: capacity is the portal's, not its per-client limit.
    headers = {"Content-Type": "application/json", **submitter_headers(Settings.from_env())}
    async with aiohttp.ClientSession(connector=connector, headers=headers) as http:

        async def client() -> None:
            nonlocal errors, next_body
            while time.perf_counter() < stop_at and next_body < len(bodies):
                body = bodies[next_body]
                next_body += 1
                t0 = time.perf_counter()
                try:
                    async with http.post(url, data=body) as r:
                        await r.read()
                        ok = r.status == expect
                except aiohttp.ClientError:
                    ok = False
                latencies.append(time.perf_counter() - t0)
                errors += not ok

        started = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(concurrency)))
        took = time.perf_counter() - started
    latencies.sort()

    def pct(p: float) -> float:
        return round(1000 * latencies[min(len(latencies) - 1, int(p * len(latencies)))], 1) if latencies else 0.0

    return {
        "requests": len(latencies),
        "errors": errors,
        "rps": round(len(latencies) / took, 1),
        "p50_ms": pct(0.50),
        "p99_ms": pct(0.99),
        "bodies_left": len(bodies) - next_body,
    }


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("url")
    p.add_argument("--bodies", type=Path, required=True, help="JSON lines, one request body each")
    p.add_argument("--concurrency", type=int, default=16)
    p.add_argument("--seconds", type=float, default=8.0)
    p.add_argument("--skip", type=int, default=0, help="bodies already used")
    p.add_argument("--expect", type=int, default=202)
    a = p.parse_args()
    bodies = a.bodies.read_bytes().splitlines()[a.skip :]
    print(json.dumps(asyncio.run(drive(a.url, bodies, a.concurrency, a.seconds, a.expect))), flush=True)


if __name__ == "__main__":
    main()
