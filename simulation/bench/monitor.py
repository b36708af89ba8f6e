"""The monitor's ingest rate against a bare faust agent on the same topic, and the broker's own
limit (plain aiokafka: acks=all batches produced, idempotent where the broker allows, and read
back), on the same broker in one run.

A fresh topic prefix is filled with the events of `chains` synthetic birth chains. Then, one after
the other: plain aiokafka reads and decodes them all; the bare agent (bare_agent.py) consumes,
decodes and counts them; the real monitor (`python -m streams`, with detection and its PostgreSQL
state, on a database of its own) ingests them: its rate is taken from its first stored event to
its last, as its /healthz reports them."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
from aiokafka import AIOKafkaConsumer, TopicPartition

from contracts import topics
from deploy.embedded import free_port, stop_pid
from runtime import kafkaaccess
from runtime.db import ensure_database
from runtime.kafka import AIOKafkaPublisher
from runtime.topicadmin import ensure_topics
from simulation.bench.lifecycle import START, chains

ROOT = Path(__file__).resolve().parents[2]
PARTITIONS = 4


async def fill(bootstrap: str, prefix: str, n_chains: int) -> int:
    topic = topics.dossier_events(prefix)
    await ensure_topics(bootstrap, [topic], PARTITIONS)
    publisher = AIOKafkaPublisher(bootstrap, client_id="bench-fill")
    await publisher.start()
    count = 0
    try:
        batch: list[tuple[str, bytes | None, bytes]] = []
        for e in chains(n_chains):
            batch.append((topic, e.key, e.to_json()))
            if len(batch) >= 2000:
                await publisher.publish_many(batch)
                count += len(batch)
                batch = []
        if batch:
            await publisher.publish_many(batch)
            count += len(batch)
    finally:
        await publisher.stop()
    return count


async def raw_consume(bootstrap: str, prefix: str, expected: int) -> float:
    topic = topics.dossier_events(prefix)
    c = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, auto_offset_reset="earliest", **kafkaaccess.options()
    )
    await c.start()
    try:
        c.assign([TopicPartition(topic, p) for p in range(PARTITIONS)])
        n = 0
        started = time.perf_counter()
        while n < expected:
            batches = await c.getmany(timeout_ms=1000, max_records=5000)
            for records in batches.values():
                for r in records:
                    json.loads(r.value)
                n += len(records)
        return n / (time.perf_counter() - started)
    finally:
        await c.stop()


def bare_agent(bootstrap: str, prefix: str, expected: int, home: Path) -> float:
    home.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "LT_KAFKA_BOOTSTRAP": bootstrap,
        "LT_TOPIC_PREFIX": prefix,
        "LT_BENCH_EVENTS": str(expected),
        "LT_BENCH_DATADIR": str(home / f"bare-{prefix}"),
    }
    done = subprocess.run(
        [sys.executable, "-m", "simulation.bench.bare_agent", "worker"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    # faust's worker writes terminal control codes before our line: take the JSON object itself.
    lines = [line[line.index("{") :] for line in done.stdout.splitlines() if '"per_s"' in line]
    if not lines:
        raise RuntimeError(f"the bare agent reported nothing (exit {done.returncode}): {done.stderr[-2000:]}")
    return float(json.loads(lines[-1])["per_s"])


def start_monitor(bootstrap: str, url: str, prefix: str, home: Path) -> tuple[subprocess.Popen[bytes], int, Path]:
    port = free_port()
    where = home / f"monitor-{prefix}"
    where.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("LT_")}
    env.update(
        LT_KAFKA_BOOTSTRAP=bootstrap,
        LT_DATABASE_URL=url,
        LT_TOPIC_PREFIX=prefix,
        LT_PARTITIONS=str(PARTITIONS),
        LT_HOME=str(where),
        LT_SERVICE_PORT=str(port),
        # The clock stands just after the events: they are judged as they come, like live ones.
        LT_SIM_EPOCH=START.isoformat(),
        LT_SIM_ANCHOR=repr(time.time()),
        LT_SIM_SPEED="1",
        LT_LOG_FORMAT="json",
        LT_LOG_LEVEL="warning",
    )
    with open(where / "monitor.log", "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streams"],
            env=env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return proc, port, where


async def monitor_rate(proc: subprocess.Popen[bytes], port: int, where: Path, expected: int) -> float:
    """Events per second from the monitor's first stored event to the last, from its /healthz."""
    first: tuple[float, int] | None = None
    deadline = time.monotonic() + 900
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as http:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"the monitor ended (exit {proc.returncode}); see {where}/monitor.log")
            seen = 0
            try:
                async with http.get(f"http://127.0.0.1:{port}/healthz") as r:
                    seen = int((await r.json(content_type=None)).get("events", 0))
            except (TimeoutError, aiohttp.ClientError, ValueError):
                pass
            now = time.perf_counter()
            if seen and first is None:
                first = (now, seen)
            if seen >= expected and first is not None:
                return (seen - first[1]) / max(1e-9, now - first[0])
            await asyncio.sleep(0.1)
    raise RuntimeError("the monitor did not ingest the benchmark's events within 900 s")


def measure(
    bootstrap: str, admin_url: str, home: Path, progress: Callable[[str], None], n_chains: int
) -> dict[str, Any]:
    prefix = f"bench{uuid.uuid4().hex[:8]}"
    progress(f"monitor ingest: writing {n_chains:,} birth chains' events to {topics.dossier_events(prefix)}")
    started = time.perf_counter()
    total = asyncio.run(fill(bootstrap, prefix, n_chains))
    produced = total / (time.perf_counter() - started)
    progress(f"monitor ingest: plain aiokafka reads {total:,} events")
    raw = asyncio.run(raw_consume(bootstrap, prefix, total))
    progress("monitor ingest: the bare faust agent")
    bare = bare_agent(bootstrap, prefix, total, home)
    progress("monitor ingest: the monitor (detection and PostgreSQL state)")
    db = f"bench_{prefix}"
    asyncio.run(ensure_database(admin_url, db))
    proc, port, where = start_monitor(bootstrap, admin_url.rsplit("/", 1)[0] + f"/{db}", prefix, home)
    try:
        monitor = asyncio.run(monitor_rate(proc, port, where, total))
    finally:
        stop_pid(proc.pid, timeout=20)
        proc.wait()
    return {
        "events": total,
        "raw_produce_per_s": round(produced, 1),
        "raw_consume_per_s": round(raw, 1),
        "bare_agent_per_s": round(bare, 1),
        "monitor_events_per_s": round(monitor, 1),
        "monitor_ingest_ratio": round(monitor / bare, 3),
    }
