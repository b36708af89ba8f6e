"""`lienthong`: one command for the stack, runs, verification and the contract."""

from __future__ import annotations

import argparse
import sys

from lienthong.commands import chaos, conformance, dlq, measure, outputs, run, stack, verdicts
from lienthong.ui import Console
from runtime.logging import configure
from runtime.settings import Settings


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="lienthong", description="Liên thông simulator and monitor")
    sub = p.add_subparsers(dest="command", required=True)
    for module in (stack, run, chaos, verdicts, dlq, conformance, measure, outputs):
        module.register(sub)
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
