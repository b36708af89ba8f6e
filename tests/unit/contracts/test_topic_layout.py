"""Topics as configuration: the packaged file's layout per cluster size, and a bad file refused
with the file, the key path and the reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from contracts import topics
from contracts.topic_layout import TopicLayoutError, load, parse

GOOD = """
defaults: {partitions: 4, replication_factor: 3, min_insync_replicas: 2, retention_ms: 1000, cleanup_policy: delete}
topics:
  work: {retention_ms: 2000}
  work.lltp: {partitions: 8}
"""


def test_the_packaged_file_gives_three_replicas_and_two_in_sync_on_a_cluster() -> None:
    specs = load().specs("lt", brokers=3)
    assert [s.name for s in specs] == topics.all_topics("lt")
    assert {s.replication_factor for s in specs} == {3}
    assert {s.configs["min.insync.replicas"] for s in specs} == {"2"}
    assert {s.partitions for s in specs} == {4}


def test_a_one_node_cluster_gets_the_single_node_layout() -> None:
    specs = load().specs("lt", brokers=1)
    assert {(s.replication_factor, s.configs["min.insync.replicas"]) for s in specs} == {(1, "1")}


def test_a_cluster_smaller_than_the_replication_factor_is_refused() -> None:
    with pytest.raises(TopicLayoutError, match="replication_factor 3, but the cluster has only 2 brokers"):
        load().specs("lt", brokers=2)


def test_overrides_apply_defaults_then_work_then_the_agency() -> None:
    layout = parse(GOOD, "t.yaml")
    by_name = {s.name: s for s in layout.specs("p", brokers=3)}
    assert by_name["p.work.lltp"].partitions == 8
    assert by_name["p.work.lltp"].configs["retention.ms"] == "2000"
    assert by_name["p.work.hotich"].partitions == 4
    assert by_name["p.dossier-events"].configs["retention.ms"] == "1000"


def test_partitions_from_the_environment_override_every_topic() -> None:
    assert {s.partitions for s in parse(GOOD, "t.yaml").specs("p", brokers=3, partitions=2)} == {2}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (GOOD.replace("retention_ms: 1000", "retention_ms: 1000, retension: 5"), r"t.yaml: defaults.retension: Extra"),
        (GOOD.replace("cleanup_policy: delete", "cleanup_policy: forever"), r"t.yaml: defaults.cleanup_policy: Input"),
        (GOOD.replace("partitions: 8", "partitions: 0"), r"t.yaml: topics.work.lltp.partitions: Input should be"),
        (GOOD.replace("work.lltp:", "work.police:"), r"t.yaml: topics.work.police: unknown topic"),
        (GOOD.replace("min_insync_replicas: 2", "min_insync_replicas: 4"), r"min_insync_replicas 4 is more than"),
        ("[1, 2", r"t.yaml: not valid YAML"),
    ],
    ids=["unknown key", "bad value", "zero partitions", "unknown topic", "isr above replicas", "not yaml"],
)
def test_a_bad_topics_file_is_refused_naming_the_file_and_the_key(text: str, message: str) -> None:
    with pytest.raises(TopicLayoutError, match=message):
        parse(text, "t.yaml")


def test_a_missing_topics_file_is_refused_with_its_path(tmp_path: Path) -> None:
    with pytest.raises(TopicLayoutError, match=r"nope\.yaml: cannot read the topics file"):
        load(tmp_path / "nope.yaml")
