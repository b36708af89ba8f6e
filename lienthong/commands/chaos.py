"""`lienthong chaos`: a fault-free workload on a fresh stack while a chaos plan kills and restarts
its processes (the broker or one Kafka node, each service and replica, the monitor, the
dashboard), freezes some for a while, and cuts agencies' PostgreSQL connections, on a schedule;
then the score, a redrive of whatever the monitor reported lost, and verify. The last line of stdout is the verdict:
`{"kills", "freezes", "silent_losses", "violations", "false_alerts", "clamped", "recovered", "elapsed_s", ...}`.

Why on top of `run`: the strikes are an ordinary fault scenario of process faults, so they are
injected, recorded in the ground truth (what each one caught in flight, by id) and scored exactly
as any other run's; chaos adds only the schedule and the verdict."""

from __future__ import annotations

import argparse
import asyncio
import time
from pathlib import Path
from typing import Any

import yaml

from deploy.processes import parse_replicas
from deploy.state import StackState, settings_from_env
from lienthong.commands import emit_json
from lienthong.commands.stack import broker_options, with_broker
from runtime.settings import Settings
from runtime.terminal import Console, table

REDRIVE_WAIT_S = 180.0


def cmd_chaos(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    from deploy import runlock

    with runlock.held(settings.home.resolve(), "chaos"):
        return _chaos(args, settings, console)


def _chaos(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    from simulation import chaosplan
    from simulation.bootstrap import RunRequest, execute
    from simulation.scoring.verdict import judge_run

    started = time.monotonic()
    plan = chaosplan.load(args.plan)  # a bad plan is refused before anything starts
    replicas = args.replicas if args.replicas is not None else plan.replicas
    planned = chaosplan.strikes(plan, parse_replicas(replicas))
    home = settings.home.resolve()
    scenario = home / "chaos" / f"{plan.name}.yaml"
    scenario.parent.mkdir(parents=True, exist_ok=True)
    scenario.write_text(
        "# Written by `lienthong chaos` from the plan; a fault scenario of process faults only.\n"
        + yaml.safe_dump(chaosplan.scenario_doc(plan, planned), allow_unicode=True, sort_keys=False),
        encoding="utf-8",
    )
    kills = sum(1 for s in planned if s.effect == "kill")
    freezes = sum(1 for s in planned if s.effect == "freeze")
    console.step(
        f"chaos plan {plan.name}: {kills} kills, {freezes} freezes and {len(planned) - kills - freezes} "
        "connection cuts over "
        f"{plan.between[0]:.0%}–{plan.between[1]:.0%} of the period (scenario {scenario})"
    )
    run_args = RunRequest(
        profile=args.profile,
        replicas=replicas or None,
        speed=args.speed,
        governor=True,
        settle_s=args.settle,
        allow_unfinished=True,
        faults=str(scenario),
    )
    summary = execute(run_args, with_broker(args, settings), console)
    # The run wrote its clock into the stack's state: read the settings again, as `lienthong score` does.
    verdict = asyncio.run(judge_run(settings_from_env(), console.step, args.redrive_wait))
    done = summary.get("process_faults", [])
    result = {
        "plan": plan.name,
        "profile": summary.get("profile", args.profile),
        "broker": _broker(home),
        "kills": sum(1 for f in done if f.get("effect") == "kill"),
        "freezes": sum(1 for f in done if f.get("effect") == "freeze"),
        "connection_cuts": sum(1 for f in done if f.get("effect") == "drop_connections"),
        "silent_losses": verdict["silent_losses"],
        "violations": verdict["violations"],
        "false_alerts": verdict["false_alerts"],
        "unexplained": verdict["unexplained"],
        # A killed process restarted, a frozen one resumed, each serving again in time.
        "recovered": sum(1 for f in done if f.get("effect") in ("kill", "freeze") and f.get("recovered_s")),
        "fault_errors": len(summary.get("fault_errors", [])),
        "accepted": sum(c.get("accepted", 0) for c in summary["chains"].values()),
        "alerts": verdict["alerts"],
        "explained_by": verdict["explained_by"],
        "redriven": verdict["redriven"],
        "unfinished": verdict["unfinished"],
        "clamped": int((summary.get("stamping") or {}).get("clamped", 0)),
        "elapsed_s": round(time.monotonic() - started, 1),
    }
    if not args.json:
        rows = [
            {
                "fault": f["fault"],
                "recovered_s": f.get("recovered_s") or "—",
                "in_flight": f["in_flight"],
                "detail": f["detail"][:90],
            }
            for f in done
        ]
        print(table(rows, ["fault", "recovered_s", "in_flight", "detail"]))
        print(
            f"{result['kills']} kills and {result['freezes']} freezes ({result['recovered']} recovered), "
            f"{result['connection_cuts']} connection cuts · "
            f"{result['accepted']} dossiers · silent losses {result['silent_losses']} · violations "
            f"{result['violations']} · false alerts {result['false_alerts']} of {result['alerts']} · "
            f"{result['unfinished']} unfinished after redrive · {result['clamped']} stamps clamped · "
            f"{result['elapsed_s']} s"
        )
    emit_json(result)
    # A clamped stamp means a verdict judged on a time the clock did not keep: the bound should never fire.
    clean = (
        result["silent_losses"] == 0
        and result["violations"] == 0
        and result["false_alerts"] == 0
        and result["clamped"] == 0
    )
    struck = result["kills"] + result["freezes"]
    return 0 if clean and result["recovered"] == struck and not result["fault_errors"] else 1


def _broker(home: Path) -> str:
    return StackState(home).broker_kind()


def register(sub: Any) -> None:
    """Add this module's commands to the `lienthong` parser."""
    chaos = sub.add_parser(
        "chaos",
        help="run a fault-free workload while killing, freezing and restarting the stack's processes on a schedule",
    )
    chaos.add_argument("--profile", default="smoke", help="the workload profile (default smoke)")
    chaos.add_argument(
        "--plan",
        default="full",
        metavar="PLAN",
        help="what to strike and when: a plan of scenarios/chaos/ (full, short) or a PATH.yaml of your own",
    )
    broker_options(chaos)
    chaos.add_argument(
        "--speed", type=float, default=None, help="the governed clock's ceiling (default: the profile's)"
    )
    chaos.add_argument("--settle", type=float, default=30.0, help="seconds without progress that end the run")
    chaos.add_argument(
        "--redrive-wait",
        type=float,
        default=REDRIVE_WAIT_S,
        help=f"seconds the redrive waits for the dossiers to finish (default {REDRIVE_WAIT_S:g})",
    )
    chaos.add_argument("--json", action="store_true", help="only the JSON verdict on stdout")
    chaos.set_defaults(func=cmd_chaos)
