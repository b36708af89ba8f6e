"""structlog set-up: JSON in services, pretty on a terminal; personal data masked in one place."""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Iterator, MutableMapping
from typing import Any

import structlog

from contracts.identity import mask_ids_in_text, mask_name, mask_personal_id
from contracts.people import ID_KEYS, NAME_KEYS


def _mask(key: str | None, value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _mask(k, v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_mask(key, v) for v in value]
    if isinstance(value, str):
        if key in NAME_KEYS:
            return mask_name(value)
        if key in ID_KEYS or (key or "").endswith("personal_id"):
            return mask_personal_id(value)
        return mask_ids_in_text(value)
    if isinstance(value, Exception):
        return mask_ids_in_text(str(value))
    return value


def mask_personal_data(_logger: Any, _method: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """Mask ID numbers (anywhere) and full names (by key) before anything is rendered."""
    for key in list(event_dict):
        event_dict[key] = _mask(key, event_dict[key])
    return event_dict


def configure(service: str, fmt: str = "auto", level: str = "info", *, cache: bool = True) -> None:
    """Configure structlog once, in an entry point (tests pass cache=False to re-configure)."""
    if fmt == "auto":
        fmt = "console" if sys.stderr.isatty() else "json"
    renderer: Any = (
        structlog.dev.ConsoleRenderer() if fmt == "console" else structlog.processors.JSONRenderer(ensure_ascii=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            mask_personal_data,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelNamesMapping()[level.upper()]),
        # Resolve stderr when a logger is made, not now, so a redirected stderr is honoured.
        logger_factory=lambda *_args: structlog.PrintLogger(sys.stderr),
        cache_logger_on_first_use=cache,
    )
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(service=service)


@contextlib.contextmanager
def quiet_aiokafka() -> Iterator[None]:
    """Silence aiokafka's own error lines while an expected refusal is the answer being asked
    for (a node that does not serve yet; a broker that refuses the idempotent producer)."""
    logger = logging.getLogger("aiokafka")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(level)
