"""Ports for the supervised processes (deploy/stack.py: service_ports, deploy/embedded.py:
free_port): a fresh pick is never a fixed port or another process's."""

from __future__ import annotations

from collections.abc import Collection, Iterator

import pytest

from deploy import embedded
from deploy.readiness import service_ports


def test_the_portals_port_never_goes_to_another_service_even_when_the_system_offers_it() -> None:
    """Regression: lltp was given the portal's port (free until the portal bound it), bound it
    first, and answered the portal's health checks; the run waited for ever."""
    offered: Iterator[int] = iter([57011, 38033, 57011, 38033, 42637])

    def pick(avoid: Collection[int] = ()) -> int:
        return next(p for p in offered if p not in avoid)

    ports = service_ports(["portal", "motcua", "lltp", "dashboard"], {}, {"portal": 57011, "dashboard": 8490}, pick)
    assert ports == {"portal": 57011, "motcua": 38033, "lltp": 42637, "dashboard": 8490}
    kept = service_ports(["portal", "motcua"], {"motcua": 38033}, {"portal": 57011}, pick)
    assert kept == {"portal": 57011, "motcua": 38033}  # a running process keeps its port


def test_free_port_skips_the_ports_it_must_avoid(monkeypatch: pytest.MonkeyPatch) -> None:
    given = iter([5000, 5001, 5002])

    class Socket:
        def __enter__(self) -> Socket:
            self.port = next(given)
            return self

        def __exit__(self, *_: object) -> None:
            return None

        def bind(self, _address: object) -> None:
            return None

        def getsockname(self) -> tuple[str, int]:
            return ("127.0.0.1", self.port)

    monkeypatch.setattr(embedded.socket, "socket", Socket)
    assert embedded.free_port(avoid={5000, 5001}) == 5002
