"""The `lienthong` subcommands, a module per job; each adds its own parsers (`register`) and
turns arguments into calls on the library modules beside it."""

from __future__ import annotations

import json
from typing import Any


def emit_json(data: Any) -> None:
    """The machine-readable result: one JSON document on the last line of stdout."""
    print(json.dumps(data, ensure_ascii=False), flush=True)
