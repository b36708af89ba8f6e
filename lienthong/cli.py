"""`lienthong`: one command for the stack, runs, verification and the contract."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from contracts.clock import VN_TZ
from lienthong.processes import parse_replicas
from lienthong.ui import Console, table
from services.runtime.logging import configure
from services.runtime.settings import Settings, clock_env

RUN_LEAD_S = 10.0
"""Real seconds between setting a run's clock and sim time reaching the period's start, when no
earlier run on this stack measured how long the services take to be ready."""
MAX_RUN_LEAD_S = 60.0


def run_lead(home: Path) -> float:
    """The lead for the next run: the last measured readiness (services restarted and every
    agency's consumer assigned) with a margin. A handoff sent before its receiver's consumer is
    assigned waits unacknowledged, which the monitor rightly reports as lost (33 alerts at the
    start of a half-year run whose services were ready 10 s after its clock started)."""
    from lienthong import stack

    ready = stack.read_state(home / "stack.json").get("ready_s")
    return RUN_LEAD_S if ready is None else min(MAX_RUN_LEAD_S, max(RUN_LEAD_S, 1.25 * float(ready) + 2.0))


def _emit_json(data: Any) -> None:
    print(json.dumps(data, ensure_ascii=False), flush=True)


def cmd_up(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    from lienthong import stack

    settings = stack.up(_with_broker(args, settings), console, args.external, parse_replicas(args.replicas))
    console.step(f"ready: portal {settings.portal_url} · stop with `lienthong down`")
    return 0


def _with_broker(args: argparse.Namespace, settings: Settings) -> Settings:
    """--broker / --brokers over LT_BROKER / LT_BROKERS; refused before anything starts."""
    if getattr(args, "brokers", None) is not None and args.brokers < 1:
        raise ValueError(f"--brokers {args.brokers}: a cluster needs at least 1 broker")
    if getattr(args, "brokers", None) and (args.broker or settings.broker or "kafka") != "kafka":
        raise ValueError("--brokers sizes an Apache Kafka cluster: use it with --broker kafka")
    return replace(
        settings,
        broker=getattr(args, "broker", None) or settings.broker,
        brokers=getattr(args, "brokers", None) or settings.brokers,
    )


def cmd_topics_apply(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    from lienthong import topics

    result = topics.apply(settings, console, args.dry_run)
    if args.json:
        _emit_json(result)
    else:
        print(topics.render(result))
    return 1 if result["not_applied"] else 0


def cmd_down(_args: argparse.Namespace, settings: Settings, console: Console) -> int:
    from lienthong import stack

    stack.down(settings, console)
    return 0


def cmd_status(args: argparse.Namespace, settings: Settings, _console: Console) -> int:
    from lienthong.status import status

    rows = status(settings)
    if args.json:
        _emit_json({"components": rows})
    else:
        print(table(rows, ["component", "address", "pid", "restarts", "healthy", "partitions"]))
    return 0 if all(r["healthy"] is not False for r in rows) else 1


def cmd_run(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    from lienthong import run, stack
    from lienthong.workload import profiles

    profile = profiles.load(args.profile)
    speed = args.speed or profile.speed
    if speed <= 0:
        raise ValueError("--speed must be positive")
    epoch = datetime.combine(profile.start, datetime.min.time(), VN_TZ)
    faults = {"faults": args.faults, "fault_start": epoch.isoformat(), "fault_days": float(profile.days)}
    injector = replace(settings, sim_speed=speed, **faults).injector()  # a bad scenario fails here, early
    # The services restart first; sim time reaches the period's start once they are ready.
    home = settings.home.resolve()
    lead = run_lead(home)
    anchor = time.time() + lead
    # The bound goes to the services only (the command line never stamps), so it cannot leak
    # from one run's stack.json into the next run's default.
    bound = profile.stamping_bound_s or settings.sim_max_lag_s
    clock = {"sim_epoch": epoch.isoformat(), "sim_anchor": anchor, "sim_speed": speed}
    env = {
        **clock_env(epoch, anchor, speed, bound),
        "LT_LLTP_ISSUER": profile.lltp_issuer,
        **{f"LT_{k.upper()}": str(v) for k, v in faults.items()},
    }
    setup_started = time.monotonic()
    replicas = parse_replicas(args.replicas)
    settings = stack.start_fresh(_with_broker(args, settings), console, args.external, clock, env, replicas)
    setup_s = time.monotonic() - setup_started
    ready_s = asyncio.run(_consumers_ready(home, anchor - lead))
    if ready_s is not None:
        stack.write_state(home / "stack.json", {**stack.read_state(home / "stack.json"), "ready_s": round(ready_s, 2)})
        if ready_s > lead:
            console.step(
                f"warning: the services were ready {ready_s - lead:.1f} s after the run's clock started "
                f"(lead {lead:.0f} s); the next run on this stack leaves more time"
            )
    summary = asyncio.run(
        run.run(profile, settings, settings.clock(), console, settle_s=args.settle, injector=injector)
    )
    from lienthong.chaos import stamping

    summary["stamping"] = {"bound_s": bound, **asyncio.run(stamping(home))}
    if summary["stamping"]["clamped"]:
        console.step(
            f"warning: {summary['stamping']['clamped']} events were stamped later than their model time "
            f"(processing trailed by up to {summary['stamping']['lag_max_s']:.1f} s, bound "
            f"{bound:g} s): alerts on them may come from this machine's lag"
        )
    summary["setup_s"] = round(setup_s, 2)
    summary["ready_s"] = None if ready_s is None else round(ready_s, 2)
    summary["lead_s"] = round(lead, 2)
    if not args.json:
        rows = [{"chain": c, **{k: v for k, v in s.items() if k != "duplicates"}} for c, s in summary["chains"].items()]
        columns = ["chain", "expected", "submitted", "accepted", "completed", "rejected", "refused_at_portal"]
        print(table(rows, [*columns, "in_progress"]))
        if summary["bad_data"]:
            print(
                table(
                    [{"kind": k, **v} for k, v in summary["bad_data"].items()],
                    ["kind", "injected", "refused", "not_refused"],
                )
            )
        print(
            f"{summary['sim_days']} sim days in {summary['elapsed_s']} s (setup {summary['setup_s']} s) · "
            f"{summary['dossiers_per_s']} dossiers/s"
        )
    _emit_json(summary)
    return 0


async def _consumers_ready(home: Path, since: float) -> float | None:
    """Seconds from `since` until every agency's consumer had its partitions (None: not within
    the rejoin timeout, e.g. an agency run elsewhere)."""
    from lienthong.chaos import rejoined

    at = await rejoined(home, since)
    return None if at is None else at - since


def cmd_verify(args: argparse.Namespace, settings: Settings, _console: Console) -> int:
    from lienthong.verify import verify

    _, url = settings.require_infra()
    result = asyncio.run(verify(url))
    if not args.json:
        rows = [{"check": k, "violations": v} for k, v in result["checks"].items()]
        print(table(rows, ["check", "violations"]))
        print(f"dossiers: {result['dossiers']}")
    _emit_json(result)
    return 0 if result["violations"] == 0 else 1


def cmd_alerts(args: argparse.Namespace, settings: Settings, _console: Console) -> int:
    import asyncpg

    from streams import store

    _, url = settings.require_infra()

    async def fetch() -> list[dict[str, Any]]:
        conn = await asyncpg.connect(url)
        try:
            if not await conn.fetchval("SELECT to_regclass('monitor.alerts') IS NOT NULL"):
                return []
            return await store.alerts(conn, only_open=args.open)
        finally:
            await conn.close()

    rows = asyncio.run(fetch())
    if not args.json:
        print(table(rows, ["id", "kind", "severity", "subject", "dossier_id", "due_at", "opened_at", "resolved_at"]))
        print(f"{len(rows)} alerts" + (" open" if args.open else ""))
    _emit_json({"alerts": rows})
    return 0


def cmd_score(args: argparse.Namespace, settings: Settings, _console: Console) -> int:
    from lienthong import score
    from streams.rules import TICK_S, default_rules

    _, url = settings.require_infra()
    truth, alerts, unfinished = asyncio.run(score.collect(url))
    if not truth:
        raise RuntimeError("no ground truth: run `lienthong run --faults report-faults` first")
    ctx = score.Context(default_rules(), speed=settings.sim_speed, heartbeat_s=settings.heartbeat_s, tick_s=TICK_S)
    result = score.score(truth, alerts, unfinished, ctx)
    if not args.json:
        rows = [{"kind": k, "expected": result["expected"][k], "recall": result["recall"][k]} for k in score.KINDS]
        print(table(rows, ["kind", "expected", "recall"]))
        faults = [{"fault": k, **v} for k, v in result["by_fault"].items()]
        print(table(faults, ["fault", "hits", "expected", "caught"]))
        delay = result["detection_delay_s"]
        print(
            f"precision {result['precision']} of {result['alerts']} alerts · detection delay p50 {delay['p50']} s, "
            f"p99 {delay['p99']} s (one tick = {result['tick_s']:g} sim s) · silent losses {result['silent_losses']}"
        )
        lag = result["raise_lag_s"]
        print(f"raised behind the sim clock by p50 {lag['p50']} s, p99 {lag['p99']} s (the watermark's lag + backlog)")
    main = {k: result[k] for k in ("recall", "precision", "detection_delay_s", "silent_losses", "by_fault")}
    details = ("tick_s", "raise_lag_s", "alerts", "expected", "unexplained_alerts", "missed", "silent")
    shown = details if args.verbose else ("tick_s", "raise_lag_s")
    _emit_json({**main, **{k: result[k] for k in shown}})
    return 0


def cmd_dashboard(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    from dashboard.app import token_path
    from lienthong import stack

    settings = stack.up(settings, console)
    from lienthong.status import status

    rows = {r["component"]: r for r in status(settings)}
    row = rows.get("dashboard", {})
    if not row.get("healthy"):
        raise RuntimeError(f"the dashboard is not answering at {row.get('address')}: see its log under logs/")
    where = "LT_OPERATOR_TOKEN" if settings.operator_token else str(token_path(settings))
    console.step(f"dashboard: {row['address']}/ (acknowledge and redrive need the operator token: {where})")
    if args.json:
        _emit_json({"dashboard": f"{row['address']}/", "token": where})
    return 0


def cmd_loadtest(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    from lienthong import loadtest

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
        print(
            f"e2e: {e2e['accepted']} accepted, {e2e['finished']} finished, {e2e['alerted']} under an alert, "
            f"{e2e['silent_losses']} lost silently · reports in {opts.out}"
        )
    _emit_json(result)
    return code


def cmd_bench(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    from lienthong.bench import runner

    parts = args.only or list(runner.PARTS)
    brokers = ["tansu", "kafka"] if args.broker == "both" else [args.broker] if args.broker else None
    result = runner.run(settings, console, parts, args.monitor_chains, args.open_dossiers, brokers)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
        console.step(f"written: {args.out}")
    if not args.json:
        shown = {k: v for k, v in result.items() if not isinstance(v, (dict, list))}
        print(table([{"figure": k, "value": v} for k, v in shown.items()], ["figure", "value"]))
    _emit_json({k: v for k, v in result.items() if not k.endswith("_levels")})
    return 0


def cmd_report(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    from lienthong.report import render, source
    from streams import statistics

    period = statistics.parse_period(args.period)
    _, url = settings.require_infra()
    started = time.perf_counter()
    facts, cutoff = asyncio.run(source.facts(url, period.end))
    rows = statistics.tabulate(facts, period, args.by, cutoff)
    problems = statistics.check(rows)
    if problems:
        raise RuntimeError("the report does not add up: " + "; ".join(problems[:5]))
    written = [render.write(fmt, rows, period, args.by, cutoff, args.out) for fmt in (args.format or ["xlsx", "html"])]
    took = time.perf_counter() - started
    for path in written:
        console.step(f"report written: {path}")
    if cutoff is not None and cutoff < period.end:
        console.step(f"the data ends at {cutoff:%Y-%m-%d %H:%M}: in-progress counts are taken there")
    if args.json:
        _emit_json({**render.document(rows, period, args.by, cutoff), "files": [str(p) for p in written]})
    else:
        total = next((r for r in rows if r.flow == statistics.ALL_FLOWS), None)
        received = total.counts["received"] if total else 0
        _emit_json(
            {
                "period": period.label,
                "dossiers": len(facts),
                "received": received,
                "files": [str(p) for p in written],
                "seconds": round(took, 2),
            }
        )
    return 0


def cmd_redrive(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    import asyncpg

    from lienthong import redrive

    _, url = settings.require_infra()
    prefix = settings.topic_prefix
    if args.auto:
        policy = redrive.Policy(backoff=timedelta(minutes=args.backoff_minutes), cap=args.cap)
        console.step(
            f"redriving open lost alerts automatically (backoff {args.backoff_minutes:g} sim min, doubling; "
            f"at most {args.cap} times each)" + (f" for {args.seconds:g} s" if args.seconds else "; Ctrl-C stops")
        )

        def report(out: redrive.Outcome) -> None:
            console.step(f"redrove {out.alerts} alerts: {out.queued} messages queued")

        queued = asyncio.run(redrive.auto(url, prefix, settings.clock(), policy, args.seconds, report))
        _emit_json({"queued": queued})
        return 0

    async def once() -> redrive.Outcome:
        conn = await asyncpg.connect(url)
        try:
            if args.dossier:
                return await redrive.redrive_dossier(conn, args.dossier, prefix)
            return await redrive.redrive_alerts(conn, await redrive.lost_alerts(conn), prefix)
        finally:
            await conn.close()

    if args.all_lost and args.wait:
        console.step(f"redriving every open lost alert, waiting up to {args.wait:g} s for the dossiers to finish")

        def round_done(out: redrive.Outcome) -> None:
            console.step(f"{out.alerts} open lost alerts: {out.queued} messages queued again from the senders' outbox")

        total, still = asyncio.run(redrive.redrive_all_until_finished(url, prefix, args.wait, round_done))
        console.step(f"{still} accepted dossiers still in progress")
        _emit_json({**total.as_dict(), "still_in_progress": still})
        return 0

    out = asyncio.run(once())
    if not args.json:
        what = f"dossier {args.dossier}" if args.dossier else f"{out.alerts} open lost alerts"
        console.step(f"{what}: {out.queued} messages queued again from the senders' outboxes")
        for missing in out.not_found[:10]:
            console.step(f"nothing to resend here for {missing}: its sender keeps no outbox in this database")
    result = out.as_dict()
    if args.wait:
        console.step(f"waiting up to {args.wait:g} s for the redriven dossiers to finish")
        result["still_in_progress"] = asyncio.run(redrive.wait_finished(url, args.wait))
        console.step(f"{result['still_in_progress']} accepted dossiers still in progress")
    _emit_json(result)
    return 0 if args.dossier is None or out.queued else 1


def cmd_contract_export(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    from contracts.chains import CHAIN_NAMES
    from contracts.export import all_event_schemas, asyncapi

    out: Path = args.out
    (out / "schemas").mkdir(parents=True, exist_ok=True)
    for event_type, schema in all_event_schemas().items():
        (out / "schemas" / f"{event_type}.json").write_text(json.dumps(schema, indent=2, ensure_ascii=False))
    (out / "asyncapi.json").write_text(json.dumps(asyncapi(settings.topic_prefix), indent=2, ensure_ascii=False))
    chains = {
        name: {
            "title_vi": c.title_vi,
            "steps": [
                {
                    "name": s.name,
                    "agency": s.agency,
                    "after": s.after,
                    "procedure": s.procedure,
                    "sla_working_days": s.sla_working_days,
                    "label_vi": s.label_vi,
                }
                for s in c.steps
            ],
        }
        for name, c in settings.chains().items()
        if name in CHAIN_NAMES
    }
    (out / "chains.json").write_text(json.dumps(chains, indent=2, ensure_ascii=False))
    console.step(f"wrote {len(all_event_schemas())} event schemas, asyncapi.json and chains.json to {out}")
    return 0


def _broker_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--broker",
        choices=["tansu", "kafka"],
        default=None,
        help="tansu: embedded, no Java; kafka: an Apache Kafka cluster (KRaft) on loopback (default: LT_BROKER, "
        "else the running one, else tansu)",
    )
    p.add_argument("--brokers", type=int, default=None, metavar="N", help="nodes of the Kafka cluster (default 3)")
    p.add_argument(
        "--replicas",
        default=None,
        metavar="NAME=N,...",
        help="run N processes of an agency or of the monitor in one consumer group, e.g. hotich=2,monitor=2 "
        "(all=2: every agency and the monitor); kept until changed",
    )


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="lienthong", description="Liên thông simulator and monitor")
    sub = p.add_subparsers(dest="command", required=True)

    up = sub.add_parser("up", help="start the broker, PostgreSQL and the agency services")
    _broker_options(up)
    up.add_argument(
        "--external",
        action="append",
        default=[],
        metavar="AGENCY",
        help="leave this agency's simulator out (your own system takes its place)",
    )
    up.set_defaults(func=cmd_up)

    sub.add_parser("down", help="stop everything `up` started").set_defaults(func=cmd_down)

    st = sub.add_parser("status", help="each component's address and health")
    st.add_argument("--json", action="store_true")
    st.set_defaults(func=cmd_status)

    run = sub.add_parser("run", help="submit a workload profile and wait until it settles")
    run.add_argument("--profile", default="smoke")
    run.add_argument("--external", action="append", default=[], metavar="AGENCY")
    _broker_options(run)
    run.add_argument("--json", action="store_true", help="only the JSON summary on stdout")
    run.add_argument("--speed", type=float, default=None, help="sim seconds per real second (default: the profile's)")
    run.add_argument("--settle", type=float, default=30.0, help="seconds without progress that end the wait")
    run.add_argument(
        "--faults",
        default="none",
        metavar="SCENARIO",
        help="inject a fault scenario (scenarios/faults/scenarios/: report-faults, none, ...)",
    )
    run.set_defaults(func=cmd_run)

    ver = sub.add_parser("verify", help="cross-check the agencies' databases")
    ver.add_argument("--json", action="store_true")
    ver.set_defaults(func=cmd_verify)

    al = sub.add_parser("alerts", help="the monitor's alerts")
    al.add_argument("--open", action="store_true", help="only alerts not yet resolved")
    al.add_argument("--json", action="store_true")
    al.set_defaults(func=cmd_alerts)

    sc = sub.add_parser("score", help="the monitor's alerts against the injected faults (ground truth)")
    sc.add_argument("--json", action="store_true", help="only the JSON score on stdout")
    sc.add_argument("--verbose", action="store_true", help="with the missed, unexplained and silent cases")
    sc.set_defaults(func=cmd_score)

    rd = sub.add_parser("redrive", help="publish lost handoffs again from the senders' outboxes")
    which = rd.add_mutually_exclusive_group(required=True)
    which.add_argument("--dossier", metavar="ID", help="every work message sent for this dossier")
    which.add_argument("--all-lost", action="store_true", help="the handoff of every open lost alert")
    which.add_argument("--auto", action="store_true", help="keep redriving open lost alerts with backoff")
    rd.add_argument("--backoff-minutes", type=float, default=60.0, help="--auto: first wait, in sim minutes")
    rd.add_argument("--cap", type=int, default=3, help="--auto: attempts per alert")
    rd.add_argument("--seconds", type=float, default=None, help="--auto: stop after this many real seconds")
    rd.add_argument("--wait", type=float, default=0.0, metavar="S", help="then wait up to S s for dossiers to finish")
    rd.add_argument("--json", action="store_true")
    rd.set_defaults(func=cmd_redrive)

    lt = sub.add_parser("loadtest", help="Locust, headless, against the stack; then every dossier followed to its end")
    lt.add_argument("--shape", required=True, choices=["lltp-peak-day", "capacity", "soak"])
    lt.add_argument("--users", type=int, default=None, help="soak: users; capacity: the most users")
    lt.add_argument("--duration", type=float, default=None, help="seconds (lltp-peak-day: the office day)")
    lt.add_argument("--speed", type=float, default=None, help="sim speed (default per shape)")
    lt.add_argument("--settle", type=float, default=60.0, help="e2e: seconds without progress that end the wait")
    lt.add_argument("--out", type=Path, default=Path("loadtest-results"), help="directory (a folder per shape)")
    lt.add_argument("--set", action="append", metavar="NAME=VALUE", help="a shape parameter (LT_LOADTEST_NAME)")
    lt.add_argument("--json", action="store_true", help="only the JSON result on stdout")
    lt.set_defaults(func=cmd_loadtest)

    be = sub.add_parser("bench", help="the machine's limits, measured side by side in one run (ratios)")
    be.add_argument("--only", action="append", choices=["deadlines", "monitor", "chains", "portal"])
    be.add_argument("--monitor-chains", type=int, default=3000, help="birth chains whose events the monitor reads")
    be.add_argument("--open-dossiers", type=int, default=1_000_000, help="the large size of the deadline check")
    be.add_argument(
        "--broker",
        choices=["tansu", "kafka", "both"],
        default=None,
        help="both: the monitor and chain parts on Tansu, then on the 3-node Kafka cluster, side by side",
    )
    be.add_argument("--out", type=Path, default=None, help="also write the full result (JSON) here")
    be.add_argument("--json", action="store_true", help="only the JSON result on stdout")
    be.set_defaults(func=cmd_bench)

    db = sub.add_parser("dashboard", help="make sure the ops dashboard runs; print its address")
    db.add_argument("--json", action="store_true")
    db.set_defaults(func=cmd_dashboard)

    rp = sub.add_parser("report", help="the periodic statistics report (per flow and area, both rate formulas)")
    rp.add_argument("--period", required=True, help="2024-01, 2024-Q1, 2024-H1, 2024 or 2024-W05")
    rp.add_argument("--by", default="district", choices=["province", "district", "commune"])
    rp.add_argument(
        "--format",
        action="append",
        choices=["xlsx", "html", "csv", "json"],
        help="repeat for several (default: xlsx and html)",
    )
    rp.add_argument("--out", type=Path, default=Path("reports"), help="directory (default ./reports)")
    rp.add_argument("--json", action="store_true", help="print the whole report as JSON on the last line")
    rp.set_defaults(func=cmd_report)

    tp = sub.add_parser("topics", help="topics as configuration (contracts/topics.yaml or LT_TOPICS_FILE)")
    tsub = tp.add_subparsers(dest="topics_command", required=True)
    ta = tsub.add_parser("apply", help="create or update the topics on the cluster; report each difference")
    ta.add_argument("--dry-run", action="store_true", help="only report the differences")
    ta.add_argument("--json", action="store_true")
    ta.set_defaults(func=cmd_topics_apply)

    contract = sub.add_parser("contract", help="the event contract")
    csub = contract.add_subparsers(dest="contract_command", required=True)
    exp = csub.add_parser("export", help="write JSON Schemas, AsyncAPI and chains")
    exp.add_argument("--out", type=Path, required=True)
    exp.set_defaults(func=cmd_contract_export)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    console = Console()
    try:
        settings = Settings.from_env()
        configure("cli", "console", settings.log_level)
        return int(args.func(args, settings, console))
    except (ValueError, RuntimeError, TimeoutError, NotImplementedError) as exc:  # ToolMissing is a RuntimeError
        console.done()
        print(f"lienthong: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
