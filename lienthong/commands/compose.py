"""`lienthong compose check`: the compose file started as local processes, its wiring proven
(deploy/compose_check.py)."""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path
from typing import Any

from lienthong import exits
from lienthong.commands import emit_json
from runtime.settings import PlatformSettings
from runtime.terminal import Console, table


def cmd_compose_check(args: argparse.Namespace, _settings: PlatformSettings, console: Console) -> int:
    from deploy import compose_check

    compose = Path(args.file) if args.file else compose_check.COMPOSE
    if not compose.is_file():
        raise ValueError(f"compose check: no compose file at {compose}")
    workdir = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="lienthong-compose-"))
    if workdir.exists() and any(workdir.iterdir()) and args.workdir:
        raise ValueError(f"compose check: {workdir} is not empty (the check starts from empty volumes)")
    console.step(f"starting {compose} as local processes in {workdir}")
    report = compose_check.Check(compose, workdir, console).run()
    console.done()
    if args.json:
        emit_json(report.as_dict())
    else:
        rows = [{**s.__dict__, "ok": "yes" if s.ok else "NO"} for s in report.steps]
        print(table(rows, ["what", "ok", "seconds", "detail"]))
        if report.ok:
            print("the wiring holds")
        elif len(report.steps) == 1:
            print("the file would not come up as written: nothing was started")
        else:
            print(f"the wiring fails; the containers' logs are in {workdir / 'logs'}")
    if report.ok and not args.workdir and not args.keep:
        shutil.rmtree(workdir, ignore_errors=True)
    if report.ok:
        return exits.OK
    # A file that would not come up as written is bad input; a step that failed running is a check.
    return (
        exits.BAD_INPUT if report.steps[0].what == compose_check.READ and not report.steps[0].ok else exits.CHECK_FAILED
    )


def register(sub: Any) -> None:
    """Add this module's commands to the `lienthong` parser."""
    cp = sub.add_parser("compose", help="the Docker Compose layout (deploy/compose.yaml)")
    csub = cp.add_subparsers(dest="compose_command", required=True)
    check = csub.add_parser(
        "check",
        help="run every service of the compose file as a local process (no container engine) and prove the "
        "wiring: cluster id, volumes, homes, ports, tokens, the topics job (docs/operations.md)",
    )
    check.add_argument("--file", default=None, help="the compose file (default: deploy/compose.yaml)")
    check.add_argument(
        "--workdir", default=None, help="an empty folder for the containers' files and logs (default: a new one)"
    )
    check.add_argument("--keep", action="store_true", help="keep the default folder when the check passes")
    check.add_argument("--json", action="store_true", help="every step as JSON: what, ok, seconds, detail")
    check.set_defaults(func=cmd_compose_check)
