"""Topics as configuration: each topic's partitions, replication, `min.insync.replicas`,
retention and cleanup policy, read from `topics.yaml` beside this module (or the file
`LT_TOPICS_FILE` names) and validated into typed models.

Pure: no broker here. `runtime/kafka.py` applies the layout to a cluster.
Why pydantic: it refuses unknown keys and bad values with the key's path, which a hand-written
check of nested YAML would have to rebuild.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Literal

import yaml
from pydantic import Field

from contracts import topics
from contracts.config import ConfigError, Strict, validated

DEFAULT_FILE = "topics.yaml"


class TopicLayoutError(ConfigError):
    """The topics file is invalid, or the cluster cannot hold the layout; says which and why."""


class Policy(Strict):
    partitions: int = Field(ge=1, le=10_000)
    replication_factor: int = Field(ge=1, le=32)
    min_insync_replicas: int = Field(ge=1, le=32)
    retention_ms: int = Field(ge=-1)
    cleanup_policy: Literal["delete", "compact", "compact,delete"]
    keyed: bool = True
    """Messages carry a key that routes them (the dossier id): more partitions move keys."""


class Override(Strict):
    partitions: int | None = Field(default=None, ge=1, le=10_000)
    replication_factor: int | None = Field(default=None, ge=1, le=32)
    min_insync_replicas: int | None = Field(default=None, ge=1, le=32)
    retention_ms: int | None = Field(default=None, ge=-1)
    cleanup_policy: Literal["delete", "compact", "compact,delete"] | None = None
    keyed: bool | None = None


class SingleNode(Strict):
    replication_factor: Literal[1] = 1
    min_insync_replicas: Literal[1] = 1


class TopicsFile(Strict):
    defaults: Policy
    single_node: SingleNode = SingleNode()
    topics: dict[str, Override] = Field(default_factory=dict)


LOGICAL = (
    "dossier-events",
    "dead-letter",
    "alerts",
    "work",
    *(f"work.{a}" for a in topics.AGENCIES),
    "admin-replies",
)
"""The names a topics file may configure (without the prefix)."""


@dataclass(frozen=True)
class TopicSpec:
    """One topic as the cluster should hold it."""

    name: str
    partitions: int
    replication_factor: int
    configs: dict[str, str]
    keyed: bool = True


@dataclass(frozen=True)
class TopicLayout:
    source: str
    file: TopicsFile

    def policy(self, logical: str) -> Policy:
        """The policy of one logical topic: defaults, then `work` for a work topic, then its own."""
        merged = self.file.defaults.model_dump()
        layers = ["work", logical] if logical.startswith("work.") else [logical]
        for layer in layers:
            override = self.file.topics.get(layer)
            if override is not None:
                merged.update({k: v for k, v in override.model_dump().items() if v is not None})
        return Policy(**merged)

    @property
    def partitions(self) -> int:
        """The partition count of the lifecycle-event topic (the monitor's watermark needs it)."""
        return self.policy("dossier-events").partitions

    def specs(self, prefix: str, brokers: int, partitions: int | None = None) -> list[TopicSpec]:
        """Every topic for a cluster of `brokers` nodes; `partitions` (LT_PARTITIONS) overrides
        every topic's count. Refuses a cluster too small for the replication factor."""
        out: list[TopicSpec] = []
        for logical, name in _names(prefix):
            out.append(self.spec(name, logical, brokers, partitions))
        return out

    def spec(self, name: str, logical: str, brokers: int, partitions: int | None = None) -> TopicSpec:
        p = self.policy(logical)
        rf, isr = p.replication_factor, p.min_insync_replicas
        if brokers == 1:
            rf, isr = self.file.single_node.replication_factor, self.file.single_node.min_insync_replicas
        elif brokers < rf:
            raise TopicLayoutError(
                f"{self.source}: topic {name} wants replication_factor {rf}, but the cluster has only "
                f"{brokers} brokers; add brokers, or lower replication_factor in the topics file"
            )
        return TopicSpec(
            name=name,
            partitions=partitions or p.partitions,
            replication_factor=rf,
            configs={
                "min.insync.replicas": str(isr),
                "retention.ms": str(p.retention_ms),
                "cleanup.policy": p.cleanup_policy,
            },
            keyed=p.keyed,
        )


def _names(prefix: str) -> list[tuple[str, str]]:
    """(logical name, topic name) of every topic, in `topics.all_topics` order."""
    logical = ["dossier-events", "dead-letter", "alerts", *(f"work.{a}" for a in topics.AGENCIES), "admin-replies"]
    return list(zip(logical, topics.all_topics(prefix), strict=True))


def logical_name(name: str, prefix: str) -> str:
    """The logical name of a topic of this prefix; an ad-hoc topic (a test's, a bench's) gets
    the defaults."""
    return {n: lg for lg, n in _names(prefix)}.get(name, name.removeprefix(f"{prefix}."))


def parse(text: str, source: str) -> TopicLayout:
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise TopicLayoutError(f"{source}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise TopicLayoutError(f"{source}: expected a mapping with `defaults` and `topics`")
    try:
        model = validated(TopicsFile, raw, source)
    except ConfigError as exc:
        raise TopicLayoutError(str(exc)) from None
    unknown = sorted(set(model.topics) - set(LOGICAL))
    if unknown:
        raise TopicLayoutError(
            f"{source}: topics.{unknown[0]}: unknown topic (known: {', '.join(LOGICAL[:4])}, work.<agency>)"
        )
    layout = TopicLayout(source, model)
    for logical in ("dossier-events", "dead-letter", "alerts", *(f"work.{a}" for a in topics.AGENCIES)):
        p = layout.policy(logical)
        if p.min_insync_replicas > p.replication_factor:
            raise TopicLayoutError(
                f"{source}: topic {logical}: min_insync_replicas {p.min_insync_replicas} is more than "
                f"replication_factor {p.replication_factor}: no write could ever be acknowledged"
            )
    return layout


def load(path: Path | None = None) -> TopicLayout:
    """The layout from `path`, or the packaged default."""
    if path is None:
        text = resources.files("contracts").joinpath(DEFAULT_FILE).read_text(encoding="utf-8")
        return parse(text, f"contracts/{DEFAULT_FILE}")
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise TopicLayoutError(f"{path}: cannot read the topics file: {exc.strerror}") from exc
    return parse(text, str(path))
