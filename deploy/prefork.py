"""Starting supervised processes by forking a supervisor that has already imported what they all
import, instead of starting a new interpreter for each.

Why: every service imports the same heavy libraries (aiohttp, aiokafka, asyncpg, faust, pydantic,
structlog): 1.4 to 1.7 s of CPU each, measured here, paid by every process at every
`lienthong run` and after every `kill -9`. Forked, the services of a run were ready 8.8 s after
its start instead of 12.2 s (measured, two runs each way). A forked child starts with those
modules in memory (shared copy-on-write), so only its own work remains. The child is an ordinary
process of its own session, with its own pid, log and process title (`python -m
services.hotich`): `kill -9`, `lienthong status` and the supervisor's restarts see no difference.
`LT_PREFORK=0` starts each with a new interpreter.

What the supervisor imports must not read settings or start anything (threads, event loops,
connections) at import: only libraries and project modules that do neither are listed."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import os
import runpy
import signal
import sys
import traceback
from pathlib import Path

import setproctitle

PRELOAD = (
    "aiohttp.web",
    "aiokafka",
    "aiokafka.admin",
    "asyncpg",
    "faust",
    "faust.worker",
    "holidays",
    "prometheus_client",
    "pydantic",
    "structlog",
    "yaml",
    "contracts.envelope",
    "contracts.commands",
    "contracts.calendar",
    "contracts.chains",
    "runtime.service",
    "streams.app",
    "dashboard.app",
)
"""What every child would import anyway, imported once by the supervisor (none of these reads the
environment or starts anything when imported)."""


def enabled() -> bool:
    return os.environ.get("LT_PREFORK", "1") != "0"


def preload() -> list[str]:
    """Import PRELOAD; returns what could not be imported (a child then imports it itself)."""
    missing = []
    for name in PRELOAD:
        try:
            importlib.import_module(name)
        except ImportError:
            missing.append(name)
    return missing


class Forked:
    """A forked child, with the part of `subprocess.Popen` the supervisor uses."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:  # reaped elsewhere (deploy.embedded.stop_pid)
                self.returncode = -signal.SIGKILL
            else:
                if pid:
                    self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self) -> int:
        if self.returncode is None:
            try:
                _, status = os.waitpid(self.pid, 0)
                self.returncode = os.waitstatus_to_exitcode(status)
            except ChildProcessError:
                self.returncode = -signal.SIGKILL
        return self.returncode


def spawn(module: str, env: dict[str, str], log: Path) -> Forked:
    """`python -m MODULE` with `env`, its output appended to `log`, in a session of its own, as a
    fork of this process."""
    out = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    pid = os.fork()
    if pid:
        os.close(out)
        return Forked(pid)
    code = 1
    try:
        os.setsid()
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(out, 1)
        os.dup2(out, 2)
        os.closerange(3, 4096)  # the supervisor's files are none of the child's business
        # Python's own streams over the new descriptors (the parent's may be wrapped or buffered).
        sys.stdin = open(0, encoding="utf-8", closefd=False)  # noqa: SIM115 - lives as long as the child
        sys.stdout = open(1, "w", encoding="utf-8", buffering=1, closefd=False)  # noqa: SIM115
        sys.stderr = open(2, "w", encoding="utf-8", buffering=1, closefd=False)  # noqa: SIM115
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGCHLD):
            signal.signal(sig, signal.SIG_DFL)
        # Before the environment changes: setproctitle finds the argument memory it rewrites
        # through the process's original environment block.
        setproctitle.setproctitle(f"{Path(sys.executable).name} -m {module}")
        os.environ.clear()
        os.environ.update(env)
        # A fresh event loop policy: nothing of the supervisor's asyncio state is shared.
        asyncio.set_event_loop_policy(None)
        sys.argv = [module]
        runpy.run_module(module, run_name="__main__", alter_sys=True)
        code = 0
    except SystemExit as done:
        code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
    except BaseException:
        traceback.print_exc()
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)
