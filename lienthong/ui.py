"""Terminal output: progress on stderr when it is a terminal, results on stdout."""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO


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


def table(rows: list[dict[str, Any]], columns: list[str]) -> str:
    cells = [[("" if r.get(c) is None else str(r.get(c))) for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) if cells else len(c) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))]
    lines.append("  ".join("─" * w for w in widths))
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)) for row in cells]
    return "\n".join(lines)
