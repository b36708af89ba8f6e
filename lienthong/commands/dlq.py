"""`lienthong dlq`: the dead letters by reason, and their replay (ops/dlq.py)."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from lienthong.commands import emit_json
from runtime.secrets import operator_token
from runtime.settings import PlatformSettings
from runtime.terminal import Console, table


def cmd_dlq(args: argparse.Namespace, settings: PlatformSettings, console: Console) -> int:
    from ops import dlq

    bootstrap, _ = settings.require_infra()
    found = asyncio.run(dlq.read(bootstrap, settings.topic_prefix, settings.partitions))
    if args.action != "replay":
        rows = dlq.by_reason(found.letters)
        if not args.json:
            if rows:
                shown = [{**r, "ids": ", ".join(r["ids"][:2]) + (" …" if len(r["ids"]) > 2 else "")} for r in rows]
                print(table(shown, ["agency", "letters", "replayable", "reason", "ids"]))
            console.step(f"{len(found.letters)} dead letters in {len(rows)} groups")
        emit_json({"letters": len(found.letters), "unreadable": found.unreadable, "by_reason": rows})
        return 0
    if not args.ids and args.reason is None:
        raise ValueError("dlq replay: name letters by id, or give --reason TEXT")
    chosen = dlq.select(found.letters, args.ids, args.reason)
    unknown = sorted(set(args.ids) - {lt.letter_id for lt in found.letters})
    console.step(f"asking the agencies to replay {len(chosen)} dead letters")
    token = operator_token(settings)
    out = asyncio.run(dlq.replay(bootstrap, settings.topic_prefix, settings.partitions, chosen, args.wait, token))
    result = {**out.as_dict(), "unknown": unknown}
    if not args.json:
        console.step(
            f"{out.replayed} replayed, {out.skipped} replayed before (not again), "
            f"{len(out.not_replayable)} not replayable (the monitor's: the producer publishes again)"
        )
        for agency in out.no_answer:
            console.step(f"no answer from {agency}: is it running? its letters were not replayed")
    emit_json(result)
    return 1 if out.no_answer or out.missing or unknown else 0


def register(sub: Any) -> None:
    """Add this module's commands to the `lienthong` parser."""
    dl = sub.add_parser("dlq", help="the dead letters by reason; `dlq replay` applies fixed ones again")
    dl.add_argument("action", nargs="?", choices=["replay"], help="replay the letters named by id or --reason")
    dl.add_argument("ids", nargs="*", metavar="ID", help="letter ids (with replay)")
    dl.add_argument("--reason", metavar="TEXT", help="replay: every letter whose reason contains TEXT")
    dl.add_argument("--wait", type=float, default=30.0, metavar="S", help="replay: seconds to wait for the answers")
    dl.add_argument(
        "--json",
        action="store_true",
        help="the dead letters as JSON, one object per letter, with counts by agency and reason",
    )
    dl.set_defaults(func=cmd_dlq)
