"""A local Apache Kafka cluster in KRaft mode: N nodes on loopback, each both broker and
controller, each with its own log directory under `$LT_HOME/kafka/node-<id>`, formatted on
first start.

The broker's jars come from Maven Central through `deploy/kafka/pom.xml` (Maven's
`dependency:copy-dependencies`), cached once per pom under the user's cache directory; nothing
is downloaded from anywhere else. The machine's Java 17 runs them.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import fcntl
import hashlib
import os
import re
import shutil
import signal
import subprocess
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from deploy import kafka_security
from deploy.embedded import free_port, pid_alive, port_open, stop_pid, wait_for
from deploy.polling import until_async
from deploy.state import BrokerRecord, NodeRecord
from runtime import kafkaaccess
from runtime.logging import quiet_aiokafka

POM = Path(__file__).resolve().parent / "kafka" / "pom.xml"
LOG4J = Path(__file__).resolve().parent / "kafka" / "log4j2.properties"
VERSION = "4.1.1"
"""The Kafka version deploy/kafka/pom.xml pins (shown to the user; the pom is what counts)."""
HEAP = os.environ.get("LT_KAFKA_HEAP", "512m")
"""Each node's maximum heap: three nodes share two cores and the services' memory."""
START_TIMEOUT_S = 90.0


class ToolMissing(RuntimeError):
    """Java or Maven is not installed: the message says what to install."""


def cache_dir() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    digest = hashlib.sha256(POM.read_bytes()).hexdigest()[:12]
    return base / "lienthong" / f"kafka-{digest}"


def _need(tool: str, package: str) -> str:
    path = shutil.which(tool)
    if path is None:
        raise ToolMissing(f"`{tool}` is not installed: the Kafka broker needs it (apt-get install {package})")
    return path


def kafka_version() -> str:
    """The Kafka version the pom assembles."""
    found = re.search(r"<kafka\.version>([^<]+)</kafka\.version>", POM.read_text(encoding="utf-8"))
    if found is None:
        raise RuntimeError(f"{POM} names no kafka.version")
    return found.group(1)


def jars_ready() -> bool:
    """Whether the broker's jars were assembled already (else the first start runs Maven)."""
    return (cache_dir() / "lib" / ".complete").exists()


