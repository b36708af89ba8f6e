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
from rich.table import Table


class Console:
    def __init__(self, stream: TextIO | None = None, quiet: bool = False) -> None:
        self.stream = stream or sys.stderr
        self.quiet = quiet
        self.live = self.stream.isatty()
        self._last_plain = 0.0

    def step(self, message: str) -> None:
        if not self.quiet:
            self._clear()
            print(f"• {message}", file=self.stream, flush=True)

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
        self._clear()

    def _clear(self) -> None:
        if self.live:
            print("\r\033[K", end="", file=self.stream, flush=True)


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
