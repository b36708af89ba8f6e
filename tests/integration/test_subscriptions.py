"""An officer's own notifications, through the real parts: the console's API keeps the
subscription (PostgreSQL), writes it into the running Alertmanager's configuration beside the
shipped route and has it reload (Debian's Alertmanager); then an overdue dossier reaches the
officer who follows its commune and flow, by webhook or by mail, and nobody else's subscription,
while the duty officers still get every one."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from dashboard.app import build
from deploy import alerting
from deploy.embedded import free_port
from deploy.state import StackState
from tests import debian
from tests.integration.conftest import Infra, running
from tests.integration.test_alerting import _alert
from tests.receivers import Receivers, receivers

pytestmark = pytest.mark.integration
TOKEN = "operator-secret-for-subscriptions"
OPERATOR = {"Authorization": f"Bearer {TOKEN}"}


def overdue(dossier: str, code: str, commune: str, flow: str) -> dict[str, Any]:
    labels = {
        "dossier": dossier,
        "code": code,
        "commune": commune,
        "place": "UBND xã – Đăng ký khai sinh",
        "kind": "stuck",
        "kind_vi": "Ùn tắc, quá hạn",
        "severity": "high",
        "agency": "hotich",
        "flow": flow,
    }
    return _alert("LienthongDossierOverdue", labels, f"Hồ sơ {code} ({commune}): quá hạn 2 ngày làm việc")


@pytest.fixture
async def console(infra: Infra, tmp_path: Path) -> AsyncIterator[tuple[str, Receivers, dict[str, Any]]]:
    debian.ensure(Path("/usr/bin/prometheus-alertmanager"), "prometheus-alertmanager")
    debian.ensure(Path("/usr/bin/prometheus"), "prometheus")
    with receivers() as got:
        async with running(infra, [], tmp_path, operator_token=TOKEN) as stack:
            home = stack.settings.home.resolve()
            plan = alerting.Plan(interval_s=1, group_wait_s=1, webhook_url=got.webhook_url, smtp=got.smtp)
            started = await asyncio.to_thread(alerting.start, home, {"monitor": free_port()}, plan)
            StackState(home).save_stack({**StackState(home).stack(), "alerting": started})
            app, _ = build(stack.settings)
            server = TestServer(app, host="127.0.0.1")
            await server.start_server()
            try:
                yield str(server.make_url("")).rstrip("/"), got, started
            finally:
                await server.close()
                await asyncio.to_thread(alerting.stop, started)


async def test_an_officer_gets_only_the_overdue_dossiers_of_the_communes_and_flows_followed(
    console: tuple[str, Receivers, dict[str, Any]],
) -> None:
    base, got, started = console
    subs = f"{base}/api/v1/subscriptions"
    lan = {
        "operator": "Trần Thị B",
        "officer": "Nguyễn Thị Lan",
        "channel": "webhook",
        "address": f"{got.webhook_url.rsplit('/', 1)[0]}/officer-lan",
        "communes": ["Xã Tùng Lộc"],
        "flows": ["birth"],
    }
    minh = {
        "operator": "Trần Thị B",
        "officer": "Trần Văn Minh",
        "channel": "email",
        "address": "minh@xa.gov.vn",
        "communes": ["Phường Bắc Hà"],
    }
    async with aiohttp.ClientSession() as http:
        async with http.post(subs, json=lan) as r:
            assert r.status == 401
        async with http.get(subs) as r:
            assert r.status == 401
        async with http.post(subs, json={**lan, "channel": "pager"}, headers=OPERATOR) as r:
            assert r.status == 400
            assert (await r.json())["error"].startswith("channel")
        async with http.post(subs, json={**minh, "address": "not-a-mail"}, headers=OPERATOR) as r:
            assert r.status == 400
            assert (await r.json())["error"].startswith("address")
        async with http.post(subs, json={**lan, "flows": ["adoption"]}, headers=OPERATOR) as r:
            assert r.status == 400
            assert "flows" in (await r.json())["error"]
        async with http.post(subs, json={**lan, "pager": "1"}, headers=OPERATOR) as r:
            assert r.status == 400
            assert (await r.json())["error"].startswith("pager")
        ids = []
        for body in (lan, minh):
            async with http.post(subs, json=body, headers=OPERATOR) as r:
                assert r.status == 201, await r.text()
                made = await r.json()
                assert made["applied"] is True
                ids.append(made["id"])
        async with http.get(subs, headers=OPERATOR) as r:
            listed = (await r.json())["subscriptions"]
        assert [(s["officer"], s["communes"], s["flows"]) for s in listed] == [
            ("Nguyễn Thị Lan", ["Xã Tùng Lộc"], ["birth"]),
            ("Trần Văn Minh", ["Phường Bắc Hà"], []),
        ]
        async with http.delete(f"{subs}/999999", json={"operator": "Trần Thị B"}, headers=OPERATOR) as r:
            assert r.status == 404

        api = f"http://127.0.0.1:{started['alertmanager']['port']}/api/v2/alerts"
        alerts = [
            overdue("d-a", "H42-240105-AAAA0001", "Xã Tùng Lộc", "birth"),
            overdue("d-b", "H42-240105-BBBB0002", "Xã Tùng Lộc", "death"),
            overdue("d-c", "H42-240105-CCCC0003", "Phường Bắc Hà", "lltp"),
        ]
        async with http.post(api, json=alerts) as r:
            assert r.status == 200, await r.text()
        for _ in range(150):  # at most 30 s
            to_minh = [i for i, rcpt in enumerate(got.mailbox.recipients) if "minh@xa.gov.vn" in rcpt]
            if "/officer-lan" in got.paths and to_minh and len(got.mailbox.messages) >= 4:
                break
            await asyncio.sleep(0.2)
        # What should not come, by Alertmanager's own word rather than by waiting for silence:
        # the receivers its route gave each alert.
        async with http.get(api) as r:
            routed = {a["labels"]["code"]: {x["name"] for x in a["receivers"]} for a in await r.json()}
        lan_receiver, minh_receiver = (f"officer-{i}" for i in ids)
        assert routed["H42-240105-AAAA0001"] & {lan_receiver, minh_receiver} == {lan_receiver}
        assert routed["H42-240105-BBBB0002"] & {lan_receiver, minh_receiver} == set()
        assert routed["H42-240105-CCCC0003"] & {lan_receiver, minh_receiver} == {minh_receiver}
        assert all(len(names) >= 2 or code.endswith("BBBB0002") for code, names in routed.items()), routed

        lans = [p for p, path in zip(got.posted, got.paths, strict=False) if path == "/officer-lan"]
        assert [a["labels"]["code"] for n in lans for a in n["alerts"]] == ["H42-240105-AAAA0001"]
        texts = got.mailbox.texts()
        minh_mail = [texts[i] for i, rcpt in enumerate(got.mailbox.recipients) if "minh@xa.gov.vn" in rcpt]
        assert len(minh_mail) == 1, minh_mail
        assert "H42-240105-CCCC0003" in minh_mail[0]
        assert "AAAA0001" not in minh_mail[0]
        duty = [texts[i] for i, rcpt in enumerate(got.mailbox.recipients) if "truc-ban@localhost" in rcpt]
        for code in ("AAAA0001", "BBBB0002", "CCCC0003"):  # the duty officers still get each one
            assert any(code in m for m in duty), (code, len(duty))

        async with http.delete(f"{subs}/{ids[0]}", json={"operator": "Trần Thị B"}, headers=OPERATOR) as r:
            assert r.status == 200, await r.text()
        status = f"http://127.0.0.1:{started['alertmanager']['port']}/api/v2/status"
        async with http.get(status) as r:
            running_config = (await r.json())["config"]["original"]
        assert "officer-lan" not in running_config
        assert "minh@xa.gov.vn" in running_config
