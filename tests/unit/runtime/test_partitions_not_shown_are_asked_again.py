"""Stamp: on the 3-node cluster, one node restarted a moment before, `topics apply
--allow-repartition` got the controller's "done" for new partitions, yet every broker showed the
old count for more than 30 s (a full suite's run). Adding partitions now waits until the cluster
shows them, and asks again for a topic still short."""

from __future__ import annotations

from typing import Any

import pytest
from aiokafka.admin import NewPartitions
from aiokafka.errors import InvalidPartitionsError

from runtime import topicadmin


class ForgetfulAdmin:
    """Drops the first request to add partitions; the second one lands."""

    def __init__(self, have: dict[str, int]) -> None:
        self.have = dict(have)
        self.requests = 0

    async def create_partitions(self, grow: dict[str, NewPartitions]) -> None:
        self.requests += 1
        if self.requests == 1:
            return
        for name, want in grow.items():
            if self.have[name] >= want.total_count:
                raise InvalidPartitionsError(f"Topic already has {self.have[name]} partitions.")
            self.have[name] = want.total_count

    async def describe_topics(self, names: list[str]) -> list[dict[str, Any]]:
        return [
            {"topic": n, "error_code": 0, "partitions": [{"partition": i, "leader": 1} for i in range(self.have[n])]}
            for n in names
        ]


async def test_partitions_the_cluster_did_not_show_are_asked_again(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(topicadmin, "GROW_ASK_AGAIN_S", 0.0)
    admin = ForgetfulAdmin({"a": 2, "b": 2})
    await topicadmin._grow(admin, {"a": NewPartitions(4), "b": NewPartitions(4)})
    assert admin.have == {"a": 4, "b": 4}
    assert admin.requests == 2


async def test_partitions_never_shown_end_in_an_error_naming_the_topic(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(topicadmin, "GROW_TIMEOUT_S", 0.3)

    class Deaf(ForgetfulAdmin):
        async def create_partitions(self, grow: dict[str, NewPartitions]) -> None:
            self.requests += 1

    with pytest.raises(RuntimeError, match=r"partitions not added after 0.3 s: a \(wants 4\)"):
        await topicadmin._grow(Deaf({"a": 2}), {"a": NewPartitions(4)})
