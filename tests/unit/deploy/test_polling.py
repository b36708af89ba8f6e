"""Waiting until something comes up: the first real answer, or None at the deadline."""

from __future__ import annotations

import asyncio

import pytest

from deploy.polling import until, until_async


def test_until_returns_the_first_answer_that_is_not_none_or_false() -> None:
    answers = iter([None, False, 0.0, 7.5])
    assert until(lambda: next(answers), timeout=5, every=0.001) == 0.0


def test_until_gives_none_at_the_deadline() -> None:
    assert until(lambda: None, timeout=0.05, every=0.01) is None


def test_errors_named_as_not_yet_are_retried_and_others_raise() -> None:
    calls = 0

    async def flaky() -> str | None:
        nonlocal calls
        calls += 1
        if calls < 3:
            raise OSError("not listening yet")
        return "up"

    assert asyncio.run(until_async(flaky, timeout=5, every=0.001, not_yet=(OSError,))) == "up"
    assert calls == 3

    async def broken() -> None:
        raise ValueError("a bug, not a wait")

    with pytest.raises(ValueError, match="a bug"):
        asyncio.run(until_async(broken, timeout=5, every=0.001, not_yet=(OSError,)))
