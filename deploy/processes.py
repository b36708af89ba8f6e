"""The processes a stack runs, by name, and their replicas (`hotich`, `hotich-2`, …)."""

from __future__ import annotations

from contracts.topics import SIMULATED_AGENCIES

PROCESSES: dict[str, str] = {
    **{a: f"services.{a}" for a in SIMULATED_AGENCIES},
    "monitor": "streams",
    "dashboard": "dashboard",
}
"""Every supervised process and the module it runs."""
REPLICABLE = (*SIMULATED_AGENCIES, "monitor")
"""Processes that may run as several replicas in one consumer group (the dashboard serves one
fixed port, so it runs once)."""
MAX_REPLICAS = 8


def parse_replicas(text: str | None) -> dict[str, int]:
    """`hotich=2,monitor=2` (or `all=2`: every agency and the monitor) → {process: count}."""
    if not text:
        return {}
    out: dict[str, int] = {}
    for part in (p.strip() for p in text.split(",") if p.strip()):
        name, sep, count = part.partition("=")
        name = name.strip()
        if not sep or not count.strip().isdigit():
            raise ValueError(f"--replicas {text!r}: expected NAME=COUNT pairs, e.g. hotich=2,monitor=2")
        n = int(count)
        if not 1 <= n <= MAX_REPLICAS:
            raise ValueError(f"--replicas {part}: a count from 1 to {MAX_REPLICAS}")
        names = list(REPLICABLE) if name == "all" else [name]
        for one in names:
            if one not in REPLICABLE:
                raise ValueError(
                    f"--replicas names {one!r}, which cannot have replicas: "
                    f"expected all or one of {', '.join(REPLICABLE)}"
                )
            out[one] = n
    return out


def replica_names(name: str, count: int) -> list[str]:
    """A process and its replicas: `hotich`, `hotich-2`, ..."""
    return [name, *(f"{name}-{i}" for i in range(2, count + 1))]


def process_of(name: str) -> str:
    """The process a replica's name belongs to (`hotich-2` → `hotich`)."""
    base, _, number = name.rpartition("-")
    return base if number.isdigit() and base in PROCESSES else name
