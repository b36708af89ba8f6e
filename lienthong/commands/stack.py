"""Commands for the stack itself: `up`, `down`, `status`, `topics apply`."""

from __future__ import annotations

import argparse
from typing import Any

from deploy.processes import parse_replicas
from lienthong.commands import emit_json
from runtime.settings import PlatformSettings, Settings
from runtime.terminal import Console, table


def cmd_up(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    from deploy import stack

    settings = stack.up(with_broker(args, settings), console, args.external, parse_replicas(args.replicas))
    console.step(f"ready: portal {settings.portal_url} · stop with `lienthong down`")
    return 0


def with_broker(args: argparse.Namespace, settings: Settings) -> Settings:
    """--broker / --brokers over LT_BROKER / LT_BROKERS; refused before anything starts."""
    if getattr(args, "brokers", None) is not None and args.brokers < 1:
        raise ValueError(f"--brokers {args.brokers}: a cluster needs at least 1 broker")
    if getattr(args, "brokers", None) and (args.broker or settings.broker or "kafka") != "kafka":
        raise ValueError("--brokers sizes an Apache Kafka cluster: use it with --broker kafka")
    return settings.replace(
        broker=getattr(args, "broker", None) or settings.broker,
        brokers=getattr(args, "brokers", None) or settings.brokers,
        alerting=getattr(args, "alerting", False) or settings.alerting,
    )


def cmd_down(_args: argparse.Namespace, settings: PlatformSettings, console: Console) -> int:
    from deploy import stack

    stack.down(settings, console)
    return 0


def cmd_status(args: argparse.Namespace, settings: Settings, _console: Console) -> int:
    from deploy.status import status
    from ops import runclock

    rows = status(settings)
    clock = runclock.state(settings.clock(), settings.sim_clock_file)
    if args.json:
        emit_json({"components": rows, "clock": clock.as_dict()})
    else:
        print(table(rows, ["component", "address", "pid", "restarts", "healthy", "partitions"]))
        state = "running" if clock.running else "stopped (a run settled, or a redrive's wait ended)"
        print(f"sim clock: {clock.sim_time:%Y-%m-%d %H:%M:%S}, {state}")
    return 0 if all(r["healthy"] is not False for r in rows) else 1


def cmd_topics_apply(args: argparse.Namespace, settings: PlatformSettings, console: Console) -> int:
    from deploy import topics

    result = topics.apply(settings, console, args.dry_run, args.allow_repartition)
    if args.json:
        emit_json(result)
    else:
        print(topics.render(result))
    return 1 if result["not_applied"] else 0


def broker_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--broker",
        choices=["tansu", "kafka"],
        default=None,
        help="tansu: embedded, no Java; kafka: an Apache Kafka cluster (KRaft) on loopback (default: LT_BROKER, "
        "else the running one, else tansu)",
    )
    p.add_argument("--brokers", type=int, default=None, metavar="N", help="nodes of the Kafka cluster (default 3)")
    p.add_argument(
        "--alerting",
        action="store_true",
        help="also start Prometheus and Alertmanager (Debian's packages) on the shipped rules and route; "
        "receivers from LT_ALERT_WEBHOOK_URL and LT_ALERT_SMTP (docs/operations.md)",
    )
    p.add_argument(
        "--replicas",
        default=None,
        metavar="NAME=N,...",
        help="run N processes of an agency or of the monitor in one consumer group, e.g. hotich=2,monitor=2 "
        "(all=2: every agency and the monitor); kept until changed",
    )


def register(sub: Any) -> None:
    """Add this module's commands to the `lienthong` parser."""
    up = sub.add_parser("up", help="start the broker, PostgreSQL and the agency services")
    broker_options(up)
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
    st.add_argument(
        "--json", action="store_true", help="every component as JSON: address, pid, restarts, health, the clock"
    )
    st.set_defaults(func=cmd_status)

    tp = sub.add_parser("topics", help="topics as configuration (contracts/topics.yaml or LT_TOPICS_FILE)")
    tsub = tp.add_subparsers(dest="topics_command", required=True)
    ta = tsub.add_parser("apply", help="create or update the topics on the cluster; report each difference")
    ta.add_argument("--dry-run", action="store_true", help="only report the differences")
    ta.add_argument(
        "--allow-repartition",
        action="store_true",
        help="add partitions to keyed topics too: a dossier's later messages may land on another "
        "partition than its earlier ones (docs/operations.md)",
    )
    ta.add_argument("--json", action="store_true", help="the differences as JSON: one object per topic and setting")
    ta.set_defaults(func=cmd_topics_apply)
