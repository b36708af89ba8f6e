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

    async def describe_cluster(self) -> dict[str, Any]:
        return {"brokers": [{"node_id": 1}, {"node_id": 2}, {"node_id": 3}]}

    async def _send_request(self, request: Any, node: int) -> View:
        return View(self.view(node, list(request._topics)))

    def view(self, node: int, names: list[str]) -> list[dict[str, Any]]:
        return [
            {"topic": n, "error_code": 0, "partitions": [{"partition": i, "leader": 1} for i in range(self.have[n])]}
            for n in names
        ]


class View:
    def __init__(self, topics: list[dict[str, Any]]) -> None:
        self.topics = topics

    def to_object(self) -> dict[str, Any]:
        return {"topics": self.topics}


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


async def test_apply_waits_until_every_broker_shows_the_partitions_not_just_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Stamp: a fresh-clone CI run (5 December 2026) failed the cluster's repartition test.
    `topics apply` returned once the broker it asked showed the new partitions, and a client asking
    another broker saw the old count for over 10 s."""

    class Lagging(ForgetfulAdmin):
        """Broker 3 shows the old count for its first three answers."""

        def __init__(self, have: dict[str, int]) -> None:
            super().__init__(have)
            self.old = dict(have)
            self.asked_3 = 0

        def view(self, node: int, names: list[str]) -> list[dict[str, Any]]:
            if node != 3:
                return super().view(node, names)
            self.asked_3 += 1
            counts = self.old if self.asked_3 <= 3 else self.have
            return [
                {"topic": n, "error_code": 0, "partitions": [{"partition": i, "leader": 1} for i in range(counts[n])]}
                for n in names
            ]

    monkeypatch.setattr(topicadmin, "GROW_ASK_AGAIN_S", 0.0)
    admin = Lagging({"a": 2})
    admin.requests = 1  # the first request lands
    await topicadmin._grow(admin, {"a": NewPartitions(4)})
    assert admin.asked_3 == 4  # it asked broker 3 until it too showed four


def test_a_broker_that_still_shows_the_old_count_or_no_leader_keeps_the_topic_pending() -> None:
    four = {"error_code": 0, "partitions": [{"leader": n % 3} for n in range(4)]}
    assert not topicadmin.lacks_partitions(four, 4)
    assert topicadmin.lacks_partitions({"error_code": 0, "partitions": [{"leader": 1}, {"leader": 2}]}, 4)
    assert topicadmin.lacks_partitions({"error_code": 0, "partitions": [{"leader": 1}] * 3 + [{"leader": -1}]}, 4)
    assert topicadmin.lacks_partitions({"error_code": 3, "partitions": []}, 4)  # unknown there yet
    assert topicadmin.lacks_partitions(None, 4)  # not in that broker's answer at all
