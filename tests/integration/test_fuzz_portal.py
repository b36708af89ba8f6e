"""The portal's HTTP API fuzzed from its own OpenAPI document (schemathesis): any request the
generator makes, valid or not, gets an answer the document allows (a documented status, the
documented body schema and content type) and never a server error. The portal runs as it does in
production, its own process, on the embedded broker and a fresh PostgreSQL database; the run is
bounded (`MAX_EXAMPLES` per operation)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from deploy.embedded import free_port
from runtime.db import ensure_database
from runtime.settings import Settings
from tests.integration.conftest import SIM_EPOCH, Infra, service_process, wait_ready

pytestmark = pytest.mark.integration

MAX_EXAMPLES = 60


@pytest.fixture(scope="module")
def portal_url(infra: Infra, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("fuzz")
    db = f"it_{uuid.uuid4().hex[:10]}"
    asyncio.run(ensure_database(infra.admin_url, db))
    port = free_port()
    s = Settings(
        kafka_bootstrap=infra.bootstrap,
        database_url=infra.admin_url.rsplit("/", 1)[0] + f"/{db}",
        home=tmp,
        sim_epoch=SIM_EPOCH,
        sim_anchor=time.time(),
        sim_speed=1000.0,
        topic_prefix=f"it{uuid.uuid4().hex[:8]}",
        portal_port=port,
    )
    with service_process("services.portal", "portal", s, tmp, port) as process:
        asyncio.run(wait_ready({"portal": port}))
        yield f"http://127.0.0.1:{port}"
        assert process.poll() is None, (tmp / "portal.log").read_text()[-3000:]


@pytest.fixture(scope="module")
def portal_api(portal_url: str) -> Any:
    return schemathesis.openapi.from_url(f"{portal_url}/api/v1/openapi.json")


schema = schemathesis.pytest.from_fixture("portal_api")


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_any_request_gets_a_documented_answer_and_never_a_server_error(case: Any, portal_url: str) -> None:
    case.call_and_validate(base_url=portal_url)
