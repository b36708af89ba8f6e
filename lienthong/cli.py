"""`lienthong`: one command for the stack, runs, verification and the contract."""

from __future__ import annotations

import argparse
import sys
from importlib.metadata import PackageNotFoundError, version

from deploy.state import settings_from_env
from lienthong import exits
from lienthong.commands import chaos, compose, conformance, dlq, measure, outputs, run, stack, verdicts
from runtime import kafkaaccess
from runtime.logging import configure
from runtime.terminal import Console

HARNESS = frozenset({"simulation", "scenarios", "loadtests"})
"""The packages of the simulation harness, a distribution of its own (harness/pyproject.toml)."""
INSTALL_HARNESS = "pip install 'lienthong[simulation]'"


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="lienthong",
        description="Liên thông simulator and monitor",
        epilog="exit codes: 0 ok, 1 a check failed, 2 usage or bad input, 3 a dependency unreachable, "
        "130 interrupted (docs/commands.md)",
    )
    p.add_argument("--version", action="version", version=f"lienthong {_version()}")
    sub = p.add_subparsers(dest="command", required=True)
    for module in (stack, run, chaos, verdicts, dlq, conformance, measure, outputs, compose):
        module.register(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    console = Console()
    try:
        settings = settings_from_env()
        configure("cli", "console", settings.log_level)
        kafkaaccess.configure(settings, kafkaaccess.OPERATOR)
        return int(args.func(args, settings, console))
    except KeyboardInterrupt:
        console.done()
        print("lienthong: interrupted", file=sys.stderr)
        return exits.INTERRUPTED
    except Exception as exc:
        console.done()
        dependency = exits.unreachable(exc)
        if dependency is not None:
            print(exits.one_line(dependency, exc), file=sys.stderr)
            return exits.UNREACHABLE
        if isinstance(exc, ModuleNotFoundError) and exc.name in HARNESS:
            needs = f"`{args.command}` needs the simulation harness"
            print(f"lienthong: error: {needs}: {INSTALL_HARNESS}", file=sys.stderr)
            return exits.BAD_INPUT
        if isinstance(exc, ValueError | RuntimeError | NotImplementedError):  # ToolMissing is a RuntimeError
            print(f"lienthong: error: {exc}", file=sys.stderr)
            return exits.BAD_INPUT
        raise


def _version() -> str:
    try:
        return version("lienthong")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown"


if __name__ == "__main__":
    sys.exit(main())
