"""The officers' day in the console: assigning an incident, notes on it, and the shift handover
("chuyển ca"). Each action needs the operator token and the officer's name (dashboard/actions.py)
and is kept in the console's worklog (dashboard/worklog.py) and the audit log.

Decisions: an incident is assigned by name (the stack has no user store, as for the token); a
resolved incident takes neither assignment nor note (409, like an acknowledgement); a shift runs
from the last handover (or, before the first, from `FIRST_SHIFT` before now) to the moment the
page shows; `GET /api/v1/handover` previews it, `POST` records it and starts the next shift."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web

from dashboard import handover, worklog
from dashboard.actions import Actions, dumps, problem
from dashboard.wording import at
from dashboard.workqueue import QueueRow
from streams import queries

NOTE_MAX = 2000
FIRST_SHIFT = timedelta(hours=8)

Rows = Callable[[], Awaitable[list[QueueRow]]]


class Shift:
    def __init__(self, actions: Actions, rows: Rows) -> None:
        self.actions = actions
        self.rows = rows
        """Every incident as the queue shows it, with its assignee, most overdue first."""

    async def _incident(self, request: web.Request) -> tuple[int, dict[str, object], str] | web.Response:
        """The incident the path names (open), the action's body and the officer; or the refusal."""
        signed = await self.actions.authorised(request)
        if isinstance(signed, web.Response):
            return signed
        body, operator = signed
        try:
            incident_id = int(request.match_info["incident_id"])
        except ValueError:
            return problem(400, "Mã sự cố phải là số")
        pool = self.actions.pool
        status = None
        if pool is not None and 0 < incident_id < 2**63:
            async with pool.acquire() as conn:
                status = await queries.alert_status(conn, incident_id)
        if status is None:
            return problem(404, f"Không có sự cố #{incident_id}")
        if status["resolved_at"]:
            return problem(
                409, f"Sự cố #{incident_id} đã được xử lý lúc {at(status['resolved_at'])}: không cần thêm việc"
            )
        return incident_id, body, operator

    async def assign(self, request: web.Request) -> web.Response:
        found = await self._incident(request)
        if isinstance(found, web.Response):
            return found
        incident_id, body, operator = found
        assignee = str(body.get("assignee") or "").strip()
        if not assignee or len(assignee) > 80:
            return problem(400, "Cần ghi tên cán bộ được giao (trường assignee, tối đa 80 ký tự)")
        entry = await self._record(operator, "assign", incident_id, {"assignee": assignee})
        return web.json_response({"incident_id": incident_id, "assignee": assignee, "entry": entry}, dumps=dumps)

    async def note(self, request: web.Request) -> web.Response:
        found = await self._incident(request)
        if isinstance(found, web.Response):
            return found
        incident_id, body, operator = found
        text = str(body.get("text") or "").strip()
        if not text or len(text) > NOTE_MAX:
            return problem(400, f"Ghi chú không được để trống và dài tối đa {NOTE_MAX} ký tự (trường text)")
        entry = await self._record(operator, "note", incident_id, {"text": text})
        return web.json_response(entry, status=201, dumps=dumps)

    async def notes(self, request: web.Request) -> web.Response:
        try:
            incident_id = int(request.match_info["incident_id"])
        except ValueError:
            return problem(400, "Mã sự cố phải là số")
        pool = self.actions.pool
        entries: list[worklog.Entry] = []
        if pool is not None and 0 < incident_id < 2**63:
            async with pool.acquire() as conn:
                await worklog.apply_schema(conn)
                entries = await worklog.of_incident(conn, incident_id)
        assigned = [e["detail"].get("assignee") for e in entries if e["action"] == "assign"]
        return web.json_response(
            {
                "incident_id": incident_id,
                "assignee": assigned[-1] if assigned else None,
                "entries": [{**e, "at_vi": at(e["at"])} for e in entries],
            },
            dumps=dumps,
        )

    async def _record(
        self, operator: str, action: str, incident_id: int | None, detail: Mapping[str, Any]
    ) -> worklog.Entry:
        return await self.actions.record(operator, action, incident_id=incident_id, **detail)

    async def _document(self, by: str, to: str | None) -> handover.Handover:
        now = self.actions.now()
        rows = await self.rows()
        log: list[worklog.Entry] = []
        start = now - FIRST_SHIFT
        if self.actions.pool is not None:
            async with self.actions.pool.acquire() as conn:
                await worklog.apply_schema(conn)
                start = await worklog.last_handover(conn) or start
                log = await worklog.between(conn, start, now)
        return handover.handover(start, now, rows, log, by=by, to=to)

    async def preview(self, _request: web.Request) -> web.Response:
        """The shift so far: what a handover now would say (reading needs no token)."""
        return web.json_response(await self._document(by="—", to=None), dumps=dumps)

    async def hand_over(self, request: web.Request) -> web.Response:
        signed = await self.actions.authorised(request)
        if isinstance(signed, web.Response):
            return signed
        body, operator = signed
        to = str(body.get("to") or "").strip()[:80] or None
        document = await self._document(by=operator, to=to)
        # Recorded at the moment the document ends: the next shift starts exactly there.
        await self.actions.record(
            operator, "handover", at=datetime.fromisoformat(document["to"]), to=to, counts=document["counts"]
        )
        return web.json_response(document, status=201, dumps=dumps)

    def routes(self) -> list[web.RouteDef]:
        return [
            web.post("/api/v1/incidents/{incident_id}/assign", self.assign),
            web.post("/api/v1/incidents/{incident_id}/notes", self.note),
            web.get("/api/v1/incidents/{incident_id}/notes", self.notes),
            web.get("/api/v1/handover", self.preview),
            web.post("/api/v1/handover", self.hand_over),
        ]
