"""Measuring the stack and the machine: `loadtest` (Locust) and `bench` (ratios side by side)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from lienthong.commands import emit_json
from lienthong.commands.run import queue_table
from runtime.settings import Settings
from runtime.terminal import Console, table


def cmd_loadtest(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    from deploy import runlock

    with runlock.held(settings.home.resolve(), "loadtest"):
        return _loadtest(args, settings, console)


def _loadtest(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    from loadtests import runner as loadtest

    extra = {}
    for item in args.set or []:
        key, sep, value = item.partition("=")
        if not sep or not key.isidentifier():
            raise ValueError(f"--set {item!r}: expected NAME=VALUE (e.g. REQUESTS=380)")
        extra[f"LT_LOADTEST_{key.upper()}"] = value
    opts = loadtest.Options(
        shape=args.shape,
        users=args.users,
        duration=args.duration,
        out=args.out / args.shape,
        speed=args.speed,
        settle_s=args.settle,
        extra_env=extra,
    )
    result, code = loadtest.run(settings, console, opts)
    if not args.json:
        e2e = result["e2e"]
        print(
            f"{result['requests']} requests, {result['failures']} failures · p50 {result['p50_ms']} ms, "
            f"p95 {result['p95_ms']} ms, p99 {result['p99_ms']} ms · max sustained {result['max_sustained_rps']} rps"
        )
        if e2e is not None:
            print(
                f"e2e: {e2e['accepted']} accepted, {e2e['finished']} finished, {e2e['alerted']} under an alert, "
                f"{e2e['silent_losses']} lost silently · reports in {opts.out}"
            )
        for desk in result.get("queue", []):
            print(queue_table(desk))
    emit_json(result)
    return code


def cmd_bench(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    from simulation.bench import runner

    parts = args.only or list(runner.PARTS)
    both = {"both": ["tansu", "kafka"], "security": ["kafka-plaintext", "kafka-secured"]}
    brokers = both.get(args.broker) or ([args.broker] if args.broker else None)
    if args.broker == "security" and "monitor" in parts:
        raise ValueError(
            "--broker security compares the secured cluster with plain text end to end: use --only chains "
            "(the monitor part's bare faust agent is a plain-text baseline)"
        )
    result = runner.run(settings, console, parts, args.monitor_chains, args.open_dossiers, brokers)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
        console.step(f"written: {args.out}")
    if not args.json:
        shown = {k: v for k, v in result.items() if not isinstance(v, (dict, list))}
        print(table([{"figure": k, "value": v} for k, v in shown.items()], ["figure", "value"]))
    emit_json({k: v for k, v in result.items() if not k.endswith("_levels")})
    return 0


def register(sub: Any) -> None:
    """Add this module's commands to the `lienthong` parser."""
    lt = sub.add_parser("loadtest", help="Locust, headless, against the stack; then every dossier followed to its end")
    lt.add_argument("--shape", required=True, choices=["lltp-peak-day", "officer-queue", "capacity", "soak"])
    lt.add_argument("--users", type=int, default=None, help="soak: users; capacity: the most users")
    lt.add_argument("--duration", type=float, default=None, help="seconds (lltp-peak-day: the office day)")
    lt.add_argument("--speed", type=float, default=None, help="sim speed (default per shape)")
    lt.add_argument("--settle", type=float, default=60.0, help="e2e: seconds without progress that end the wait")
    lt.add_argument("--out", type=Path, default=Path("loadtest-results"), help="directory (a folder per shape)")
    lt.add_argument("--set", action="append", metavar="NAME=VALUE", help="a shape parameter (LT_LOADTEST_NAME)")
    lt.add_argument("--json", action="store_true", help="only the JSON result on stdout")
    lt.set_defaults(func=cmd_loadtest)

    be = sub.add_parser("bench", help="the machine's limits, measured side by side in one run (ratios)")
    be.add_argument("--only", action="append", choices=["deadlines", "monitor", "chains", "portal", "runs"])
    be.add_argument("--monitor-chains", type=int, default=3000, help="birth chains whose events the monitor reads")
    be.add_argument("--open-dossiers", type=int, default=1_000_000, help="the large size of the deadline check")
    be.add_argument(
        "--broker",
        choices=["tansu", "kafka", "both", "security"],
        default=None,
        help="both: the monitor and chain parts on Tansu, then on the 3-node Kafka cluster, side by side; "
        "security: the chains on the Kafka cluster in plain text, then secured (TLS, SASL, ACLs)",
    )
    be.add_argument("--out", type=Path, default=None, help="also write the full result (JSON) here")
    be.add_argument("--json", action="store_true", help="only the JSON result on stdout")
    be.set_defaults(func=cmd_bench)
