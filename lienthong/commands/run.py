"""`lienthong run`: a workload profile on a freshly started stack, waited until it settles."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from lienthong.commands import emit_json
from lienthong.commands.stack import broker_options, with_broker
from runtime.settings import Settings
from runtime.terminal import Console, table

if TYPE_CHECKING:
    from simulation.bootstrap import RunRequest


def cmd_run(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    from deploy import runlock

    with runlock.held(settings.home.resolve(), "run"):
        return _run(args, settings, console)


def request_of(args: argparse.Namespace) -> RunRequest:
    """The run the flags ask for."""
    from simulation.bootstrap import RunRequest

    return RunRequest(
        profile=args.profile,
        speed=args.speed,
        governor=args.governor,
        settle_s=args.settle,
        faults=args.faults,
        external=tuple(args.external),
        replicas=args.replicas,
        allow_unfinished=args.allow_unfinished,
    )


def _run(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    from simulation.bootstrap import execute, exit_code

    summary = execute(request_of(args), with_broker(args, settings), console)
    allowed = args.allow_unfinished or args.faults != "none"
    if not args.json:
        rows = [{"chain": c, **{k: v for k, v in s.items() if k != "duplicates"}} for c, s in summary["chains"].items()]
        columns = ["chain", "expected", "submitted", "accepted", "completed", "rejected", "refused_at_portal"]
        print(table(rows, [*columns, "in_progress"]))
        if summary["bad_data"]:
            print(
                table(
                    [{"kind": k, **v} for k, v in summary["bad_data"].items()],
                    ["kind", "injected", "refused", "result_not_delivered", "in_progress", "not_refused"],
                )
            )
        for desk in summary.get("queues", []):
            print(queue_table(desk))
        print(
            f"{summary['sim_days']} sim days in {summary['elapsed_s']} s (setup {summary['setup_s']} s) · "
            f"{summary['dossiers_per_s']} dossiers/s"
        )
    emit_json(summary)
    return exit_code(summary, allowed)


QUEUE_COLUMNS = {
    "hour": "Giờ",
    "received": "Nhận",
    "taken_up": "Đã tiếp nhận",
    "waiting": "Còn chờ cuối giờ",
    "wait_mean_min": "Chờ trung bình (phút)",
    "wait_max_min": "Chờ lâu nhất (phút)",
}


def queue_table(desk: dict[str, Any]) -> str:
    """A desk's queue hour by hour, as an officer reads it (local hours, Vietnamese headings)."""
    rows = [
        {
            QUEUE_COLUMNS[k]: (v[:16].replace("T", " ") if k == "hour" else ("" if v is None else v))
            for k, v in r.items()
        }
        for r in desk["hours"]
    ]
    drained = desk["drained_at"][:16].replace("T", " ") if desk.get("drained_at") else "chưa hết hàng chờ"
    head = (
        f"Hàng chờ: {desk['label_vi']} ({desk['officers']} cán bộ) · đông nhất {desk['peak_waiting']} hồ sơ chờ · "
        f"hết hàng chờ: {drained}"
    )
    return head + "\n" + table(rows, list(QUEUE_COLUMNS.values()))


def register(sub: Any) -> None:
    """Add this module's commands to the `lienthong` parser."""
    run = sub.add_parser("run", help="submit a workload profile and wait until it settles")
    run.add_argument("--profile", default="smoke")
    run.add_argument("--external", action="append", default=[], metavar="AGENCY")
    broker_options(run)
    run.add_argument("--json", action="store_true", help="only the JSON summary on stdout")
    run.add_argument(
        "--speed",
        type=float,
        default=None,
        help="sim seconds per real second: the ceiling of a governed run (default: as fast as the services keep "
        "up, at most 16× the profile's speed and 20× while nothing is due; that speed stays the yardstick of "
        "ticks and bounds) or a steady run's pace",
    )
    run.add_argument(
        "--governor",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="slow or pause the sim clock while the services trail, so the machine's load changes no verdict "
        "(default; --no-governor: a steady clock at --speed, whatever the services keep up with)",
    )
    run.add_argument("--settle", type=float, default=30.0, help="seconds without progress that end the wait")
    run.add_argument(
        "--allow-unfinished",
        action="store_true",
        help="exit 0 even if dossiers are still in progress when the run settles (a fault scenario always "
        "allows it: its faults hold dossiers for redrive)",
    )
    run.add_argument(
        "--faults",
        default="none",
        metavar="SCENARIO",
        help="inject a fault scenario: a name from scenarios/faults/scenarios/ (report-faults, none, "
        "two-communes-signing, ...) or the path of a scenario file of your own (PATH.yaml)",
    )
    run.set_defaults(func=cmd_run)
