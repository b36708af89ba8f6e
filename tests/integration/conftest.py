"""The real stack for integration tests: the brokers and PostgreSQL, started once per session;
each test module gets its own database and topic prefix, so modules cannot interfere.

`infra` is the embedded broker (Tansu) unless a module parametrises it indirectly with
`BROKERS`: then its tests run on Tansu and on a 3-node Apache Kafka cluster (KRaft, replication
factor 3, min.insync.replicas 2), which stays up for the whole session."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiokafka import AIOKafkaConsumer

from contracts import topics
from deploy import kafka_cluster
from deploy.embedded import free_port, start_broker, start_postgres, stop_pid
from runtime.db import ensure_database
from runtime.service import serve
from runtime.settings import Settings
from services.registry import agency_spec
from tests.conftest import SESSION_OWNED

pytestmark = pytest.mark.integration

SIM_EPOCH = "2024-03-04T08:00:00+07:00"
SIM_SPEED = 50_000.0


BROKERS = ["tansu", "kafka"]
"""Parametrise `infra` with these (indirect=True) to run a module on both brokers."""


@dataclass(frozen=True)
class Infra:
    bootstrap: str
    admin_url: str
    broker: str = "tansu"
    cluster: dict[str, Any] | None = None
    """The Kafka cluster's layout and nodes (kafka only): what a test that kills a node needs."""
    home: Path | None = None


@pytest.fixture(scope="session")
def postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    home = tmp_path_factory.mktemp("postgres")
    (home / "logs").mkdir()
    server = start_postgres(home)
    try:
        yield server
    finally:
        stop_pid(server["pid"], signal.SIGINT, timeout=30)
        server["_process"].wait()


@pytest.fixture(scope="session")
def tansu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    home = tmp_path_factory.mktemp("tansu")
    (home / "logs").mkdir()
    broker = start_broker(home)
    try:
        yield broker
    finally:
        stop_pid(broker["pid"])
        broker["_process"].wait()


@pytest.fixture(scope="session")
def kafka(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[dict[str, Any], Path]]:
    """A 3-node Apache Kafka cluster for the session (its jars from Maven Central, cached)."""
    home = tmp_path_factory.mktemp("kafka")
    cluster = kafka_cluster.start_cluster(home, 3)
    try:
        asyncio.run(kafka_cluster.wait_registered(cluster["bootstrap"], 3))
        yield cluster, home
    finally:
        # A scratch cluster whose logs are thrown away: no clean shutdown to wait for (a graceful
        # stop of three nodes took 10.8 s of every run).
        kafka_cluster.stop_nodes([n["pid"] for n in cluster["nodes"]], sig=signal.SIGKILL)
        for node in cluster["nodes"]:
            node["_process"].wait()


async def kill_and_restart_node(infra: Infra, node_id: int) -> dict[str, Any]:
    """kill -9 one node of the session's Kafka cluster and start it again on its ports and log
    directory; returns the node once it serves again. The session fixture stops it at the end."""
    assert infra.cluster is not None
    assert infra.home is not None
    node = next(n for n in infra.cluster["nodes"] if n["node_id"] == node_id)
    os.kill(node["pid"], signal.SIGKILL)
    await asyncio.to_thread(stop_pid, node["pid"], signal.SIGKILL)
    if "_process" in node:
        node["_process"].wait()  # its handle learns it died (it is replaced below)
    layout = {"cluster_id": infra.cluster["cluster_id"], "nodes": infra.cluster["nodes"]}
    started = await asyncio.to_thread(kafka_cluster.start_node, infra.home, layout, node_id, False)
    SESSION_OWNED.add(started["pid"])
    node.update(started)  # its handle too: the session fixture waits for it
    assert await kafka_cluster.wait_serving(started, 120) is not None, f"Kafka node {node_id} not back"
    return node


@pytest.fixture(scope="session")
def infra(request: pytest.FixtureRequest, postgres: dict[str, Any]) -> Infra:
    broker = getattr(request, "param", "tansu")
    if broker == "kafka":
        cluster, home = request.getfixturevalue("kafka")
        return Infra(cluster["bootstrap"], postgres["admin_url"], "kafka", cluster, home)
    return Infra(request.getfixturevalue("tansu")["bootstrap"], postgres["admin_url"])


@dataclass
class Agencies:
    settings: Settings
    ports: dict[str, int]

    @property
    def portal(self) -> str:
        return self.settings.portal_url

    def today(self) -> date:
        """The sim date: what citizens' dossiers are dated against."""
        return self.settings.clock().now().date()


async def wait_ready(ports: dict[str, int], timeout: float = 60) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as http:
        for name, port in ports.items():
            while True:
                with contextlib.suppress(aiohttp.ClientError, asyncio.TimeoutError):
                    async with http.get(f"http://127.0.0.1:{port}/healthz") as r:
                        if r.status == 200:
                            break
                assert loop.time() < deadline, f"{name} not ready within {timeout} s"
                await asyncio.sleep(0.2)


ASKERS = frozenset({"hotich", "cutru", "lltp"})
"""Agencies whose steps ask the population database (runtime/verification.py)."""


