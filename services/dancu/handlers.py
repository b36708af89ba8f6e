"""The population database does no step of any chain: the agencies ask it (services/dancu/api.py)."""

from __future__ import annotations

from runtime.work import Handler

HANDLERS: dict[str, Handler] = {}
