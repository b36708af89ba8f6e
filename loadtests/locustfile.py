"""Entry point for Locust (`lienthong loadtest` runs it headless): the user classes, and the one
shape `LT_LOADTEST_SHAPE` names (Locust takes every shape class it finds, so only that one is
defined here). At the end the ledger of accepted dossiers is written for the end-to-end check."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from locust import events

from loadtests import shapes
from loadtests.users import LEDGER, BirthChain, DeathChain, LltpRequest

__all__ = ["ActiveShape", "BirthChain", "DeathChain", "LltpRequest"]

_name = os.environ.get("LT_LOADTEST_SHAPE", "lltp-peak-day")
if _name not in shapes.SHAPES:
    raise SystemExit(f"LT_LOADTEST_SHAPE={_name!r}: expected one of {', '.join(shapes.SHAPES)}")


class ActiveShape(shapes.SHAPES[_name]):  # type: ignore[misc,valid-type]
    """The shape chosen for this run."""


@events.quitting.add_listener
def write_ledger(environment: Any, **_: Any) -> None:
    out = Path(os.environ.get("LT_LOADTEST_OUT", "."))
    LEDGER.dump(out / "accepted.json")
