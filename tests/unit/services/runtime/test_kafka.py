"""Committing read positions when the group has rebalanced meanwhile."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiokafka.errors import CommitFailedError, KafkaConnectionError

from runtime.kafka import commit


class Refusing:
    def __init__(self, error: Exception | None) -> None:
        self.error = error
        self.commits = 0

    async def commit(self) -> None:
        self.commits += 1
        if self.error is not None:
            raise self.error


def test_a_commit_refused_after_a_rebalance_does_not_end_the_reader() -> None:
    c = Refusing(CommitFailedError("the group has already rebalanced"))
    asyncio.run(commit(c))  # type: ignore[arg-type]
    assert c.commits == 1


def test_other_errors_still_surface() -> None:
    c: Any = Refusing(KafkaConnectionError("gone"))
    with pytest.raises(KafkaConnectionError):
        asyncio.run(commit(c))
