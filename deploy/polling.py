"""Waiting for something to come up (a port, a process, a cluster): poll a check until it holds
or a timeout passes. The loop is tenacity's, which keeps the timing rules (a fixed pause, a
deadline, which errors count as "not yet") declarative instead of a loop written out each time."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from tenacity import AsyncRetrying, RetryError, Retrying, retry_if_exception_type, retry_if_result, stop_after_delay
from tenacity import wait_fixed as pause
from tenacity.retry import retry_base

T = TypeVar("T")


def _not_yet(value: object) -> bool:
    return value is None or value is False


def until(check: Callable[[], T | None], timeout: float, every: float) -> T | None:
    """`check()`'s first answer that is neither None nor False, or None after `timeout` seconds."""
    try:
        return Retrying(stop=stop_after_delay(timeout), wait=pause(every), retry=retry_if_result(_not_yet))(check)
    except RetryError:
        return None


async def until_async(
    check: Callable[[], Awaitable[T | None]],
    timeout: float,
    every: float,
    not_yet: tuple[type[BaseException], ...] = (),
) -> T | None:
    """The async `until`; the errors in `not_yet` count as "not yet" rather than failures."""
    retry: retry_base = retry_if_result(_not_yet)
    if not_yet:
        retry = retry | retry_if_exception_type(not_yet)
    try:
        value: T | None = await AsyncRetrying(stop=stop_after_delay(timeout), wait=pause(every), retry=retry)(check)
        return value
    except RetryError:
        return None
