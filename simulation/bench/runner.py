"""`lienthong bench`: every figure of the benchmark in one run on one stack, in this order (the
heaviest last): the deadline check and memory (in process), the monitor against a bare faust agent
and plain aiokafka (same broker, same topic), end-to-end chain throughput (the smoke profile at
full speed), then the portal against its bare baseline (same load generator)."""

from __future__ import annotations

import os
import platform
import time
from datetime import datetime
from typing import Any

from contracts.clock import VN_TZ
from deploy import state
from deploy.processes import PROCESSES
from runtime.settings import Settings, clock_env
from runtime.terminal import Console
from simulation.bench import deadlines, monitor, portal, runs
from simulation.bench.child import last_json

PARTS = ("deadlines", "monitor", "chains", "portal", "runs")
PER_BROKER = ("monitor", "chains")
"""The parts measured on each broker of `--broker` (the portal's capacity is measured on the last)."""
BROKER_LABELS = {"kafka-plaintext": ("kafka", True), "kafka-secured": ("kafka", False)}
"""`bench --broker security`: the local Kafka cluster in plain text, then secured."""
COMPARED = ("chain_throughput_per_s", "monitor_events_per_s", "monitor_ingest_ratio", "raw_produce_per_s")


def machine() -> dict[str, Any]:
    return {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()}


def chain_throughput(console: Console) -> dict[str, Any]:
    """Finished birth chains per second, end to end, on the smoke profile at full speed."""
    console.step("chain throughput: `lienthong run --profile smoke` (1,000 birth chains at once)")
    summary = last_json("lienthong.cli", ["run", "--profile", "smoke", "--json"], 1200, "the smoke run")
    finished = summary["chains"]["birth"]["completed"] + summary["chains"]["birth"]["rejected"]
    return {
        "chain_throughput_per_s": round(finished / summary["elapsed_s"], 1),
        "chains_finished": finished,
        "chains_elapsed_s": summary["elapsed_s"],
    }


def portal_capacity(settings: Settings, console: Console) -> dict[str, Any]:
    from deploy import stack

    # The portal alone on a production-speed clock, with its relay and timeline follower, as an
    # integrator would plug it in. The other agencies, the monitor and the dashboard are left out:
    # the baseline has both cores to itself, so the portal gets them too (with the monitor reading
    # on the same two cores it took ~45 % of one, and the broker more, during the portal's levels).
    epoch = datetime.now(VN_TZ)
    anchor = time.time()
    clock: dict[str, str | float] = {"sim_epoch": epoch.isoformat(), "sim_anchor": anchor, "sim_speed": 1.0}
    others = [name for name in PROCESSES if name != "portal"]
    env = clock_env(epoch, anchor, 1.0, settings.sim_max_lag_s)
    settings = stack.start_fresh(settings, console, others, clock, env)
    _, url = settings.require_infra()
    return portal.measure(settings.portal_url, url, epoch.date(), console.step)


def run(
    settings: Settings,
    console: Console,
    parts: list[str],
    monitor_chains: int,
    large: int,
    brokers: list[str] | None = None,
) -> dict[str, Any]:
    """Every part asked for; the monitor and chain parts on each of `brokers` in turn (one
    stack at a time, never two at once on this machine's cores), side by side under `brokers`
    with the ratio of each figure (second ÷ first). The first broker's figures also stand at the
    top level."""
    from deploy import stack

    unknown = set(parts) - set(PARTS)
    if unknown:
        raise ValueError(f"--only: unknown part(s) {', '.join(sorted(unknown))}; expected {', '.join(PARTS)}")
    result: dict[str, Any] = {"machine": machine()}
    started = time.monotonic()
    if "deadlines" in parts:
        result.update(deadlines.measure(console.step, large=large))
    order = brokers or [settings.broker or ""]
    side: dict[str, dict[str, Any]] = {}
    try:
        return _stacked(settings, console, parts, monitor_chains, order, side, result, started)
    finally:
        if {"monitor", "chains", "portal", "runs"} & set(parts):
            # A benchmark leaves the machine as quiet as it found it: a stack left running (three
            # Kafka JVMs among it) would weigh on every figure measured after it.
            console.step("bench done: stopping the stack it ran")
            stack.down(settings, console)


def _stacked(  # noqa: PLR0913 (one bench run's state, handed over once from its composition root)
    settings: Settings,
    console: Console,
    parts: list[str],
    monitor_chains: int,
    order: list[str],
    side: dict[str, dict[str, Any]],
    result: dict[str, Any],
    started: float,
) -> dict[str, Any]:
    from deploy import stack

    stacked = order if {"monitor", "chains", "portal", "runs"} & set(parts) else []
    stages = len(stacked) * len({"monitor", "chains"} & set(parts)) + len({"runs", "portal"} & set(parts))
    done = 0

    def stage(what: str) -> None:
        nonlocal done
        console.count(f"bench: {what}", done, stages)
        done += 1

    for label in stacked:
        broker, plaintext = BROKER_LABELS.get(label, (label, False))
        settings = stack.up(settings.replace(broker=broker, kafka_plaintext=plaintext), console)
        name = label if label in BROKER_LABELS else state.StackState(settings.home.resolve()).broker_kind()
        figures = side.setdefault(name, {})
        if "monitor" in parts:
            stage(f"the monitor on {name}")
            bootstrap, _ = settings.require_infra()
            admin = state.StackState(settings.home.resolve()).stack().get("postgres", {}).get("admin_url")
            if not admin:
                raise RuntimeError("the monitor benchmark needs the embedded PostgreSQL (it makes a database)")
            home = settings.home.resolve() / "bench"
            figures.update(monitor.measure(bootstrap, admin, home, console.step, monitor_chains))
        if "chains" in parts:
            stage(f"the chains on {name}")
            figures.update(chain_throughput(console))
    if side:
        result.update(next(iter(side.values())))
    if len(side) > 1:
        first, second = list(side)[:2]
        result["brokers"] = side
        result[f"{second}_vs_{first}"] = {
            k: round(side[second][k] / side[first][k], 3) for k in COMPARED if side[first].get(k) and k in side[second]
        }
    if "runs" in parts:
        stage("the runs")
        result.update(runs.measure(settings.home.resolve(), console.step))
    if "portal" in parts:
        stage("the portal's capacity")
        result.update(portal_capacity(settings, console))
    if stages:
        console.count("bench", stages, stages)
        console.done()
    result["bench_s"] = round(time.monotonic() - started, 1)
    return result
