"""A local Kafka cluster keeps its layout (cluster id, ports, data) across restarts only while its
size and its security stay the same: a secured cluster is another cluster than a plain-text one
(its nodes are formatted with the credentials), so switching makes a new one (deploy/kafka_cluster.py)."""

from __future__ import annotations

from pathlib import Path

from deploy.kafka_cluster import plan


def test_the_same_size_and_security_keep_the_cluster(tmp_path: Path) -> None:
    secured = plan(tmp_path, 3, secured=True)
    assert secured["secured"] is True
    assert plan(tmp_path, 3, secured, secured=True) is secured


def test_another_security_or_size_is_another_cluster(tmp_path: Path) -> None:
    secured = plan(tmp_path, 3, secured=True)
    (tmp_path / "kafka" / "nodes" / "node-1").mkdir(parents=True)
    plain = plan(tmp_path, 3, secured, secured=False)
    assert plain["secured"] is False
    assert plain["cluster_id"] != secured["cluster_id"]
    assert not (tmp_path / "kafka" / "nodes").exists()  # the old cluster's data goes with it
    assert plan(tmp_path, 1, plain, secured=False)["cluster_id"] != plain["cluster_id"]
