"""What the monitor and the auditors say about a run: `verify`, `alerts`, `score`, `redrive`."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from lienthong.commands import emit_json
from runtime.settings import PlatformSettings, Settings
from runtime.terminal import Console, table

if TYPE_CHECKING:
    from contracts.alerts import Finding

T = TypeVar("T")


def cmd_verify(args: argparse.Namespace, settings: PlatformSettings, _console: Console) -> int:
    from simulation.scoring.verify import verify

    _, url = settings.require_infra()
    result = asyncio.run(verify(url))
    if not args.json:
        rows = [{"check": k, "violations": v} for k, v in result["checks"].items()]
        print(table(rows, ["check", "violations"]))
        print(f"dossiers: {result['dossiers']}")
    emit_json(result)
    return 0 if result["violations"] == 0 else 1


def cmd_alerts(args: argparse.Namespace, settings: PlatformSettings, _console: Console) -> int:
    import asyncpg

    from streams import queries, store
    from streams.incidents import IncidentDoc

    _, url = settings.require_infra()

    async def fetch() -> list[IncidentDoc]:
        conn = await asyncpg.connect(url)
        try:
            if not await queries.installed(conn):
                return []
            return await store.alerts(conn, only_open=args.open)
        finally:
            await conn.close()

    rows = asyncio.run(fetch())
    found = sum(len(a["findings"]) for a in rows)
    if not args.json:
        shown = [{**a, "findings": len(a["findings"])} for a in rows]
        columns = ["id", "kind", "severity", "subject", "dossier_id", "findings", "due_at", "opened_at", "resolved_at"]
        print(table(shown, columns))
        print(f"{len(rows)} alerts" + (" open" if args.open else "") + f" ({found} findings)")
    emit_json({"alerts": rows, "findings": found})
    return 0


def cmd_score(args: argparse.Namespace, settings: Settings, _console: Console) -> int:
    from simulation.scoring import expect, score

    _, url = settings.require_infra()
    expected = expect.load(args.expect) if args.expect else None  # a bad file is refused before anything runs
    truth, alerts, unfinished = asyncio.run(score.collect(url))
    if not truth and not asyncio.run(score.monitored(url)):
        raise RuntimeError("nothing to score: the monitor has seen no event; run a profile first (`lienthong run`)")
    if expected is not None:
        return _score_expected(args, expected, alerts, unfinished)
    ctx = score.context_of(settings)
    result = score.score(truth, alerts, unfinished, ctx)
    result["faults_recorded"] = len(truth)
    if not truth and not args.json:
        # A fault-free run: nothing explains an alert, so every one is false.
        verdict = "every one a false alert" if alerts else "none false"
        print(f"no fault was injected in this run: {len(alerts)} findings, {verdict}")
    if not args.json:
        rows = [{"kind": k, "expected": result["expected"][k], "recall": result["recall"][k]} for k in score.KINDS]
        print(table(rows, ["kind", "expected", "recall"]))
        faults = [{"fault": k, **v} for k, v in result["by_fault"].items()]
        print(table(faults, ["fault", "hits", "expected", "caught"]))
        delay = result["detection_delay_s"]
        print(
            f"precision {result['precision']} of {result['alerts']} findings in {result['incidents']} incidents · "
            f"detection delay p50 {delay['p50']} s, "
            f"p99 {delay['p99']} s (one tick = {result['tick_s']:g} sim s) · silent losses {result['silent_losses']}"
        )
        lag = result["raise_lag_s"]
        print(f"raised behind the sim clock by p50 {lag['p50']} s, p99 {lag['p99']} s (the watermark's lag + backlog)")
        rules = ", ".join(f"{k} {v}" for k, v in result["explained_by"].items() if v) or "none"
        print(f"explained by: {rules}")
        if args.verbose:
            for e in result["explanations"]:
                print(f"  #{e['id']} {e['kind']} {e['dossier_id'] or ''}: {e['why']}")
    main = {
        k: result[k]
        for k in (
            "recall",
            "precision",
            "detection_delay_s",
            "silent_losses",
            "incidents",
            "findings_per_incident",
            "faults_recorded",
            "false_alerts",
            "explained_by",
        )
    }
    main["by_fault"] = result["by_fault"]
    details = ("tick_s", "raise_lag_s", "alerts", "expected", "unexplained_alerts", "missed", "silent", "explanations")
    shown = details if args.verbose else ("tick_s", "raise_lag_s")
    emit_json({**main, **{k: result[k] for k in shown}})
    return 0


def _score_expected(args: argparse.Namespace, expected: Any, alerts: list[Finding], unfinished: list[str]) -> int:
    from simulation.scoring.expect import score_expected
    from simulation.scoring.score import KINDS

    result = score_expected(expected, alerts, unfinished)
    if not args.json:
        rows = [{"kind": k, "expected": result["expected"][k], "recall": result["recall"][k]} for k in KINDS]
        print(table(rows, ["kind", "expected", "recall"]))
        false = ", ".join(f"{k} {v}" for k, v in result["false_alerts"].items() if v) or "none"
        print(
            f"precision {result['precision']} of {result['alerts']} findings in {result['incidents']} incidents "
            f"(against {args.expect}) · false alarms: {false} · silent losses {result['silent_losses']}"
        )
    shown = ("recall", "precision", "silent_losses", "incidents", "expected", "alerts", "false_alerts")
    emit_json({k: v for k, v in result.items() if args.verbose or k in shown})
    return 0


def cmd_redrive(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    import asyncpg

    from ops import redrive, runclock

    _, url = settings.require_infra()
    asker = redrive.Asker.of(settings)

    def with_clock(make: Callable[[], Awaitable[T]]) -> T:
        """Sim time runs while the redriven dossiers need it (a run stops it where it settled,
        ops/runclock.py), and stands still again afterwards."""

        async def go() -> T:
            async with runclock.running(settings.clock(), settings.sim_clock_file):
                return await make()

        return asyncio.run(go())

    if args.auto:
        policy = redrive.Policy(backoff=timedelta(minutes=args.backoff_minutes), cap=args.cap)
        console.step(
            f"redriving open lost alerts automatically (backoff {args.backoff_minutes:g} sim min, doubling; "
            f"at most {args.cap} times each)" + (f" for {args.seconds:g} s" if args.seconds else "; Ctrl-C stops")
        )

        def report(out: redrive.Outcome) -> None:
            console.step(f"redrove {out.alerts} alerts: {out.queued} messages queued")

        queued = with_clock(lambda: redrive.auto(asker, url, settings.clock(), policy, args.seconds, report))
        emit_json({"queued": queued})
        return 0

    async def once() -> redrive.Outcome:
        if args.dossier:
            return await redrive.redrive_dossier(asker, args.dossier)
        conn = await asyncpg.connect(url)
        try:
            alerts = await redrive.lost_alerts(conn)
        finally:
            await conn.close()
        return await redrive.redrive_alerts(asker, alerts)

    if args.all_lost and args.wait:
        console.step(f"redriving every open lost alert, waiting up to {args.wait:g} s for the dossiers to finish")

        def round_done(out: redrive.Outcome) -> None:
            console.step(f"{out.alerts} open lost alerts: {out.queued} messages queued again from the senders' outbox")

        total, still = with_clock(lambda: redrive.redrive_all_until_finished(asker, url, args.wait, round_done))
        console.step(f"{still} accepted dossiers still in progress")
        emit_json({**total.as_dict(), "still_in_progress": still})
        return 0

    out = asyncio.run(once())
    if not args.json:
        what = f"dossier {args.dossier}" if args.dossier else f"{out.alerts} open lost alerts"
        console.step(f"{what}: {out.queued} messages queued again from the senders' outboxes")
        for missing in out.not_found[:10]:
            console.step(f"nothing resent for {missing}: its sender holds no such message or did not answer")
    result: dict[str, object] = {**out.as_dict()}
    if args.wait:
        console.step(f"waiting up to {args.wait:g} s for the redriven dossiers to finish")
        still = with_clock(lambda: redrive.wait_finished(url, args.wait))
        result["still_in_progress"] = still
        console.step(f"{still} accepted dossiers still in progress")
    emit_json(result)
    return 0 if args.dossier is None or out.queued else 1


def register(sub: Any) -> None:
    """Add this module's commands to the `lienthong` parser."""
    ver = sub.add_parser("verify", help="cross-check the agencies' databases")
    ver.add_argument("--json", action="store_true", help='the last line is JSON: {"violations": N, "checks": {...}}')
    ver.set_defaults(func=cmd_verify)

    al = sub.add_parser("alerts", help="the monitor's alerts")
    al.add_argument("--open", action="store_true", help="only alerts not yet resolved")
    al.add_argument("--json", action="store_true", help="the incidents as JSON, every finding listed")
    al.set_defaults(func=cmd_alerts)

    sc = sub.add_parser("score", help="the monitor's alerts against the injected faults (ground truth)")
    sc.add_argument("--json", action="store_true", help="only the JSON score on stdout")
    sc.add_argument(
        "--expect",
        type=Path,
        metavar="FILE",
        help="score against this list of dossiers and the alert kind each should raise (YAML or JSON, "
        "`expect: [{dossier_id, kind}]`), not the recorded ground truth: an integrator's deliberate faults",
    )
    sc.add_argument(
        "--verbose",
        action="store_true",
        help="with the missed, unexplained and silent cases, and the fact that explained each alert",
    )
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
    rd.add_argument("--json", action="store_true", help="the last line is JSON: queued, alerts, still in progress")
    rd.set_defaults(func=cmd_redrive)
