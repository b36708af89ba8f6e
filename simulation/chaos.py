"""Faults a run injects from outside the services: `kill -9` of a service or of the embedded
broker (restarted at once, as a supervisor would), and a service's PostgreSQL connections
terminated. Each is recorded in the ground truth when it happens, with what the harness measured:
when every consumer it disturbed was back (`until`) and, by id, each message it caught in flight
(simulation/inflight.py; effect `in_flight`). So is every window fault of the scenario (an
outage, a payment failure day, an overloaded link), at its window.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Protocol

import asyncpg

from contracts import topics
from contracts.clock import SimClock
from contracts.topics import AGENCIES
from deploy import kafka_cluster
from deploy.embedded import pid_alive, start_broker, stop_pid
from deploy.processes import process_of
from deploy.state import BrokerRecord, StackRecord, StackState
from runtime.ask import Asking
from runtime.clockfile import sleep_until
from runtime.primers import prime, primer_value
from runtime.secrets import operator_token
from runtime.settings import Settings
from runtime.topicadmin import ensure_topics
from simulation.faults import truth
from simulation.faults.catalogue import PROCESS_EFFECTS, Fault
from simulation.faults.inject import Hit, Injector
from simulation.inflight import Flight, in_flight, replay_commands
from simulation.probes import REJOIN_TIMEOUT_S, agency_ports, rejoined, restarted
from simulation.sabotage import TruthRow
from simulation.stranded import replay_stranded
from streams import queries

OTHER_TOPICS_LOSS_S = 10.0
"""Real seconds before a broker crash whose dead letters are published again (nobody records
consuming them, so their loss cannot be told by id)."""
REPLAY_ANSWER_S = 60.0
"""Real seconds the agencies have to answer the replay once they run again (their consumers first
rejoin their groups on the new broker); an unanswered command is sent again meanwhile."""
RESTART_TIMEOUT_S = 90.0
CLOSE_GRACE_S = 1.0


class Progress(Protocol):
    """Where the harness reports what it does (the CLI's console)."""

    def step(self, text: str) -> None: ...


def subject(f: Fault) -> str:
    kind, value = next(iter(f.target.items()))
    if kind == "process":
        return "process:broker" if value == "broker" else f"agency:{process_of(value)}"
    return f"{kind}:{value}"


async def record_windows(settings: Settings, injector: Injector) -> int:
    """Ground truth for the scenario's window faults on agencies and links."""
    hits: list[TruthRow] = []
    for f in injector.faults:
        if f.window is None or f.effect in PROCESS_EFFECTS:
            continue
        opens, ends = injector.window_of(f)
        hits.append((None, None, Hit(f.name, f.effect, subject(f), opens, ends, detail="window")))
    await record(settings, hits)
    return len(hits)


async def run_process_faults(
    settings: Settings,
    clock: SimClock,
    injector: Injector,
    console: Progress,
    done: list[dict[str, str]],
) -> None:
    """Inject each process fault when sim time reaches its window, appending what happened to
    `done`; returns when all are done. Each strike goes at its own time, whether or not an
    earlier one has recovered (a real fault does not wait for the last one), and nothing is
    announced: the run's clock learns of a fault only by the proofs that stop coming
    (simulation/governor.py)."""
    faults = sorted((f for f in injector.faults if f.effect in PROCESS_EFFECTS), key=lambda f: injector.window_of(f)[0])
    await asyncio.gather(*(strike(settings, clock, injector, f, console, done) for f in faults))


async def strike(
    settings: Settings,
    clock: SimClock,
    injector: Injector,
    f: Fault,
    console: Progress,
    done: list[dict[str, str]],
) -> None:
    """One process fault at its time, and its ground truth: what was struck, and what was in flight."""
    at, _ = injector.window_of(f)
    await sleep_until(clock, at)
    target = f.target["process"]
    happened = clock.now()
    struck = time.time()
    recovered: float | None = None
    if f.effect == "kill" and target == "broker":
        detail, recovered, flights = await restart_broker(settings)
    elif f.effect == "kill":
        detail, recovered, flights = await kill_service(settings, target)
    else:
        detail, flights = await drop_connections(settings, target)
    until = clock.at(recovered) if recovered else None
    console.step(f"fault {f.name}: {detail}; {len(flights)} messages in flight")
    done.append(
        {
            "fault": f.name,
            "effect": f.effect,
            "target": target,
            "at": happened.isoformat(),
            "detail": detail,
            "in_flight": str(len(flights)),
            # Real seconds until what was killed served again ("" for a cut of connections,
            # which nothing restarts, or a kill not recovered in time).
            "recovered_s": f"{recovered - struck:.1f}" if recovered else "",
        }
    )
    where = "in flight at " + ("the broker crash" if target == "broker" else f"{f.effect} {target}")
    rows: list[TruthRow] = [(None, None, Hit(f.name, f.effect, subject(f), happened, until, detail=detail))]
    rows += [
        (x.dossier_id, x.event_id, Hit(f.name, "in_flight", x.subject, happened, until, detail=where)) for x in flights
    ]
    await record(settings, rows)


async def kill_service(settings: Settings, name: str) -> tuple[str, float | None, list[Flight]]:
    """kill -9 one process; returns what happened, when (real time) every consumer of its group
    had partitions again (the supervisor restarts it), and what it caught in flight: messages to
    its agency not yet in the inbox, and its own not yet published."""
    home = settings.home.resolve()
    pid = StackState(home).pid_of(name)
    if pid is None or not pid_alive(pid):
        return f"{name} was not running", None, []
    killed = time.time()
    os.kill(pid, signal.SIGKILL)
    agency = process_of(name)
    flights = await _flights(settings, receivers=[agency], unpublished_of=(agency,))
    if agency not in AGENCIES:
        back = await restarted(home, name, pid)
        took = f"serving again {back - killed:.1f} s after" if back else "not serving again in time"
        return f"kill -9 {name} (pid {pid}); the supervisor restarts it; {took}", back, flights
    back = await rejoined(home, killed, {k: v for k, v in agency_ports(home).items() if process_of(k) == agency})
    took = f"its group back {back - killed:.1f} s after" if back else "its group not back in time"
    return f"kill -9 {name} (pid {pid}); the supervisor restarts it; {took}", back, flights


async def drop_connections(settings: Settings, name: str) -> tuple[str, list[Flight]]:
    _, url = settings.require_infra()
    conn = await asyncpg.connect(url)
    try:
        n = await conn.fetchval(
            "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE application_name = $1 AND pid <> pg_backend_pid()) t",
            name,
        )
    finally:
        await conn.close()
    agency = process_of(name)
    flights = await _flights(settings, receivers=[agency], unpublished_of=(agency,))
    return f"terminated {n} PostgreSQL connections of {name}", flights


async def _flights(
    settings: Settings, receivers: list[str], unpublished_of: tuple[str, ...] = (), monitor: bool = False
) -> list[Flight]:
    _, url = settings.require_infra()
    conn = await asyncpg.connect(url)
    try:
        known = [a for a in receivers if a in AGENCIES]
        own = [a for a in unpublished_of if a in AGENCIES]
        return await in_flight(conn, settings.topic_prefix, known, own, monitor)
    finally:
        await conn.close()


async def restart_broker(settings: Settings) -> tuple[str, float | None, list[Flight]]:
    """kill -9 the embedded broker and start it again on its port: everything it held in memory
    (unconsumed messages, group offsets, topics) is gone, as after a real crash. Then what a
    supervisor and an operator do: create the topics again, and ask every agency to publish once
    more from its outbox what may have been lost (docs/operations.md, "Producers and
    durability"). Returns what happened, when (real time) every agency's consumer had rejoined
    its group (the end of the crash's effect), and the messages the broker held unconsumed
    (published again)."""
    home = settings.home.resolve()
    records = StackState(home)
    stack = records.stack()
    broker = stack.get("broker", {})
    if broker.get("kind") == "kafka":
        return await restart_kafka_node(settings, stack)
    pid = broker.get("pid")
    if not pid:
        return "the broker is external; not killed", None, []
    crashed = time.time()
    phases: list[str] = []

    marks = [crashed]

    def phase(name: str) -> None:
        marks.append(time.time())
        phases.append(f"{name} {marks[-1] - marks[-2]:.1f} s")

    if pid_alive(pid):
        os.kill(pid, signal.SIGKILL)
    await asyncio.to_thread(stop_pid, pid, signal.SIGKILL)
    # The clients see their connections end and close them, before they are frozen: a frozen
    # client cannot, and its half-closed connections would hold the broker's port for a minute
    # (Tansu then panics with "Address in use" on the restart).
    await asyncio.sleep(CLOSE_GRACE_S)
    # Tansu's memory storage corrupts a partition when several producers write its first batch
    # at once (AlreadyExists on offset 0); a real cluster keeps its topics. So the clients wait,
    # frozen, until the topics exist again and each partition holds a first message.
    frozen = _services(home)
    monitors = {n for n in frozen if process_of(n) == "monitor"}
    for name, pid in frozen.items():
        if name not in monitors:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGSTOP)
    # The monitor may still hold events it read but has not stored: it stores them first (it
    # cannot write to the dead broker meanwhile), or the replay would send those again and each
    # would read as a duplicate delivery (498 duplicate findings in one month, 0 in the next).
    await monitor_settled(settings)
    for name in monitors:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(frozen[name], signal.SIGSTOP)
    async with contextlib.AsyncExitStack() as exits:
        try:
            phase("gone")
            started = await _start_again(home, broker.get("port", 0))
            # What the broker held and nobody had consumed: frozen, nothing more is consumed.
            flights = await _flights(settings, receivers=list(AGENCIES), monitor=True)
            phase("restarted")
            stack["broker"] = started
            records.save_stack(stack)  # drops the in-process handle
            names = topics.all_topics(settings.topic_prefix)
            await ensure_topics(started["bootstrap"], names, settings.partitions, settings.topic_layout())
            await prime(
                started["bootstrap"],
                names,
                settings.partitions,
                primer_value(settings.topic_prefix, settings.clock().epoch),
            )
            phase("topics")
            # Asked while the services are still frozen: each agency reads the command as soon as it
            # runs again (no agency proves progress while it is frozen or its broker is gone, so
            # sim time stands at its horizon meanwhile), and queues the rows of its own outbox
            # (runtime/commands.py).
            agencies = sorted({process_of(n) for n in frozen} & set(AGENCIES))
            commands = replay_commands(settings.topic_prefix, agencies, flights, crashed - OTHER_TOPICS_LOSS_S)
            asking = await exits.enter_async_context(
                Asking(started["bootstrap"], settings.topic_prefix, settings.partitions, operator_token(settings))
            )
            await asking.send(commands)
            phase("asked")
        finally:
            for pid in frozen.values():
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(pid, signal.SIGCONT)
            resumed = time.time()
        answers = await asking.answers(commands, REPLAY_ANSWER_S)
    replayed = sum(d.queued for d in answers.values())
    silent = sorted({c.agency for c in commands if c.command_id not in answers})
    phase("replayed")
    recovered = await rejoined(home, resumed)
    phase("rejoined")
    late = await replay_stranded(settings, started["bootstrap"], flights, REPLAY_ANSWER_S)
    flights += late
    phase("stranded")
    took = f"consumers back {recovered - crashed:.1f} s after the crash" if recovered else "consumers not back in time"
    took += f" ({', '.join(phases)})"
    return (
        (
            f"kill -9 broker (pid {broker['pid']}), restarted as pid {started['pid']} on port {broker['port']}; "
            f"{replayed} unconsumed messages published again by their senders"
            + (f" ({', '.join(silent)} did not answer the replay)" if silent else "")
            + (f", and {len(late)} stranded by a relay frozen before its sent mark" if late else "")
            + f"; {took}"
        ),
        recovered,
        flights,
    )


