"""The portal process: the result step, the HTTP API, and the timeline follower."""

from __future__ import annotations

from importlib import resources

from runtime.service import AgencySpec
from services.portal.api import routes
from services.portal.handlers import HANDLERS
from services.portal.timeline import follow


def spec() -> AgencySpec:
    return AgencySpec(
        "portal",
        HANDLERS,
        resources.files("services.portal").joinpath("schema.sql").read_text(),
        extra_routes=routes,
        extra_tasks=lambda rt: [follow(rt.pool, rt.settings.kafka_bootstrap or "", rt.settings.topic_prefix)],
        port_attr="portal_port",
    )
