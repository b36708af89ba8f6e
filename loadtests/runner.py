"""`lienthong loadtest`: Locust, headless, against the stack, then every accepted dossier followed
to its end through the monitor.

Each load test is a fresh simulation (like `lienthong run`): the services restart on a sim clock
at the shape's speed starting on a Monday at 08:00, so the office day the `lltp-peak-day` shape
compresses is a real one, and the end-to-end count holds only this test's dossiers. Locust runs in
its own process (gevent; no asyncio there); this side waits for it, reads its CSV, then asks the
monitor's tables what became of each accepted dossier: closed (`finished`), not closed but under
an alert (`alerted`: the monitor saw it), or neither (`silent_losses`: must be 0).
"""

from __future__ import annotations

import asyncio
import csv
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg

from contracts.clock import VN_TZ, SimClock
from runtime.conn import Conn
from runtime.secrets import submitter_token
from runtime.settings import Settings, clock_env
from runtime.terminal import Console
from streams import queries

ROOT = Path(__file__).resolve().parents[1]
LOCUSTFILE = ROOT / "loadtests" / "locustfile.py"
EPOCH = datetime(2024, 5, 13, 8, 0, tzinfo=VN_TZ)
"""A Monday with no holiday: the peak day starts at the office's opening."""
LEAD_S = 8.0


@dataclass(frozen=True)
class ShapeDefaults:
    speed: float
    max_fail: float
    """Failure ratio above which the command exits non-zero."""
    staffing: str | None = None
    """The officers the agencies run with (scenarios/staffing/); the shape then measures their
    queue, not each dossier's end."""


SHAPES = {
    # At 10,000 the office day lasts 2.9 real s (so the shape's 20 s floor applies) and a
    # certificate's ten working days about two real minutes.
    "lltp-peak-day": ShapeDefaults(speed=10_000, max_fail=0.0),
    "capacity": ShapeDefaults(speed=40_000, max_fail=1.0),
    "soak": ShapeDefaults(speed=40_000, max_fail=0.0),
    # Hà Tĩnh's peak day for its one officer on duty: at 1,440 the 8-hour office day lasts the
    # shape's 20 s, so the requests arrive over one office day as at the desk; the queue then
    # drains the next morning, about 80 real s later.
    "officer-queue": ShapeDefaults(speed=1_440, max_fail=0.0, staffing="ha-tinh"),
}
QUEUE_WAIT_S = 600.0
"""Real seconds `officer-queue` waits for the desk to take up every accepted request."""


@dataclass(frozen=True)
class Options:
    shape: str
    users: int | None
    duration: float | None
    out: Path
    speed: float | None
    settle_s: float
    extra_env: dict[str, str]


def run(settings: Settings, console: Console, opts: Options) -> tuple[dict[str, Any], int]:
    from deploy import stack

    if opts.shape not in SHAPES:
        raise ValueError(f"--shape {opts.shape!r}: expected one of {', '.join(SHAPES)}")
    defaults = SHAPES[opts.shape]
    speed = opts.speed or defaults.speed
    anchor = time.time() + LEAD_S
    clock: dict[str, str | float] = {"sim_epoch": EPOCH.isoformat(), "sim_anchor": anchor, "sim_speed": speed}
    services = clock_env(EPOCH, anchor, speed, settings.sim_max_lag_s)
    if defaults.staffing:
        from simulation.workload.profiles import staffing_file

        services["LT_STAFFING_FILE"] = str(staffing_file(defaults.staffing, None))
    settings = stack.start_fresh(settings, console, [], clock, services)
    out = opts.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        **clock_env(EPOCH, anchor, speed, settings.sim_max_lag_s),
        "LT_LOADTEST_SHAPE": opts.shape,
        # The load comes through one address, as through the national portal's gateway: it holds
        # the submitter token, so the portal's per-client limit does not cap the test.
        "LT_SUBMITTER_TOKEN": submitter_token(settings),
        "LT_LOADTEST_OUT": str(out),
        "LT_LOADTEST_ONCE": "1" if opts.shape in ("lltp-peak-day", "officer-queue") else "0",
        "LT_LOADTEST_FOLLOW": "0" if opts.shape in ("capacity", "officer-queue") else "1",
        **({"LT_LOADTEST_USERS": str(opts.users)} if opts.users else {}),
        **({"LT_LOADTEST_DURATION": str(opts.duration)} if opts.duration else {}),
        **opts.extra_env,
    }
    if opts.shape == "soak":
        users = int(env.get("LT_LOADTEST_USERS", "20"))
        env.setdefault("LT_LOADTEST_USER_RPS", str(float(env.get("LT_LOADTEST_RPS", "10")) / users))
    (out / "accepted.json").unlink(missing_ok=True)
    time.sleep(max(0.0, anchor - time.time()))  # the office opens
    console.step(f"locust: shape {opts.shape} at sim speed {speed:g} → {settings.portal_url}; reports in {out}")
    started = time.monotonic()
    cmd = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(LOCUSTFILE),
        "--headless",
        "--host",
        settings.portal_url,
        "--csv",
        str(out / "locust"),
        "--html",
        str(out / "locust.html"),
        "--only-summary",
        "--loglevel",
        "WARNING",
    ]
    with open(out / "locust.log", "wb") as log:
        done = subprocess.run(cmd, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, check=False)
    took = time.monotonic() - started
    if not (out / "locust_stats.csv").exists():
        raise RuntimeError(f"locust wrote no statistics (exit {done.returncode}): see {out / 'locust.log'}")
    stats = read_stats(out / "locust_stats.csv")
    ledger = json.loads((out / "accepted.json").read_text(encoding="utf-8")) if (out / "accepted.json").exists() else {}
    accepted = list(ledger.get("accepted", {}))
    console.step(f"locust done in {took:.0f} s: {stats['requests']} requests, {stats['failures']} failures")
    _, url = settings.require_infra()
    queue: list[dict[str, Any]] | None = None
    if defaults.staffing:
        queue = asyncio.run(drained(settings, settings.replace(**clock).clock(), len(accepted), console))
        e2e = None
    else:
        e2e = asyncio.run(follow(url, accepted, opts.settle_s, console))
    steps_path = out / "steps.json"
    steps = json.loads(steps_path.read_text()) if steps_path.exists() else []
    if opts.shape == "capacity":
        sustained = max((s["rps"] for s in steps if s["ok"]), default=0.0)
    else:
        # Submissions over the time the shape was submitting (polls and the wait excluded).
        window = ledger.get("submitting_s") or 0.0
        sustained = round(stats["submits"] / window, 1) if window else 0.0
    result = {
        "shape": opts.shape,
        "requests": stats["requests"],
        "failures": stats["failures"],
        "p50_ms": stats["p50_ms"],
        "p95_ms": stats["p95_ms"],
        "p99_ms": stats["p99_ms"],
        "max_sustained_rps": sustained,
        "e2e": e2e,
        **({"queue": queue} if queue is not None else {}),
    }
    (out / "result.json").write_text(json.dumps({**result, "steps": steps, "speed": speed}, indent=1))
    ratio = stats["failures"] / stats["requests"] if stats["requests"] else 1.0
    lost = e2e["silent_losses"] > 0 if e2e is not None else not queue or any(not d["drained_at"] for d in queue)
    bad = ratio > defaults.max_fail or lost or (opts.shape == "capacity" and sustained == 0)
    return result, 1 if bad else 0


