"""The stack's state files under `$LT_HOME` (`stack.json`, `supervisor.json`): what runs where.
Written whole and renamed into place, so a reader never sees half a file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def read_state(path: Path) -> dict[str, Any]:
    try:
        data: dict[str, Any] = json.loads(path.read_text())
        return data
    except (OSError, ValueError):
        return {}


def write_state(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(_public(data), indent=1))
    tmp.replace(path)


def _public(data: Any) -> Any:
    """Drop in-process handles (keys starting with "_") before writing state to disk."""
    if isinstance(data, dict):
        return {k: _public(v) for k, v in data.items() if not str(k).startswith("_")}
    if isinstance(data, list):
        return [_public(v) for v in data]
    return data
