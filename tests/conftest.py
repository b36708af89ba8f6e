"""Guards every test: it must not leave child processes behind."""

from __future__ import annotations

from collections.abc import Iterator

import psutil
import pytest


def _ours() -> set[int]:
    """Our direct children: servers started by session fixtures fork their own workers, which
    are theirs to manage, so only direct children are counted."""
    return {p.pid for p in psutil.Process().children() if p.status() != psutil.STATUS_ZOMBIE}


SESSION_OWNED: set[int] = set()
"""Processes a test started on behalf of a session fixture (a Kafka node it restarted after
killing it): the fixture stops them at the end of the session."""


@pytest.fixture(autouse=True)
def no_leftover_processes() -> Iterator[None]:
    before = _ours()
    yield
    left = _ours() - before - SESSION_OWNED
    assert not left, f"test left processes running: {sorted(left)}"
