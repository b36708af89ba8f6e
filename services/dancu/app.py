"""The population database process: its HTTP API, heartbeats like any agency's, no chain step."""

from __future__ import annotations

from importlib import resources

from runtime.service import AgencySpec
from services.dancu.api import routes
from services.dancu.handlers import HANDLERS


def spec() -> AgencySpec:
    return AgencySpec(
        "dancu",
        HANDLERS,
        resources.files("services.dancu").joinpath("schema.sql").read_text(),
        extra_routes=routes,
    )