async def drained(settings: Settings, clock: SimClock, accepted: int, console: Console) -> list[dict[str, Any]]:
    """The agencies' desks hour by hour (`GET /queue`), once every accepted request reached its
    desk and the sim clock passed the last take-up (the register plans take-ups ahead, at
    receipt); what they showed when `QUEUE_WAIT_S` ran out otherwise."""
    from simulation.probes import queues

    deadline = time.monotonic() + QUEUE_WAIT_S
    while True:
        desks = await queues(settings.home)
        received = sum(h["received"] for d in desks for h in d["hours"])
        last = max((datetime.fromisoformat(d["hours"][-1]["hour"]) for d in desks if d["hours"]), default=None)
        now = clock.now()
        console.progress(f"queue: {received} of {accepted} requests at the desk · sim {now:%Y-%m-%d %H:%M}")
        if received >= accepted and last is not None and now >= last + timedelta(hours=1):
            break
        if time.monotonic() >= deadline:
            console.step(f"the desk had not taken up every request within {QUEUE_WAIT_S:g} s")
            break
        await asyncio.sleep(1.0)
    console.done()
    return desks


def read_stats(path: Path) -> dict[str, Any]:
    """Locust's aggregated row (and the submissions' rate) from its `_stats.csv`."""
    with path.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    total = next((r for r in rows if r["Name"] == "Aggregated"), None)
    if total is None:
        raise RuntimeError(f"no Aggregated row in {path}")
    submits = [r for r in rows if r["Name"].startswith("submit ")]

    def num(row: dict[str, str], key: str) -> float:
        value = row.get(key) or "0"
        return float(value) if value != "N/A" else 0.0

    return {
        "requests": int(num(total, "Request Count")),
        "failures": int(num(total, "Failure Count")),
        "p50_ms": num(total, "50%"),
        "p95_ms": num(total, "95%"),
        "p99_ms": num(total, "99%"),
        "submits": int(sum(num(r, "Request Count") for r in submits)),
    }


async def follow(url: str, accepted: list[str], settle_s: float, console: Console) -> dict[str, int]:
    """Wait until every accepted dossier is closed or under an alert in the monitor's tables (no
    change for `settle_s` ends the wait), then count."""
    conn = await asyncpg.connect(url)
    try:
        last: tuple[int, int] | None = None
        changed = time.monotonic()
        while True:
            closed, alerted = await _ends(conn, accepted)
            now = (closed, alerted)
            if now != last:
                last, changed = now, time.monotonic()
                console.progress(f"e2e: {closed} closed, {alerted} under an alert, of {len(accepted)} accepted")
            if closed + alerted >= len(accepted) or time.monotonic() - changed > settle_s:
                break
            await asyncio.sleep(1.0)
    finally:
        await conn.close()
    console.done()
    return {
        "accepted": len(accepted),
        "finished": closed,
        "alerted": alerted,
        "silent_losses": len(accepted) - closed - alerted,
    }


async def _ends(conn: Conn, ids: list[str]) -> tuple[int, int]:
    if not ids or not await queries.installed(conn):
        return 0, 0
    closed = await queries.closed_among(conn, ids)
    alerted = await queries.alerted_among(conn, ids)
    return len(closed), len(alerted - closed)