def ensure_jars() -> Path:
    """The broker's class path directory, assembled with Maven on first use."""
    lib = cache_dir() / "lib"
    done = lib / ".complete"
    if done.exists():
        return lib
    _need("java", "openjdk-17-jre-headless")
    mvn = _need("mvn", "maven")
    lib.mkdir(parents=True, exist_ok=True)
    # One assembly at a time, across threads and processes: three nodes starting at once ran
    # three Mavens copying into one folder, and two of them failed on each other's half-copied jars.
    with open(lib.parent / ".assembling", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():
            _assemble(mvn, lib)
    return lib


def _assemble(mvn: str, lib: Path) -> None:
    proc = subprocess.run(
        [
            mvn,
            "-q",
            "-B",
            "-f",
            str(POM),
            "dependency:copy-dependencies",
            f"-DoutputDirectory={lib}",
            "-DincludeScope=runtime",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-15:])
        raise RuntimeError(f"Maven could not assemble the Kafka broker from {POM}:\n{tail}")
    (lib / ".complete").write_text(time.strftime("%Y-%m-%dT%H:%M:%S"))


def new_cluster_id(draw: Callable[[], bytes] = lambda: uuid.uuid4().bytes) -> str:
    """A KRaft cluster id: 16 random bytes in URL-safe base64, drawn again when the text starts
    with "-", because the storage tool's argument parser reads such a value as an option (Kafka's
    own `Uuid.randomUuid` redraws for the same reason)."""
    while True:
        text = base64.urlsafe_b64encode(draw()).decode().rstrip("=")
        if not text.startswith("-"):
            return text


def plan(home: Path, brokers: int, previous: BrokerRecord | None = None, secured: bool = False) -> BrokerRecord:
    """The cluster's layout: its id and each node's ports, kept from `previous` when it had the
    same size and security (a restarted cluster keeps its identity and addresses, and so its
    data)."""
    if brokers < 1:
        raise ValueError(f"--brokers must be at least 1, got {brokers}")
    if previous and len(previous.get("nodes", [])) == brokers and bool(previous.get("secured")) == secured:
        return previous
    cluster_id = new_cluster_id()
    taken: set[int] = set()
    nodes: list[NodeRecord] = []
    for i in range(brokers):
        port = free_port(avoid=taken)
        controller = free_port(avoid=taken | {port})
        taken |= {port, controller}
        nodes.append({"node_id": i + 1, "port": port, "controller_port": controller})
    shutil.rmtree(home / "kafka" / "nodes", ignore_errors=True)  # another size: another cluster
    return {"cluster_id": cluster_id, "nodes": nodes, "secured": secured}


def bootstrap(layout: BrokerRecord) -> str:
    return ",".join(f"127.0.0.1:{n['port']}" for n in layout["nodes"])


def _properties(home: Path, layout: BrokerRecord, node: NodeRecord) -> str:
    n = len(layout["nodes"])
    rf = min(3, n)
    voters = ",".join(f"{v['node_id']}@127.0.0.1:{v['controller_port']}" for v in layout["nodes"])
    data = _node_dir(home, node["node_id"]) / "data"
    settings: dict[str, str | int] = {
        "process.roles": "broker,controller",
        "node.id": node["node_id"],
        "controller.quorum.voters": voters,
        "listeners": f"PLAINTEXT://127.0.0.1:{node['port']},CONTROLLER://127.0.0.1:{node['controller_port']}",
        "advertised.listeners": f"PLAINTEXT://127.0.0.1:{node['port']}",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "PLAINTEXT",
        "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
        "log.dirs": str(data),
        # Topics are created explicitly from the topics file (`lienthong topics apply`); a
        # producer must never create one with another partition count by writing to it.
        "auto.create.topics.enable": "false",
        "num.partitions": 4,
        "default.replication.factor": rf,
        "min.insync.replicas": min(2, rf),
        "offsets.topic.replication.factor": rf,
        "offsets.topic.num.partitions": 8,
        "transaction.state.log.replication.factor": rf,
        "transaction.state.log.min.isr": min(2, rf),
        "share.coordinator.state.topic.replication.factor": rf,
        "share.coordinator.state.topic.min.isr": min(2, rf),
        # A node that died is fenced (its partitions get new leaders) within 3 s instead of 9:
        # at simulation speeds every second of a leaderless partition is hours of sim time.
        "broker.session.timeout.ms": 3000,
        "broker.heartbeat.interval.ms": 500,
        # A simulation's groups form at once; the default 3 s delay is sim days at high speed.
        "group.initial.rebalance.delay.ms": 0,
        "unclean.leader.election.enable": "false",
        "log.segment.bytes": 64 * 1024 * 1024,
        "num.network.threads": 2,
        "num.io.threads": 2,
        "num.recovery.threads.per.data.dir": 1,
        "log.cleaner.threads": 1,
        "background.threads": 2,
    }
    if layout.get("secured"):
        settings.update(kafka_security.properties(kafka_security.ensure(home), node["port"], node["controller_port"]))
    return "".join(f"{k}={v}\n" for k, v in settings.items())


def _node_dir(home: Path, node_id: int) -> Path:
    return home / "kafka" / "nodes" / f"node-{node_id}"


def _java_command(lib: Path, main: str, *args: str) -> list[str]:
    return [
        _need("java", "openjdk-17-jre-headless"),
        f"-Xmx{HEAP}",
        "-Xms128m",
        # Three nodes share two cores with every service: size the JVM's own threads (GC, JIT)
        # for one core each, which also picks the serial collector, right for a 512 MB heap.
        "-XX:+UseG1GC",
        "-Djava.awt.headless=true",
        f"-Dlog4j2.configurationFile={LOG4J}",
        "-cp",
        f"{lib}/*",
        main,
        *args,
    ]


def _format(home: Path, lib: Path, layout: BrokerRecord, node: NodeRecord, config: Path) -> None:
    if (_node_dir(home, node["node_id"]) / "data" / "meta.properties").exists():
        return
    scram = kafka_security.scram_arguments(kafka_security.ensure(home)) if layout.get("secured") else []
    proc = subprocess.run(
        _java_command(
            lib, "kafka.tools.StorageTool", "format", f"--cluster-id={layout['cluster_id']}", "-c", str(config), *scram
        ),
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"formatting Kafka node {node['node_id']} failed: {(proc.stdout + proc.stderr).strip()}")


def start_node(home: Path, layout: BrokerRecord, node_id: int, wait: bool = True) -> NodeRecord:
    """Start one node (formatting its log directory on first start); the answer's `_process` is
    the Popen handle (not for stack.json)."""
    lib = ensure_jars()
    node = next(n for n in layout["nodes"] if n["node_id"] == node_id)
    folder = _node_dir(home, node_id)
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "server.properties"
    config.write_text(_properties(home, layout, node))
    config.chmod(0o600)  # on a secured cluster it holds the broker's password and the keystore's
    _format(home, lib, layout, node, config)
    (home / "logs").mkdir(parents=True, exist_ok=True)
    log_path = home / "logs" / f"kafka-{node_id}.log"
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(
            _java_command(lib, "kafka.Kafka", str(config)),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            env={**os.environ, "LOG_DIR": str(home / "logs")},
        )
    started: NodeRecord = {**node, "pid": proc.pid, "_process": proc, "log": str(log_path)}
    if wait:
        _await_port(proc, node["port"], log_path)
    return started


def _await_port(proc: subprocess.Popen[bytes], port: int, log: Path) -> None:
    wait_for(lambda: port_open(port) or proc.poll() is not None, START_TIMEOUT_S, f"Kafka node on port {port}")
    if proc.poll() is not None:
        raise RuntimeError(f"a Kafka node exited with {proc.returncode}; see {log}")


def start_cluster(
    home: Path, brokers: int, previous: BrokerRecord | None = None, secured: bool = False
) -> BrokerRecord:
    """Start every node of the cluster that is not running (all at once: a controller quorum
    needs a majority of its voters before any node serves); wait until each listens. `secured`:
    TLS, SASL/SCRAM and ACLs (deploy/kafka_security.py), else plain text."""
    layout = plan(home, brokers, previous, secured)
    running = {n["node_id"]: n for n in (previous or {}).get("nodes", []) if pid_alive(n.get("pid"))}
    nodes: list[NodeRecord] = []
    for node in layout["nodes"]:
        alive = running.get(node["node_id"])
        if alive and port_open(node["port"]):
            nodes.append(alive)
        else:
            nodes.append(start_node(home, layout, node["node_id"], wait=False))
    for n in nodes:
        if "_process" in n:
            _await_port(n["_process"], n["port"], Path(n["log"]))
    cluster: BrokerRecord = {
        "kind": "kafka",
        "cluster_id": layout["cluster_id"],
        "nodes": nodes,
        "secured": bool(layout.get("secured")),
    }
    cluster["bootstrap"] = bootstrap(cluster)
    return cluster


def node_alive(node: NodeRecord) -> bool:
    return pid_alive(node.get("pid")) and port_open(int(node.get("port", 0)))


def stop_nodes(pids: list[int], timeout: float = 30.0, sig: signal.Signals = signal.SIGTERM) -> None:
    """Stop nodes together (`sig` to all first: a node shutting down alone waits for the quorum
    the others still form), then wait for each; SIGKILL what outlives `timeout`."""
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, sig)
    deadline = time.monotonic() + timeout
    for pid in pids:
        stop_pid(pid, sig, timeout=max(1.0, deadline - time.monotonic()))