async def restart_kafka_node(settings: Settings, stack: StackRecord) -> tuple[str, float | None, list[Flight]]:
    """kill -9 one node of the local Apache Kafka cluster (the leader of the event topic's first
    partition, so the crash matters) and start it again on its ports and log directory. Nothing
    is replayed, frozen or primed: the other replicas hold every acknowledged event, and clients
    fail over to the new leaders by themselves. Returns what happened and when (real time) every
    partition of the simulation's topics had its full set of in-sync replicas again."""
    home = settings.home.resolve()
    broker = stack.get("broker", {})
    nodes = broker.get("nodes", [])
    names = topics.all_topics(settings.topic_prefix)
    leader = await kafka_cluster.leader_of(broker["bootstrap"], topics.dossier_events(settings.topic_prefix), 0)
    node = next((n for n in nodes if n["node_id"] == leader), nodes[0])
    crashed = time.time()
    if pid_alive(node.get("pid")):
        os.kill(node["pid"], signal.SIGKILL)
    # Nothing acknowledged is lost on a replicated cluster, but these wait for new leaders.
    flights = await _flights(settings, receivers=list(AGENCIES), monitor=True)
    await asyncio.to_thread(stop_pid, node["pid"], signal.SIGKILL)
    started = await asyncio.to_thread(kafka_cluster.start_node, home, broker, node["node_id"], False)
    broker["nodes"] = [(started if n["node_id"] == node["node_id"] else n) for n in nodes]
    StackState(home).save_stack(stack)  # drops the in-process handle
    serving = await kafka_cluster.wait_serving(started, REJOIN_TIMEOUT_S)
    in_sync = await kafka_cluster.wait_in_sync(broker["bootstrap"], names, REJOIN_TIMEOUT_S) if serving else None
    took = (
        f"serving again {serving - crashed:.1f} s and every replica in sync {in_sync - crashed:.1f} s after the crash"
        if serving and in_sync
        else "not back in sync in time"
    )
    return (
        (
            f"kill -9 Kafka node {node['node_id']} (pid {node['pid']}, leader of {names[0]}[0]), restarted as pid "
            f"{started['pid']}; nothing replayed; {took}"
        ),
        in_sync,
        flights,
    )


