"""The console's actions: refused in Vietnamese without the token or the officer's name, audited
with the name, and a broker that cannot be reached is a 503 with a reason, not a 500."""

import json
from pathlib import Path

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from dashboard.actions import Actions
from runtime.settings import Settings

TOKEN = "secret"


def app(tmp_path: Path) -> web.Application:
    settings = Settings(
        operator_token=TOKEN, home=tmp_path, kafka_bootstrap="127.0.0.1:1", database_url="postgresql://x"
    )
    actions = Actions(settings, TOKEN, settings.clock())
    application = web.Application()
    application.add_routes(
        [
            web.get("/whoami", actions.whoami),
            web.post("/redrive", actions.redrive),
            web.post("/ack/{alert_id}", actions.acknowledge),
        ]
    )
    return application


async def test_viewers_are_refused_in_vietnamese_and_told_why(tmp_path: Path) -> None:
    async with TestClient(TestServer(app(tmp_path))) as client:
        viewer = await (await client.get("/whoami")).json()
        assert viewer["role"] == "viewer"
        assert "mã vận hành" in viewer["reason"]
        operator = await (await client.get("/whoami", headers={"Authorization": f"Bearer {TOKEN}"})).json()
        assert operator == {"role": "operator", "reason": None}
        for headers, status in (({}, 401), ({"Authorization": "Bearer wrong"}, 403)):
            r = await client.post("/redrive", json={"all_lost": True, "operator": "A"}, headers=headers)
            assert r.status == status
            assert "mã vận hành" in (await r.json())["error"].lower()


async def test_an_action_needs_the_officers_name(tmp_path: Path) -> None:
    async with TestClient(TestServer(app(tmp_path))) as client:
        r = await client.post("/ack/1", json={}, headers={"Authorization": f"Bearer {TOKEN}"})
        assert r.status == 400
        assert "tên cán bộ" in (await r.json())["error"]
        r = await client.post("/redrive", data="not json", headers={"Authorization": f"Bearer {TOKEN}"})
        assert (r.status, (await r.json())["error"]) == (400, "Nội dung yêu cầu phải là JSON")


async def test_a_redrive_while_the_broker_is_unreachable_answers_503_with_a_reason_not_500(tmp_path: Path) -> None:
    async with TestClient(TestServer(app(tmp_path))) as client:
        r = await client.post(
            "/redrive",
            json={"dossier_id": "d-1", "operator": "Nguyễn Văn A"},
            headers={"Authorization": f"Bearer {TOKEN}"},
        )
        assert r.status == 503
        assert "Kafka" in (await r.json())["error"]


def test_every_action_is_audited_with_the_officers_name(tmp_path: Path) -> None:
    settings = Settings(operator_token=TOKEN, home=tmp_path)
    Actions(settings, TOKEN, settings.clock()).audit("Nguyễn Văn A", "acknowledge", alert_id=7)
    line = json.loads((tmp_path / "logs" / "operator-actions.jsonl").read_text(encoding="utf-8"))
    assert (line["operator"], line["action"], line["alert_id"]) == ("Nguyễn Văn A", "acknowledge", 7)


async def test_a_redrive_of_a_dossier_the_portal_settled_is_refused_with_its_state(tmp_path: Path) -> None:
    """Regression: "Gửi lại hồ sơ này" re-sent three messages of a dossier whose result had been
    returned. The portal (a stand-in answering as the real one does) says it is settled: 409,
    the state in Vietnamese, nothing asked of the senders (no broker is reachable here: a 503
    would mean it tried)."""

    async def dossier(request: web.Request) -> web.Response:
        return web.json_response({"status": "completed", "state_vi": "Đã trả kết quả", "masked": True})

    portal = web.Application()
    portal.add_routes([web.get("/api/v1/dossiers/{dossier_id}", dossier)])
    async with TestServer(portal, host="127.0.0.1") as server:
        settings = Settings(
            operator_token=TOKEN,
            home=tmp_path,
            kafka_bootstrap="127.0.0.1:1",
            database_url="postgresql://x",
            portal_port=server.port,
        )
        actions = Actions(settings, TOKEN, settings.clock())
        console = web.Application()
        console.add_routes([web.post("/redrive", actions.redrive), web.post("/resume", actions.resume_clock)])
        async with TestClient(TestServer(console)) as client:
            operator = {"Authorization": f"Bearer {TOKEN}"}
            r = await client.post("/redrive", json={"dossier_id": "d-1", "operator": "Nguyễn Văn A"}, headers=operator)
            assert r.status == 409
            assert "Đã trả kết quả" in (await r.json())["error"]
            # Without a sim clock (a real province) there is nothing to resume.
            r = await client.post("/resume", json={"operator": "Nguyễn Văn A"}, headers=operator)
            assert r.status == 409
            assert "giờ thật" in (await r.json())["error"]
    assert not (tmp_path / "logs" / "operator-actions.jsonl").exists()  # nothing done, nothing audited