@contextlib.asynccontextmanager
async def running(infra: Infra, names: list[str], tmp: Path, **overrides: Any) -> AsyncIterator[Agencies]:
    """Run the named agencies in this process against a fresh database and topic prefix."""
    db = f"it_{uuid.uuid4().hex[:10]}"
    await ensure_database(infra.admin_url, db)
    fields: dict[str, Any] = {
        # Monday 08:00 in sim time, a working week in about ten real seconds.
        "sim_epoch": SIM_EPOCH,
        "sim_anchor": time.time(),
        "sim_speed": SIM_SPEED,
        "topic_prefix": f"it{uuid.uuid4().hex[:8]}",
        "portal_port": free_port(),
        "heartbeat_s": 1.0,
        # Tests submit and poll as fast as they can from one address: the per-client limit has a
        # test of its own (test_portal_edges.py).
        "portal_rate_limit": 0.0,
        **overrides,
    }
    ports: dict[str, int] = {}
    if set(names) & ASKERS and "dancu" not in names:
        # The agencies that check identities ask the population database, as in a stack.
        names = [*names, "dancu"]
    if "dancu" in names:
        ports["dancu"] = free_port()
        fields.setdefault("dancu_url", f"http://127.0.0.1:{ports['dancu']}")
    base = Settings(
        kafka_bootstrap=infra.bootstrap,
        database_url=infra.admin_url.rsplit("/", 1)[0] + f"/{db}",
        home=tmp,
        **fields,
    )
    stop = asyncio.Event()
    tasks = []
    for name in names:
        ports[name] = ports.get(name) or (base.portal_port if name == "portal" else free_port())
        settings = base if name == "portal" else base.replace(service_port=ports[name])
        tasks.append(asyncio.create_task(serve(agency_spec(name), settings, stop), name=f"agency-{name}"))
    try:
        await wait_ready(ports)
        yield Agencies(base, ports)
    finally:
        stop.set()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        errors = [r for r in results if isinstance(r, BaseException)]
        assert not errors, f"agencies failed: {errors}"


ROOT = Path(__file__).resolve().parents[2]


@contextlib.contextmanager
def monitor_process(
    settings: Settings, tmp: Path, port: int | None = None, stop: signal.Signals = signal.SIGTERM
) -> Iterator[subprocess.Popen[bytes]]:
    """The monitor as it runs in production: `python -m streams`, a faust worker in its own
    process, on the stack's broker, database, topics and clock, its HTTP on `port`. Its log is
    `tmp/monitor.log`. `stop` ends it (SIGKILL: a test that read what it needed already and
    throws the rest away, without faust's graceful stop of 1.5 s)."""
    with service_process("streams", "monitor", settings, tmp, port or free_port(), stop=stop) as process:
        yield process


@contextlib.contextmanager
def service_process(
    module: str,
    instance: str,
    settings: Settings,
    tmp: Path,
    port: int,
    stop: signal.Signals = signal.SIGTERM,
    **extra: str,
) -> Iterator[subprocess.Popen[bytes]]:
    """One process as the supervisor runs it (`python -m MODULE`), named `instance` among its
    replicas, on the stack's broker, database, topics and clock, its HTTP on `port`. Its log is
    `tmp/INSTANCE.log`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LT_")}
    env.update(
        LT_KAFKA_BOOTSTRAP=settings.kafka_bootstrap or "",
        LT_DATABASE_URL=settings.database_url or "",
        LT_TOPIC_PREFIX=settings.topic_prefix,
        LT_HOME=str(tmp),
        LT_INSTANCE=instance,
        LT_SERVICE_PORT=str(port),
        LT_PORTAL_PORT=str(port if module == "services.portal" else settings.portal_port),
        LT_SIM_EPOCH=str(settings.sim_epoch),
        LT_SIM_ANCHOR=repr(settings.sim_anchor),
        LT_SIM_SPEED=repr(settings.sim_speed),
        LT_SIM_MAX_LAG_S=repr(settings.sim_max_lag_s),
        LT_HEARTBEAT_S=repr(settings.heartbeat_s),
        LT_DANCU_URL=settings.dancu_url,
        LT_LOG_FORMAT="json",
        **extra,
    )
    with open(tmp / f"{instance}.log", "ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", module],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
            start_new_session=True,
        )
    try:
        yield process
    finally:
        stop_pid(process.pid, stop, timeout=20)
        process.wait()


@contextlib.asynccontextmanager
async def dropping_reader(settings: Settings, agency: str) -> AsyncIterator[list[int]]:
    """A broken system in `agency`'s place: it reads the agency's work topic in the agency's
    consumer group and commits, and answers nothing. The monitor then has the broker's proof that
    each handoff was read and never acknowledged: lost (streams/backlog.py). Yields the running
    count of messages read."""
    consumer = AIOKafkaConsumer(
        topics.work(agency, settings.topic_prefix),
        bootstrap_servers=settings.kafka_bootstrap,
        group_id=f"{settings.topic_prefix}.{agency}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    read = [0]

    async def drop() -> None:
        while True:
            batches = await consumer.getmany(timeout_ms=200)
            read[0] += sum(len(rs) for rs in batches.values())
            if batches:
                await consumer.commit()

    task = asyncio.create_task(drop())
    try:
        yield read
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await consumer.stop()


async def judged_past(port: int, t: datetime, monitor: Any, tmp_path: Path, timeout: float = 120) -> None:
    """Until the monitor's judged time (its /healthz `judged_at`) is at or past `t`: every
    deadline before `t` has been judged, so an alert due by then has been raised."""
    async with aiohttp.ClientSession() as http, asyncio.timeout(timeout):
        while True:
            assert monitor.poll() is None, (tmp_path / "monitor.log").read_text()[-3000:]
            with contextlib.suppress(aiohttp.ClientError):
                async with http.get(f"http://127.0.0.1:{port}/healthz") as r:
                    judged = (await r.json()).get("judged_at")
                    if judged and datetime.fromisoformat(judged) >= t:
                        return
            await asyncio.sleep(0.2)
