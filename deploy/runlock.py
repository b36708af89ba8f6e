"""One simulation at a time per stack: a run (or load test) holds `$LT_HOME/run.lock` while it
drives the stack's clock.

Found while measuring: a `lienthong run` left behind on a home (its stack stopped under it) kept
its governor alive; when a new run started on the same home, the old governor saw the new
agencies answer, resumed, and wrote its own segments into the new run's clock file. Sim time
jumped three weeks back mid-run. A second run on a home whose lock is held now stops at once and
names the process that holds it. The lock is an advisory `flock`, released by the kernel when its
holder exits, however it exits."""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path
from typing import IO


class StackBusy(RuntimeError):
    pass


def acquire(home: Path, what: str) -> IO[str]:
    """Hold the stack's run lock for the life of the process; the open file keeps it."""
    home.mkdir(parents=True, exist_ok=True)
    path = home / "run.lock"
    f = path.open("a+", encoding="utf-8")
    try:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        f.seek(0)
        holder = f.read().strip() or "another process"
        f.close()
        raise StackBusy(
            f"{home}: {holder} is driving this stack's sim clock; wait for it to end, or stop it "
            "(`lienthong down` stops the stack, not a run in progress)"
        ) from None
    f.seek(0)
    f.truncate()
    f.write(f"`lienthong {what}` (pid {os.getpid()})")
    f.flush()
    return f


@contextlib.contextmanager
def held(home: Path, what: str) -> Iterator[None]:
    """The stack's run lock for the duration."""
    f = acquire(home, what)
    try:
        yield
    finally:
        f.close()
