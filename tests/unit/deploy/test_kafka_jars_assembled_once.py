"""Regression: the compose check started its three Kafka nodes at once, each thread ran Maven into
the one jar folder, and two failed on each other's half-copied jars. The jars are assembled once,
whoever asks at the same time."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from deploy import kafka_cluster


def test_three_nodes_starting_at_once_assemble_the_jars_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []

    def assemble(_mvn: str, lib: Path) -> None:
        calls.append(threading.get_ident())
        time.sleep(0.3)  # long enough for the other threads to arrive while it runs
        (lib / "kafka.jar").write_text("jar")
        (lib / ".complete").write_text("done")

    monkeypatch.setattr(kafka_cluster, "cache_dir", lambda: tmp_path / "kafka-cache")
    monkeypatch.setattr(kafka_cluster, "_need", lambda tool, _package: tool)
    monkeypatch.setattr(kafka_cluster, "_assemble", assemble)
    answers: list[Path] = []
    threads = [threading.Thread(target=lambda: answers.append(kafka_cluster.ensure_jars())) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1
    assert answers == [tmp_path / "kafka-cache" / "lib"] * 3