async def _registered(bootstrap: str) -> set[int] | None:
    """The node ids the cluster, asked through `bootstrap`, lists as serving brokers (started
    and unfenced); None while it does not answer."""
    from aiokafka.admin import AIOKafkaAdminClient
    from aiokafka.errors import KafkaError

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=3000, **kafkaaccess.options())
    try:
        await asyncio.wait_for(admin.start(), 5)
        return {int(b["node_id"]) for b in (await asyncio.wait_for(admin.describe_cluster(), 5))["brokers"]}
    except (KafkaError, TimeoutError, OSError):
        return None
    finally:
        with contextlib.suppress(Exception):
            await admin.close()


async def wait_serving(node: NodeRecord, timeout: float = START_TIMEOUT_S) -> float | None:
    """When (real time) the node itself answered a metadata request that lists it: it has
    started and the controller unfenced it. Its port alone proves nothing: a starting node binds
    its listener well before it serves (a restart measured "back in 0.1 s" that way, 21 s early)."""

    async def serving() -> float | None:
        listed = await _registered(f"127.0.0.1:{node['port']}") or ()
        return time.time() if node["node_id"] in listed else None

    with quiet_aiokafka():  # refused connections are the expected answer until it serves
        return await until_async(serving, timeout, every=0.3)


async def wait_registered(bootstrap: str, brokers: int, timeout: float = START_TIMEOUT_S) -> None:
    """Until the cluster has `brokers` brokers registered (its controllers elected a leader and
    every node joined): before that, topics with 3 replicas cannot be created."""
    seen = 0

    async def all_registered() -> bool:
        nonlocal seen
        seen = len(await _registered(bootstrap) or ())
        return seen >= brokers

    if not await until_async(all_registered, timeout, every=0.5):
        raise TimeoutError(f"the Kafka cluster had {seen} of {brokers} brokers registered after {timeout:.0f} s")


async def _describe(bootstrap: str, names: list[str]) -> list[dict[str, Any]]:
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=5000, **kafkaaccess.options())
    await admin.start()
    try:
        described: list[dict[str, Any]] = await admin.describe_topics(names)
        return described
    finally:
        await admin.close()


async def leader_of(bootstrap: str, topic: str, partition: int) -> int | None:
    for t in await _describe(bootstrap, [topic]):
        for p in t["partitions"]:
            if p["partition"] == partition:
                return int(p["leader"])
    return None


async def wait_in_sync(bootstrap: str, names: list[str], timeout: float) -> float | None:
    """When (real time) every partition of `names` had all its replicas in sync; None if not
    within `timeout`."""
    from aiokafka.errors import KafkaError

    async def in_sync() -> float | None:
        parts = [p for t in await _describe(bootstrap, names) for p in t["partitions"]]
        return time.time() if parts and all(set(p["isr"]) == set(p["replicas"]) for p in parts) else None

    return await until_async(in_sync, timeout, every=0.2, not_yet=(KafkaError, TimeoutError, OSError))
