"""`lienthong conformance AGENCY`: does the system standing in for AGENCY speak the contract?"""

from __future__ import annotations

import argparse
import asyncio
import time
from dataclasses import replace
from datetime import datetime
from typing import Any

from contracts.clock import VN_TZ, Segment
from lienthong.commands import emit_json
from lienthong.commands.stack import broker_options, with_broker
from runtime.clockfile import LEAD_S as CLOCK_LEAD_S
from runtime.clockfile import write_segments
from runtime.settings import Settings, clock_env
from runtime.terminal import Console, table

EPOCH = datetime(2024, 3, 4, 8, 0, tzinfo=VN_TZ)
"""Sim time at the check's start: a Monday morning, office hours, no holiday near."""
SPEED = 7200.0
"""Sim seconds per real second by default: a working day in 12 real seconds, so the longest chain
the check drives (birth: up to three steps of a few office hours) closes within a minute, while
the stamping bound (5 real s) is ten sim hours."""
LEAD_S = 3.0


def cmd_conformance(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    from deploy import stack
    from simulation.conformance.drive import Plan

    if args.speed <= 0:
        raise ValueError("--speed must be positive")
    plan = Plan(args.agency, dossiers=args.dossiers, timeout_s=args.timeout, attach_s=args.attach_timeout)
    if args.profile:
        from simulation.workload import profiles

        profile = profiles.load(args.profile)  # a bad profile is refused here, naming the file and key
        plan = replace(plan, province=profile.province, mix=tuple(profile.volumes.items()))
    home = settings.home.resolve()
    clock_file = home / "clock.json"
    if args.keep_stack:
        if settings.sim_clock_file is None or not settings.sim_clock_file.exists():
            raise RuntimeError("--keep-stack needs a stack a conformance check or a run started (it has no sim clock)")
        return _report(args, asyncio.run(_checked(settings, replace(plan, fresh=False), console, resume=True)), console)
    # A fresh simulation on its own sim clock, as `run` starts one, with AGENCY left to the
    # system under test (unless --simulator: the project's own simulator is checked).
    settings, _ = stack.ensure_infra(with_broker(args, settings), console)
    clock_file.unlink(missing_ok=True)
    anchor = time.time() + LEAD_S
    write_segments(clock_file, [Segment(anchor, EPOCH, args.speed)])
    clock = {
        "sim_epoch": EPOCH.isoformat(),
        "sim_anchor": anchor,
        "sim_speed": args.speed,
        "sim_clock_file": str(clock_file),
    }
    env = {**clock_env(EPOCH, anchor, args.speed, settings.sim_max_lag_s, clock_file), "LT_SIMULATION": ""}
    external = [] if args.simulator else [args.agency]
    settings = stack.start_fresh(settings, console, external, clock, env)
    return _report(args, asyncio.run(_checked(settings, plan, console, resume=False)), console)


async def _checked(settings: Settings, plan: Any, console: Console, resume: bool) -> tuple[list[Any], dict[str, Any]]:
    """The check, with sim time running for it (resumed on a kept stack) and stopped after."""
    from ops import runclock
    from simulation.conformance.drive import check

    path = settings.sim_clock_file
    if resume and path is not None and runclock.resume(settings.clock(), path):
        await asyncio.sleep(CLOCK_LEAD_S)
    try:
        return await check(settings, plan, console.step)
    finally:
        if path is not None:
            # The check is over: sim time stands still (nothing is left to judge, so unlike a
            # run it need not wait for the monitor's margin).
            runclock.stop(settings.clock(), path)


def _report(args: argparse.Namespace, outcome: tuple[list[Any], dict[str, Any]], console: Console) -> int:
    verdicts, done = outcome
    console.done()
    failed = [v for v in verdicts if not v.passed]
    if not args.json:
        rows = [
            {
                "rule": v.rule,
                "verdict": "pass" if v.passed else "FAIL",
                "checked": v.checked,
                "failed": v.failed,
                "first failure": "" if v.passed else (v.failures or ["nothing to judge"])[0],
            }
            for v in verdicts
        ]
        print(table(rows, ["rule", "verdict", "checked", "failed", "first failure"]))
        for v in failed:
            for why in v.failures[1:]:
                print(f"  {v.rule}: {why}")
        print(
            f"{args.agency}: {len(verdicts) - len(failed)} of {len(verdicts)} rules pass · {done['dossiers']} dossiers "
            f"({', '.join(done['chains'])}), {done['unfinished']} unfinished · {done['elapsed_s']} s · "
            "the rules: contract.md of `lienthong contract export`"
        )
    emit_json({**done, "passed": not failed, "rules": [v.as_dict() for v in verdicts]})
    return 1 if failed else 0


def register(sub: Any) -> None:
    p = sub.add_parser(
        "conformance",
        help="a fresh simulation driving dossiers through AGENCY's own system, judged rule by rule",
    )
    p.add_argument("agency", help="the agency whose system stands in for the simulator (e.g. cutru)")
    p.add_argument(
        "--profile",
        help="draw the dossiers' chains in the profile's proportions and from its province (a name or PATH.yaml)",
    )
    p.add_argument("--simulator", action="store_true", help="check the project's own simulator of AGENCY instead")
    p.add_argument("--dossiers", type=int, default=12, help="valid dossiers to drive through it (default 12)")
    p.add_argument("--timeout", type=float, default=120.0, help="real seconds at most for them to close (default 120)")
    p.add_argument("--speed", type=float, default=SPEED, help=f"sim seconds per real second (default {SPEED:g})")
    p.add_argument(
        "--attach-timeout",
        type=float,
        default=60.0,
        help="real seconds to wait for the system's first heartbeat before driving dossiers anyway (default 60)",
    )
    p.add_argument(
        "--keep-stack",
        action="store_true",
        help="check again on the stack an earlier check started (no fresh start: the system stays attached)",
    )
    p.add_argument("--json", action="store_true", help="only the JSON verdict on stdout")
    broker_options(p)
    p.set_defaults(func=cmd_conformance)
