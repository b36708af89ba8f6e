"""The dashboard's JSON API on the real stack: residence is left out, so the monitor raises lost
alerts; the dashboard lists and filters them, pushes them live, shows the dossier's timeline,
finds it by personal ID number, shows the people it names masked, and lets only the operator
acknowledge, redrive and open a dossier's personal data (each audited)."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from openpyxl import load_workbook

from dashboard.app import build
from deploy.embedded import free_port
from simulation.workload.citizens import CitizenFactory
from tests.integration.conftest import Infra, dropping_reader, monitor_process, running
from tests.integration.test_birth_chain import submit

pytestmark = pytest.mark.integration
TOKEN = "operator-secret-for-tests"


async def sse_alerts(
    http: aiohttp.ClientSession, url: str, want: int, timeout: float, subscribed: asyncio.Event | None = None
) -> list[dict[str, Any]]:
    """The first `want` alerts the live feed pushes; `subscribed` is set once the feed answered."""
    got: list[dict[str, Any]] = []
    async with asyncio.timeout(timeout), http.get(url) as r:
        assert r.headers["Content-Type"].startswith("text/event-stream")
        if subscribed is not None:
            subscribed.set()
        event = None
        async for raw in r.content:
            line = raw.decode().rstrip("\r\n")  # the spec allows either line end
            if line.startswith("event: "):
                event = line.removeprefix("event: ")
            elif line.startswith("data: ") and event == "alert":
                got.append(json.loads(line.removeprefix("data: ")))
                if len(got) >= want:
                    return got
    return got


@pytest.fixture
async def scene(infra: Infra, tmp_path: Path) -> AsyncIterator[dict[str, Any]]:
    async with running(infra, ["portal", "motcua", "hotich", "bhxh"], tmp_path, operator_token=TOKEN) as stack:
        settings = stack.settings
        app, _ = build(settings)
        server = TestServer(app, host="127.0.0.1")
        await server.start_server()
        try:
            port = free_port()
            # Residence's place is taken by a system that reads and drops: its handoffs are lost.
            async with dropping_reader(settings, "cutru"):
                with monitor_process(stack.settings, tmp_path, port) as monitor:
                    yield {
                        "stack": stack,
                        "base": str(server.make_url("")).rstrip("/"),
                        "monitor": monitor,
                        "monitor_url": f"http://127.0.0.1:{port}",
                    }
        finally:
            await server.close()


async def test_alerts_live_filtered_timeline_search_and_operator_actions(scene: dict[str, Any]) -> None:
    stack, base = scene["stack"], scene["base"]
    factory = CitizenFactory("042", seed=77)
    dossiers = [factory.birth_dossier(stack.today()) for _ in range(2)]
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{base}/api/v1/alerts") as r:
            assert r.status == 200
            assert (await r.json())["alerts"] == []
        subscribed = asyncio.Event()
        live = asyncio.create_task(sse_alerts(http, f"{base}/api/v1/alerts/stream", 2, 120, subscribed))
        await asyncio.wait_for(subscribed.wait(), 30)  # subscribed before anything is lost
        ids = []
        for d in dossiers:
            status, body = await submit(http, stack.portal, d)
            assert status == 202, body
            ids.append(body["dossier_id"])
        pushed = await live
        assert {a["dossier_id"] for a in pushed} == set(ids)
        assert {a["kind"] for a in pushed} == {"lost"}
        assert all(a["subject"] == "link:hotich->cutru" for a in pushed)
        # What the shipped Prometheus rules alert on (deploy/prometheus/rules.yml): the two lost
        # dossiers as open incidents waiting at cutru, in the birth flow.
        async with http.get(f"{scene['monitor_url']}/metrics") as r:
            scraped = await r.text()
        assert 'lienthong_open_incidents{agency="cutru",flow="birth",kind="lost",severity="high"} 2.0' in scraped
        assert 'lienthong_oldest_overdue_working_days{agency="cutru",kind="lost"}' in scraped

        async def listed(**query: str) -> list[dict[str, Any]]:
            async with http.get(f"{base}/api/v1/alerts", params=query) as r:
                assert r.status == 200, await r.text()
                return list((await r.json())["alerts"])

        assert {a["dossier_id"] for a in await listed(kind="lost")} == set(ids)
        assert len(await listed(agency="cutru")) == 2
        assert len(await listed(agency="hotich")) == 2  # a link names both ends
        assert await listed(agency="lltp") == []
        assert await listed(flow="lltp") == []
        commune = dossiers[0]["area"]["commune"]
        assert ids[0] in {a["dossier_id"] for a in await listed(commune=commune)}
        async with http.get(f"{base}/api/v1/alerts", params={"kind": "nonsense"}) as r:
            assert r.status == 400
            assert "kind" in (await r.json())["error"]

        # The work queue: both lost dossiers, waiting at cutru, in Vietnamese, with their receipt codes.
        async with http.get(f"{base}/api/v1/queue", params={"agency": "cutru"}) as r:
            queue = await r.json()
        assert queue["total"] == 2
        assert {row["dossier_id"] for row in queue["rows"]} == set(ids)
        for row in queue["rows"]:
            assert row["where_vi"] == "Cư trú – Đăng ký thường trú"
            assert row["verdict_vi"].startswith("Thất lạc khi Hộ tịch chuyển sang Cư trú – Đăng ký thường trú")
            assert row["code"].startswith("H42-")
        async with http.get(f"{base}/api/v1/queue", params={"sort": "nonsense"}) as r:
            assert r.status == 400
        # The same queue as files: every filtered row, the page's columns under its headings.
        async with http.get(f"{base}/api/v1/queue.xlsx", params={"agency": "cutru"}) as r:
            assert r.headers["Content-Disposition"].startswith('attachment; filename="viec-can-lam-')
            sheet = load_workbook(io.BytesIO(await r.read()))["Việc cần làm"]
        table = [list(row) for row in sheet.iter_rows(min_row=3, values_only=True)]
        assert table[0][:6] == ["Mã hồ sơ", "Loại", "Luồng", "Xã, phường", "Nơi xử lý", "Quá hạn"]
        assert sorted(line[0] for line in table[1:]) == sorted(row["code"] for row in queue["rows"])
        assert {line[4] for line in table[1:]} == {"Cư trú – Đăng ký thường trú"}
        async with http.get(f"{base}/api/v1/queue.csv", params={"agency": "cutru"}) as r:
            text = (await r.read()).decode("utf-8-sig")
        assert text.splitlines()[0].startswith("Mã hồ sơ,Loại,Luồng")
        assert len(text.splitlines()) == 1 + queue["total"]
        async with http.get(f"{base}/api/v1/queue.pdf") as r:
            assert r.status == 404

        # The daily charts for a range of days: every dossier submitted counted once, nothing
        # outside the range, and a bad range refused with a JSON reason.
        year = {"from": "2024-01-01", "to": "2024-12-31"}
        async with http.get(f"{base}/api/v1/series", params=year) as r:
            days = (await r.json())["series"]["throughput"]
        assert sum(d["submitted"] for d in days) == len(ids), days
        async with http.get(f"{base}/api/v1/series", params={"from": "2023-01-01", "to": "2023-12-31"}) as r:
            assert (await r.json())["series"]["throughput"] == []
        # Regression (found by fuzzing): an end without a start answered 500, the open start
        # being datetime.min at +07:00, before year 1 in UTC.
        async with http.get(f"{base}/api/v1/series", params={"to": "2024-12-31"}) as r:
            assert r.status == 200
            assert sum(d["submitted"] for d in (await r.json())["series"]["throughput"]) == len(ids)
        for bad in ({"from": "yesterday"}, {"from": "2024-03-05", "to": "2024-03-04"}):
            async with http.get(f"{base}/api/v1/series", params=bad) as r:
                assert (r.status, "error" in await r.json()) == (400, True)

        # The dossier's timeline across agencies, without its personal data.
        async with http.get(f"{base}/api/v1/dossiers/{ids[0]}") as r:
            timeline = await r.json()
        assert {"portal", "motcua", "hotich"} <= {e["agency"] for e in timeline["events"]}
        assert not any("dossier" in e["payload"] for e in timeline["events"])
        assert [a["kind"] for a in timeline["alerts"]] == ["lost"]
        async with http.get(f"{base}/api/v1/dossiers/no-such-dossier") as r:
            assert r.status == 404

        # Found by the mother's personal ID number; the answer masks it.
        pid = dossiers[0]["applicant"]["personal_id"]
        async with http.get(f"{base}/api/v1/search", params={"q": pid}) as r:
            found = await r.json()
        assert found["dossiers"] == [ids[0]]
        assert pid not in json.dumps(found)
        assert found["count"] == 1
        (match,) = found["matches"]
        assert (match["flow_vi"], match["state_vi"]) == ("Khai sinh", "Đang giải quyết")
        assert match["commune"] == dossiers[0]["area"]["commune"]
        assert match["code"].startswith("H42-")
        async with http.get(f"{base}/api/v1/search", params={"q": ids[1][:8]}) as r:
            assert ids[1] in (await r.json())["dossiers"]
        async with http.get(f"{base}/api/v1/search", params={"q": "12345678"}) as r:
            assert (r.status, (await r.json())["dossiers"]) == (200, [])  # digits only: still an id prefix
        async with http.get(f"{base}/api/v1/search", params={"q": "12345678901"}) as r:
            assert (r.status, "12 digits" in (await r.json())["error"]) == (400, True)

        # Viewers read only: no token 401, a wrong one 403, each with a JSON reason.
        alert_id = pushed[0]["id"]
        for headers, status in (({}, 401), ({"Authorization": "Bearer wrong"}, 403)):
            async with http.post(f"{base}/api/v1/redrive", json={"all_lost": True}, headers=headers) as r:
                assert r.status == status
                assert "token" in (await r.json())["error"]
            async with http.post(f"{base}/api/v1/alerts/{alert_id}/ack", headers=headers) as r:
                assert r.status == status
        operator = {"Authorization": f"Bearer {TOKEN}"}
        name = "Trần Thị Vận Hành"
        async with http.post(f"{base}/api/v1/redrive", json={"nothing": 1, "operator": name}, headers=operator) as r:
            assert r.status == 400
        async with http.post(f"{base}/api/v1/redrive", json={"dossier_id": ids[0]}, headers=operator) as r:
            assert r.status == 400  # no officer's name: nothing done
        redrive_one = {"dossier_id": ids[0], "operator": name}
        async with http.post(f"{base}/api/v1/redrive", json=redrive_one, headers=operator) as r:
            assert r.status == 202
            assert (await r.json())["queued"] >= 1  # every work message sent for it, again
        every_lost = {"all_lost": True, "operator": name}
        async with http.post(f"{base}/api/v1/redrive", json=every_lost, headers=operator) as r:
            assert r.status == 202
            assert (await r.json())["alerts"] == 2
        async with http.post(f"{base}/api/v1/alerts/{alert_id}/ack", json={"operator": name}, headers=operator) as r:
            assert r.status == 200
        acked = {a["id"]: a for a in await listed()}
        assert acked[alert_id]["acknowledged_at"] is not None
        assert acked[alert_id]["acknowledged_by"] == name

        # The people of a dossier: masked in the panel; in full once an operator opens it.
        mother = dossiers[0]["mother"]
        async with http.get(f"{base}/api/v1/dossiers/{ids[0]}") as r:
            panel = await r.json()
        shown = {p["role"]: p for p in panel["people"]}
        assert set(shown) == {"applicant", "child", "mother", "father"}
        assert shown["mother"]["personal_id"] == mother["personal_id"][:3] + "*" * 7 + mother["personal_id"][-2:]
        assert mother["full_name"] not in json.dumps(panel, ensure_ascii=False)
        opening = f"{base}/api/v1/dossiers/{ids[0]}/open"
        for headers, status in (({}, 401), ({"Authorization": "Bearer wrong"}, 403)):
            async with http.post(opening, json={"operator": name}, headers=headers) as r:
                assert r.status == status
        async with http.post(opening, json={}, headers=operator) as r:
            assert r.status == 400  # no officer's name: nothing shown
        async with http.post(opening, json={"operator": name}, headers=operator) as r:
            assert r.status == 200
            opened = {p["role"]: p for p in (await r.json())["people"]}
        assert (opened["mother"]["full_name"], opened["mother"]["personal_id"]) == (
            mother["full_name"],
            mother["personal_id"],
        )
        unknown = f"{base}/api/v1/dossiers/no-such-dossier/open"
        async with http.post(unknown, json={"operator": name}, headers=operator) as r:
            assert r.status == 404

        audit = (stack.settings.home.resolve() / "logs" / "operator-actions.jsonl").read_text(encoding="utf-8")
        lines = [json.loads(line) for line in audit.splitlines()]
        assert [line["action"] for line in lines] == ["redrive", "redrive", "acknowledge", "open_dossier"]
        assert (lines[-1]["operator"], lines[-1]["dossier_id"]) == (name, ids[0])
        assert lines[-1]["at"]
        assert mother["personal_id"] not in audit
        assert mother["full_name"] not in audit

        async with http.get(f"{base}/api/v1/funnel") as r:
            birth = next(f for f in (await r.json())["flows"] if f["flow"] == "birth")
        steps = {s["step"]: s for s in birth["steps"]}
        assert birth["submitted"] == 2
        assert steps["intake"]["finished"] == 2
        assert steps["register_residence"]["reached"] == 0  # never received: the lost link
        async with http.get(f"{base}/api/v1/health", params={"hours": "10000"}) as r:
            health = await r.json()
        assert {"link": "hotich->cutru", "sent": 2, "errors": 0, "error_rate": 0.0, "backlog": 2} in health["links"]

        # Metrics: the dashboard's, and a service's counters of what it wrote.
        async with http.get(f"{base}/metrics") as r:
            assert r.status == 200
        async with http.get(f"http://127.0.0.1:{stack.ports['hotich']}/metrics") as r:
            text = await r.text()
        assert 'lienthong_events_total{agency="hotich",type="step.completed"}' in text
        assert "lienthong_step_duration_sim_seconds_bucket" in text
    assert scene["monitor"].poll() is None


async def test_an_officer_assigns_notes_and_hands_the_shift_over_and_the_console_exports_the_incident(
    scene: dict[str, Any],
) -> None:
    """Assignment, notes and the shift handover (dashboard/shift.py) on a real lost dossier: only
    the operator acts, every action is kept in the console's worklog, the queue shows who has it,
    the handover lists what was done in the shift by whom and what stays open, and the next shift
    starts empty. The console's /metrics carries the incident as the series notifications name."""
    stack, base = scene["stack"], scene["base"]
    dossier = CitizenFactory("042", seed=78).birth_dossier(stack.today())
    operator = {"Authorization": f"Bearer {TOKEN}"}
    async with aiohttp.ClientSession() as http:
        status, body = await submit(http, stack.portal, dossier)
        assert status == 202, body
        row: dict[str, Any] | None = None
        for _ in range(240):  # the lost alert, within a minute
            async with http.get(f"{base}/api/v1/queue") as r:
                rows = (await r.json())["rows"]
            row = next((x for x in rows if x["dossier_id"] == body["dossier_id"]), None)
            if row:
                break
            await asyncio.sleep(0.25)
        assert row is not None
        incident = row["id"]
        assert row["assignee"] is None

        assign = f"{base}/api/v1/incidents/{incident}/assign"
        async with http.post(assign, json={"operator": "Trần Thị B", "assignee": "Lê Văn C"}) as r:
            assert r.status == 401
        async with http.post(assign, json={"operator": "Trần Thị B"}, headers=operator) as r:
            assert r.status == 400
            assert "assignee" in (await r.json())["error"]
        async with http.post(
            f"{base}/api/v1/incidents/999999/assign", json={"operator": "B", "assignee": "C"}, headers=operator
        ) as r:
            assert r.status == 404
        async with http.post(assign, json={"operator": "Trần Thị B", "assignee": "Lê Văn C"}, headers=operator) as r:
            assert r.status == 200, await r.text()
        notes = f"{base}/api/v1/incidents/{incident}/notes"
        async with http.post(
            notes, json={"operator": "Lê Văn C", "text": "Đã gọi Công an xã, hẹn chiều nay"}, headers=operator
        ) as r:
            assert r.status == 201, await r.text()
        async with http.post(
            f"{base}/api/v1/alerts/{incident}/ack", json={"operator": "Lê Văn C"}, headers=operator
        ) as r:
            assert r.status == 200
        async with http.get(notes) as r:
            kept = await r.json()
        assert kept["assignee"] == "Lê Văn C"
        assert [(e["action"], e["actor"]) for e in kept["entries"]] == [("assign", "Trần Thị B"), ("note", "Lê Văn C")]
        async with http.get(f"{base}/api/v1/queue") as r:
            shown = next(x for x in (await r.json())["rows"] if x["id"] == incident)
        assert shown["assignee"] == "Lê Văn C"

        async with http.post(
            f"{base}/api/v1/handover", json={"operator": "Trần Thị B", "to": "Phạm D"}, headers=operator
        ) as r:
            assert r.status == 201
            handed = await r.json()
        assert [a["by"] for a in handed["assigned"]] == ["Trần Thị B"]
        assert handed["assigned"][0]["detail"]["assignee"] == "Lê Văn C"
        assert [a["by"] for a in handed["acknowledged"]] == ["Lê Văn C"]
        assert [a["detail"]["text"] for a in handed["notes"]] == ["Đã gọi Công an xã, hẹn chiều nay"]
        open_codes = {r["code"]: r["assignee"] for r in handed["still_open"]}
        assert open_codes[row["code"]] == "Lê Văn C"
        assert handed["summary_vi"][1] == "Người bàn giao: Trần Thị B; người nhận: Phạm D"
        async with http.get(f"{base}/api/v1/handover") as r:
            next_shift = await r.json()
        assert next_shift["counts"]["assigned"] == next_shift["counts"]["acknowledged"] == 0
        assert datetime.fromisoformat(next_shift["from"]) == datetime.fromisoformat(handed["to"])
        assert row["code"] in {r["code"] for r in next_shift["still_open"]}

        # The view by district and commune: the dossier's commune, its open lost incident counted.
        async with http.get(f"{base}/api/v1/areas") as r:
            listed = await r.json()
        district = next(d for d in listed["districts"] if d["district"] == dossier["area"]["district"])
        commune = next(c for c in district["communes"] if c["commune"] == dossier["area"]["commune"])
        assert commune["open_by_kind"].get("lost", 0) >= 1
        assert district["open"] >= commune["open"] >= 1
        async with http.get(f"{base}/api/v1/areas", params={"commune": commune["commune"]}) as r:
            one = await r.json()
        assert one["commune"] == commune["commune"]
        assert len(one["overdue"]) == commune["overdue"]

        async with http.get(f"{base}/metrics") as r:
            scraped = await r.text()
        series = [line for line in scraped.splitlines() if line.startswith("lienthong_incident_overdue_working_days{")]
        assert any(f'code="{row["code"]}"' in line and 'kind="lost"' in line for line in series), series[:3]
