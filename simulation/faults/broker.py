"""The broker's crash, as the chaos harness strikes it: `kill -9` of the embedded broker (started
again on its port, its memory gone, then what a supervisor and an operator do: the topics made
again and every sender asked to publish what may have been lost), or of one node of the local
Apache Kafka cluster (started again on its ports and log directory; nothing replayed). Each
returns what happened, when (real time) the crash's effect ended, and what it caught in flight
(simulation/chaos.py records it)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path

import asyncpg

from contracts import topics
from contracts.topics import AGENCIES
from deploy import kafka_cluster
from deploy.embedded import pid_alive, start_broker, stop_pid
from deploy.processes import process_of
from deploy.state import BrokerRecord, StackRecord, StackState
from runtime.ask import Asking
from runtime.primers import prime, primer_value
from runtime.secrets import operator_token
from runtime.settings import Settings
from runtime.topicadmin import ensure_topics
from simulation.inflight import Flight, caught, replay_commands
from simulation.probes import REJOIN_TIMEOUT_S, rejoined, running_services
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
    frozen = to_freeze(running_services(home))
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
            flights = await caught(settings, receivers=list(AGENCIES), monitor=True)
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
            agencies = to_ask(StackState(home).supervisor().get("services", {}))
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


def to_freeze(running: dict[str, int]) -> dict[str, int]:
    """The processes a broker crash freezes and then resumes: those running, less any already
    stopped (hung by another strike), which the crash must not resume before that strike ends."""
    return {name: pid for name, pid in running.items() if not stopped(pid)}


def to_ask(supervised: Iterable[str]) -> list[str]:
    """The agencies asked to publish again what the broker lost: every one the stack supervises,
    running or not. One killed just before the crash (its restart fails while the broker is
    down), or hung by another strike, still holds messages the broker lost; it reads the command
    when it runs again, and the asker sends an unanswered command again meanwhile."""
    return sorted({process_of(n) for n in supervised} & set(AGENCIES))


def stopped(pid: int) -> bool:
    """Whether the process is stopped by a signal (state `T` in /proc): hung, not dead."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] == "T"


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
    flights = await caught(settings, receivers=list(AGENCIES), monitor=True)
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
