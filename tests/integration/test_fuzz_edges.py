"""The portal's API and the dashboard's JSON API fuzzed from their own OpenAPI documents
(schemathesis): any request the generator makes, valid or not, gets an answer its document allows
(a documented status, body schema and content type) and never a server error. Both run as they
do in production, each its own process, on the embedded broker and a fresh PostgreSQL database
with the monitor's tables; each operation gets at most `MAX_EXAMPLES` requests."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from deploy.embedded import free_port
from runtime.db import ensure_database
from runtime.settings import Settings
from tests.integration.conftest import SIM_EPOCH, Infra, service_process, wait_ready

pytestmark = pytest.mark.integration

MAX_EXAMPLES = 40


@pytest.fixture(scope="module")
def stack(infra: Infra, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """The portal, the monitor (whose tables the dashboard reads) and the dashboard."""
    tmp = tmp_path_factory.mktemp("fuzz")
    db = f"it_{uuid.uuid4().hex[:10]}"
    asyncio.run(ensure_database(infra.admin_url, db))
    portal, monitor, dashboard = free_port(), free_port(), free_port()
    s = Settings(
        kafka_bootstrap=infra.bootstrap,
        database_url=infra.admin_url.rsplit("/", 1)[0] + f"/{db}",
        home=tmp,
        sim_epoch=SIM_EPOCH,
        sim_anchor=time.time(),
        sim_speed=1000.0,
        topic_prefix=f"it{uuid.uuid4().hex[:8]}",
        portal_port=portal,
    )
    with (
        service_process("services.portal", "portal", s, tmp, portal) as p,
        service_process("streams", "monitor", s, tmp, monitor) as m,
        service_process("dashboard", "dashboard", s, tmp, dashboard, LT_DASHBOARD_PORT=str(dashboard)) as d,
    ):
        asyncio.run(wait_ready({"portal": portal, "dashboard": dashboard}))
        yield {"portal": f"http://127.0.0.1:{portal}", "dashboard": f"http://127.0.0.1:{dashboard}"}
        for name, process in (("portal", p), ("monitor", m), ("dashboard", d)):
            assert process.poll() is None, (Path(tmp) / f"{name}.log").read_text()[-3000:]


@pytest.fixture(scope="module")
def portal_api(stack: dict[str, str]) -> Any:
    return schemathesis.openapi.from_url(f"{stack['portal']}/api/v1/openapi.json")


@pytest.fixture(scope="module")
def dashboard_api(stack: dict[str, str]) -> Any:
    return schemathesis.openapi.from_url(f"{stack['dashboard']}/api/v1/openapi.json")


portal = schemathesis.pytest.from_fixture("portal_api")
dashboard = schemathesis.pytest.from_fixture("dashboard_api")
bounded = settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))


@portal.parametrize()
@bounded
def test_the_portal_answers_any_request_as_documented_and_never_with_a_server_error(
    case: Any, stack: dict[str, str]
) -> None:
    case.call_and_validate(base_url=stack["portal"])


@dashboard.parametrize()
@bounded
def test_the_dashboard_answers_any_request_as_documented_and_never_with_a_server_error(
    case: Any, stack: dict[str, str]
) -> None:
    case.call_and_validate(base_url=stack["dashboard"])
