"""The portal process: the result step, the HTTP API, and the timeline follower."""

from __future__ import annotations

from importlib import resources

from runtime.edges import Middleware, TokenBuckets, rate_limit
from runtime.secrets import submitter_token
from runtime.service import AgencySpec, Runtime
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
        middlewares=limits,
    )


def limits(rt: Runtime) -> list[Middleware]:
    """The per-client rate limit (none when LT_PORTAL_RATE_LIMIT is 0)."""
    s = rt.settings
    if s.portal_rate_limit == 0:
        return []
    return [rate_limit(TokenBuckets(s.portal_rate_limit, s.portal_rate_burst), submitter_token(s), s.trusted_proxies)]
