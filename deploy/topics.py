"""`lienthong topics apply`: make a cluster's topics match the topics file."""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from typing import TypedDict

from runtime.settings import PlatformSettings
from runtime.terminal import Console, table
from runtime.topicadmin import apply_topics


class Applied(TypedDict):
    """What `topics apply` compared (and changed): every difference, as JSON."""

    bootstrap: str
    brokers: int
    file: str
    dry_run: bool
    changes: list[dict[str, object]]
    not_applied: int


def apply(settings: PlatformSettings, console: Console, dry_run: bool, allow_repartition: bool = False) -> Applied:
    """Compare (and unless `dry_run`, apply); the answer lists every difference."""
    bootstrap = settings.kafka_bootstrap
    if not bootstrap:
        raise RuntimeError("no broker configured: run `lienthong up`, or set LT_KAFKA_BOOTSTRAP")
    layout = settings.topic_layout()
    explicit = settings.partitions if settings.partitions != layout.partitions else None
    console.step(f"{'comparing' if dry_run else 'applying'} {layout.source} on {bootstrap}")
    brokers, changes = asyncio.run(
        apply_topics(bootstrap, layout, settings.topic_prefix, explicit, dry_run, allow_repartition)
    )
    return {
        "bootstrap": bootstrap,
        "brokers": brokers,
        "file": layout.source,
        "dry_run": dry_run,
        "changes": [asdict(c) for c in changes],
        "not_applied": sum(1 for c in changes if not c.applied and not dry_run),
    }


def render(result: Applied) -> str:
    changes = result["changes"]
    head = (
        f"{len(changes)} differences on a cluster of {result['brokers']} brokers"
        + (" (dry run: nothing changed)" if result["dry_run"] else "")
        if changes
        else f"the cluster ({result['brokers']} brokers) already matches {result['file']}"
    )
    if not changes:
        return head
    rows = [{**c, "applied": "yes" if c["applied"] else "no"} for c in changes]
    return head + "\n" + table(rows, ["topic", "what", "have", "want", "applied", "note"])