async def _start_again(home: Path, port: int) -> BrokerRecord:
    """Start the broker on its old port; the killed one's socket can hold the port a moment
    (measured: Tansu panicked with "Address in use" once in a half-year run), so try again."""
    deadline = time.monotonic() + RESTART_TIMEOUT_S
    while True:
        try:
            return await asyncio.to_thread(start_broker, home, port)
        except (RuntimeError, TimeoutError):
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.5)


async def monitor_settled(settings: Settings, every_s: float = 0.5, timeout_s: float = 10.0) -> None:
    """Wait until the monitor's stored events stop growing (two reads `every_s` apart agree), at
    most `timeout_s`."""
    _, url = settings.require_infra()
    conn = await asyncpg.connect(url)
    try:
        if await queries.installed(conn):
            await until_still(lambda: queries.event_count(conn), every_s, timeout_s)
    finally:
        await conn.close()


async def until_still(
    count: Callable[[], Awaitable[int]],
    every_s: float,
    timeout_s: float,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> bool:
    """Read `count` every `every_s` until two reads agree (True), or `timeout_s` passed (False)."""
    deadline = clock() + timeout_s
    last = await count()
    while clock() < deadline:
        await sleep(every_s)
        now = await count()
        if now == last:
            return True
        last = now
    return False


def _services(home: Path) -> dict[str, int]:
    """The supervised processes that run, by name (`hotich`, `monitor-2`)."""
    children = StackState(home).supervisor().get("services", {})
    return {n: pid for n, c in children.items() if (pid := c.get("pid")) and pid_alive(pid)}


async def record(settings: Settings, hits: list[TruthRow]) -> None:
    _, url = settings.require_infra()
    conn = await asyncpg.connect(url)
    try:
        await truth.apply_schema(conn)
        async with conn.transaction():
            await truth.record(conn, hits)
    finally:
        await conn.close()
