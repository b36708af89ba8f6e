"""Terminal output: progress on stderr when it is a terminal, results on stdout."""

from __future__ import annotations

import io
import sys
import time
import unicodedata
from collections.abc import Mapping, Sequence
from typing import TextIO

from rich import box
from rich.console import Console as RichConsole
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeRemainingColumn
from rich.table import Table

PLAIN_EVERY_S = 5.0
"""Seconds between two progress lines when the stream is not a terminal (a log, CI)."""


class Console:
    def __init__(self, stream: TextIO | None = None, quiet: bool = False) -> None:
        self.stream = stream or sys.stderr
        self.quiet = quiet
        self.live = self.stream.isatty()
        self._last_plain = 0.0
        self._bar: Progress | None = None
        self._task: TaskID | None = None
        self._since: tuple[float, int] | None = None
        """(when, how many done) at the first count: where a plain line's ETA is measured from."""

    def step(self, message: str) -> None:
        if self.quiet:
            return
        if self._bar is not None:
            self._bar.console.print(f"• {message}", highlight=False)
            return
        self._clear()
        print(f"• {message}", file=self.stream, flush=True)

    def count(self, what: str, done: int, total: int) -> None:
        """`done` of `total`: on a terminal a bar (rich) with the counts and the time left; elsewhere a
        line now and then with the same counts and an ETA from the rate so far."""
        if self.quiet:
            return
        now = time.monotonic()
        if self._since is None:
            self._since = (now, done)
        if self.live:
            if self._bar is None:
                self._bar = Progress(
                    TextColumn("{task.description}"),
                    BarColumn(),
                    MofNCompleteColumn(),
                    TimeRemainingColumn(),
                    console=RichConsole(file=self.stream),
                    transient=True,
                )
                self._bar.start()
                self._task = self._bar.add_task(what, total=total)
            assert self._task is not None
            self._bar.update(self._task, description=what, completed=done, total=total)
        elif now - self._last_plain >= PLAIN_EVERY_S:
            self._last_plain = now
            print(f"{what} · {done}/{total}{eta(self._since, now, done, total)}", file=self.stream, flush=True)

    def progress(self, message: str) -> None:
        """A line that rewrites itself on a terminal; printed plainly (and sparingly) elsewhere."""
        if self.quiet:
            return
        if self.live:
            print(f"\r\033[K{message}", end="", file=self.stream, flush=True)
        elif time.monotonic() - self._last_plain >= 5.0:
            self._last_plain = time.monotonic()
            print(message, file=self.stream, flush=True)

    def done(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar, self._task = None, None
        self._since = None
        self._clear()

    def _clear(self) -> None:
        if self.live:
            print("\r\033[K", end="", file=self.stream, flush=True)


def eta(since: tuple[float, int], now: float, done: int, total: int) -> str:
    """The tail " · ETA 2 min 5 s" from the rate since `since` (when, done then); "" before any
    rate and once done."""
    started, first = since
    rate = (done - first) / (now - started) if now > started else 0.0
    if rate <= 0 or done >= total:
        return ""
    minutes, seconds = divmod(round((total - done) / rate), 60)
    return f" · ETA {minutes} min {seconds} s" if minutes else f" · ETA {seconds} s"


def table(rows: Sequence[Mapping[str, object]], columns: list[str]) -> str:
    """Rows as an aligned plain-text table. rich measures each cell as the terminal shows it, so
    Vietnamese text lines up (padding by `len` counted combining marks as columns)."""
    out = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    for c in columns:
        out.add_column(c, overflow="fold")
    for r in rows:
        out.add_row(*("" if r.get(c) is None else unicodedata.normalize("NFC", str(r.get(c))) for c in columns))
    buffer = io.StringIO()
    RichConsole(file=buffer, width=_WIDTH, color_system=None, highlight=False, soft_wrap=False).print(out)
    return buffer.getvalue().rstrip("\n")


_WIDTH = 200
"""Columns a table may take: wide enough that no cell folds in the usual tables."""
