"""What the product hands to people: the `dashboard`, the statistics `report`, the event `contract`."""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from datetime import date
from pathlib import Path
from typing import Any

from lienthong.commands import emit_json
from runtime.settings import PlatformSettings, Settings
from runtime.terminal import Console


def cmd_dashboard(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    from deploy import stack
    from runtime.secrets import token_path

    settings = stack.up(settings, console)
    from deploy.status import status

    rows = {r["component"]: r for r in status(settings)}
    row = rows.get("dashboard", {})
    if not row.get("healthy"):
        raise RuntimeError(f"the dashboard is not answering at {row.get('address')}: see its log under logs/")
    where = "LT_OPERATOR_TOKEN" if settings.operator_token else str(token_path(settings))
    console.step(f"dashboard: {row['address']}/ (acknowledge and redrive need the operator token: {where})")
    if args.json:
        emit_json({"dashboard": f"{row['address']}/", "token": where})
    return 0


def cmd_report(args: argparse.Namespace, settings: PlatformSettings, console: Console) -> int:
    from ops.report import periods, render, source, statistics
    from ops.report.form import default_form

    if args.period and (args.date_from or args.date_to):
        raise ValueError("give --period (with --cutoff) or --from and --to, not both")
    if args.period:
        period = periods.parse_period(args.period, args.cutoff)
    elif args.date_from and args.date_to:
        if args.cutoff is not None:
            raise ValueError("--cutoff applies to --period; --from and --to are the exact days")
        period = periods.parse_range(args.date_from, args.date_to)
    else:
        raise ValueError("the report needs a period: --period 2024-01 [--cutoff 14], or --from DATE --to DATE")
    _, url = settings.require_infra()
    started = time.perf_counter()
    facts, cutoff = asyncio.run(source.facts(url, period.end))
    by = args.by or statistics.default_level(period)
    rows = statistics.tabulate(statistics.in_units_of(facts, period), period, by, cutoff)
    problems = statistics.check(rows)
    if problems:
        raise RuntimeError("the report does not add up: " + "; ".join(problems[:5]))
    form = default_form(
        [f.province for f in facts],
        cutoff,
        unit=args.unit,
        recipient=args.recipient,
        place=args.place,
        signed_on=args.signed_on,
    )
    written = [render.write(fmt, rows, period, by, cutoff, args.out, form) for fmt in (args.format or ["xlsx", "html"])]
    took = time.perf_counter() - started
    for path in written:
        console.step(f"report written: {path}")
    if cutoff is not None and cutoff < period.end:
        console.step(f"the data ends at {cutoff:%Y-%m-%d %H:%M}: in-progress counts are taken there")
    if args.json:
        emit_json({**render.document(rows, period, by, cutoff), "files": [str(p) for p in written]})
    else:
        total = next((r for r in rows if r.flow == statistics.ALL_FLOWS), None)
        received = total.counts["received"] if total else 0
        emit_json(
            {
                "period": period.label,
                "dossiers": len(facts),
                "received": received,
                "files": [str(p) for p in written],
                "seconds": round(took, 2),
            }
        )
    return 0


def cmd_contract_export(args: argparse.Namespace, settings: PlatformSettings, console: Console) -> int:
    from contracts.chains import CHAIN_NAMES
    from contracts.export import all_event_schemas, asyncapi, chains_document
    from contracts.normative import markdown

    out: Path = args.out
    (out / "schemas").mkdir(parents=True, exist_ok=True)
    for event_type, schema in all_event_schemas().items():
        (out / "schemas" / f"{event_type}.json").write_text(json.dumps(schema, indent=2, ensure_ascii=False))
    document = asyncapi(settings.topic_prefix, settings.partitions)
    (out / "asyncapi.json").write_text(json.dumps(document, indent=2, ensure_ascii=False))
    chains = {n: c for n, c in settings.chains().items() if n in CHAIN_NAMES}
    (out / "chains.json").write_text(json.dumps(chains_document(chains), indent=2, ensure_ascii=False))
    (out / "contract.md").write_text(markdown(), encoding="utf-8")
    console.step(
        f"wrote {len(all_event_schemas())} event schemas, asyncapi.json, chains.json and contract.md "
        f"(the rules in words) to {out}"
    )
    return 0


def register(sub: Any) -> None:
    """Add this module's commands to the `lienthong` parser."""
    db = sub.add_parser("dashboard", help="make sure the ops dashboard runs; print its address")
    db.add_argument("--json", action="store_true", help="the dashboard's address and token path as one JSON line")
    db.set_defaults(func=cmd_dashboard)

    rp = sub.add_parser("report", help="the periodic statistics report (per flow and area, both rate formulas)")
    rp.add_argument("--period", help="2024-01, 2024-Q1, 2024-H1, 2024 or 2024-W05 (calendar periods unless --cutoff)")
    rp.add_argument(
        "--cutoff",
        type=int,
        default=None,
        metavar="DAY",
        help="the period closes on this day of its last month and opens the day after it in the month before "
        "its first (official reports: 14, i.e. 15/12–14/01 for 2024-01)",
    )
    rp.add_argument("--from", dest="date_from", metavar="YYYY-MM-DD", help="first day of an explicit range")
    rp.add_argument("--to", dest="date_to", metavar="YYYY-MM-DD", help="last day of an explicit range (included)")
    rp.add_argument(
        "--by",
        default=None,
        choices=["province", "district", "commune"],
        help="the areas of the rows (default: district before 1 July 2025, commune or ward for a period "
        "that reaches it)",
    )
    rp.add_argument(
        "--format",
        action="append",
        choices=["xlsx", "html", "csv", "json"],
        help="repeat for several (default: xlsx and html)",
    )
    rp.add_argument("--out", type=Path, default=Path("reports"), help="directory (default ./reports)")
    rp.add_argument("--unit", help="the reporting unit in the heading (default: ỦY BAN NHÂN DÂN + the province)")
    rp.add_argument("--recipient", help='after "Kính gửi:" (default: Văn phòng Ủy ban nhân dân + the province)')
    rp.add_argument("--place", help="the place before the signing date (default: the province's name)")
    rp.add_argument(
        "--signed-on",
        type=date.fromisoformat,
        metavar="YYYY-MM-DD",
        help="the signing date (default: the day the data ends, in Vietnam's time)",
    )
    rp.add_argument("--json", action="store_true", help="print the whole report as JSON on the last line")
    rp.set_defaults(func=cmd_report)

    contract = sub.add_parser("contract", help="the event contract")
    csub = contract.add_subparsers(dest="contract_command", required=True)
    exp = csub.add_parser("export", help="write JSON Schemas, AsyncAPI and chains")
    exp.add_argument("--out", type=Path, required=True)
    exp.set_defaults(func=cmd_contract_export)
