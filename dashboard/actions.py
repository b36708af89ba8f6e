"""The console's actions, each one audited: acknowledging an incident and redriving dossiers.

Reading is open to whoever reaches the port (it binds 127.0.0.1). An action needs the operator
token (`Authorization: Bearer <token>`; none gives 401, a wrong one 403) and the name of the
officer who takes it (`{"operator": "Nguyễn Văn A"}` in the body; 400 without it). Decision: one
shared token plus a name, rather than a token per officer, because the stack has no user store;
the name is recorded on the alert (`acknowledged_by`) and in the audit log
(`$LT_HOME/logs/operator-actions.jsonl`, one JSON line per action) either way. Every refusal
says why in Vietnamese.

A redrive needs sim time to pass again (the redriven step's office work takes sim hours) and a
settled run stopped the clock (ops/runclock.py). No action moves it but one: the officer's
"resume the simulation" (`POST /api/v1/clock/resume`), which runs it until the portal has no
dossier in progress, or `REDRIVE_CLOCK_S` at most, and stops it again. A redrive of a dossier the
portal has settled is refused, and so is acknowledging an incident that is over.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import time
from datetime import datetime
from typing import Any
from urllib.parse import quote

import aiohttp
import asyncpg
import structlog
from aiohttp import web
from aiokafka.errors import KafkaError

from contracts.clock import SimClock
from dashboard import worklog
from dashboard.wording import at
from ops import redrive, runclock
from runtime.secrets import operator_headers, submitter_headers
from runtime.settings import PlatformSettings, Settings
from streams import queries

log = structlog.get_logger()

REDRIVE_ANSWER_S = 15.0
"""How long a redrive request waits for the senders' answers: an officer waits at the button,
and a sender that answers later still republishes (the answer only reports the count)."""
REDRIVE_CLOCK_S = 120.0
"""The longest the console keeps sim time running after a redrive (what `make demo` waits too)."""
NAME_MAX = 80


def problem(status: int, reason: str) -> web.Response:
    return web.json_response({"error": reason}, status=status, dumps=dumps)


def dumps(o: Any) -> str:
    return json.dumps(o, ensure_ascii=False, default=str)


class Actions:
    def __init__(self, settings: Settings, token: str, clock: SimClock) -> None:
        self.settings = settings
        self.token = token
        self.clock = clock
        """The console's clock (one per process)."""
        self.pool: asyncpg.Pool | None = None
        self._clock_task: asyncio.Task[None] | None = None

    def role(self, request: web.Request) -> tuple[str, str | None]:
        """("operator", None), or ("viewer", the Vietnamese reason) with the HTTP status to refuse."""
        header = request.headers.get("Authorization", "")
        if not header:
            return "viewer", "Chỉ được xem: cần nhập mã vận hành (operator token) để thao tác"
        given = header.removeprefix("Bearer ").strip()
        if not hmac.compare_digest(given.encode(), self.token.encode()):
            return "viewer", "Mã vận hành (operator token) không đúng: chỉ được xem"
        return "operator", None

    def refused(self, request: web.Request) -> web.Response | None:
        role, reason = self.role(request)
        if role == "operator":
            return None
        status = 401 if not request.headers.get("Authorization") else 403
        return problem(status, reason or "")

    async def whoami(self, request: web.Request) -> web.Response:
        role, reason = self.role(request)
        return web.json_response({"role": role, "reason": reason}, dumps=dumps)

    @staticmethod
    async def _body(request: web.Request) -> dict[str, object] | web.Response:
        if not request.can_read_body:
            return {}
        try:
            body = await request.json()
        except (ValueError, UnicodeDecodeError):
            return problem(400, "Nội dung yêu cầu phải là JSON")
        if not isinstance(body, dict):
            return problem(400, "Nội dung yêu cầu phải là một đối tượng JSON")
        return body

    async def authorised(self, request: web.Request) -> tuple[dict[str, object], str] | web.Response:
        """An operator's action: its body and the officer's name, or the refusal to answer with
        (no token 401, a wrong one 403, no name 400)."""
        if refused := self.refused(request):
            return refused
        return await self._signed(request)

    async def _signed(self, request: web.Request) -> tuple[dict[str, object], str] | web.Response:
        """An action's body and the officer's name in it, or the refusal to answer with."""
        body = await self._body(request)
        if isinstance(body, web.Response):
            return body
        operator = self._operator(body)
        if isinstance(operator, web.Response):
            return operator
        return body, operator

    @staticmethod
    def _operator(body: dict[str, object]) -> str | web.Response:
        name = str(body.get("operator") or "").strip()
        if not name:
            return problem(400, "Cần ghi tên cán bộ thực hiện (trường operator)")
        if len(name) > NAME_MAX:
            return problem(400, f"Tên cán bộ dài quá {NAME_MAX} ký tự")
        return name

    def audit(self, operator: str, action: str, **detail: Any) -> None:
        """One JSON line per action, appended (the officer's name, what, on what, when)."""
        path = self.settings.home.resolve() / "logs" / "operator-actions.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        line = {"at": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "operator": operator, "action": action, **detail}
        with path.open("a", encoding="utf-8") as f:
            f.write(dumps(line) + "\n")
        log.info("operator action", action=action, **{k: v for k, v in detail.items() if k != "operator"})

    async def record(
        self, operator: str, action: str, *, incident_id: int | None = None, at: datetime | None = None, **detail: Any
    ) -> worklog.Entry:
        """An action kept in the console's worklog (the shift handover reads it) and the audit
        log, at `at` (default: the moment the page shows)."""
        assert self.pool is not None
        now = at or self.now()
        dossier_id = detail.get("dossier_id")
        async with self.pool.acquire() as conn:
            await worklog.apply_schema(conn)
            entry = await worklog.record(
                conn,
                at=now,
                actor=operator,
                action=action,
                incident_id=incident_id,
                dossier_id=dossier_id,
                detail=detail,
            )
        self.audit(operator, action, incident_id=incident_id, sim_at=now.isoformat(), **detail)
        return entry

    async def acknowledge(self, request: web.Request) -> web.Response:
        if refused := self.refused(request):
            return refused
        try:
            alert_id = int(request.match_info["alert_id"])
        except ValueError:
            return problem(400, "Mã cảnh báo phải là số")
        if not 0 < alert_id < 2**63:  # an alert id is a positive bigint
            return problem(404, f"Không có cảnh báo #{alert_id}")
        signed = await self._signed(request)
        if isinstance(signed, web.Response):
            return signed
        _, operator = signed
        assert self.pool is not None
        now = self.now()
        async with self.pool.acquire() as conn:
            row = await queries.acknowledge(conn, alert_id, operator, now)
            status = None if row else await queries.alert_status(conn, alert_id)
        if row is None and status is None:
            return problem(404, f"Không có cảnh báo #{alert_id}")
        if row is None:
            assert status is not None
            # Acknowledging says "someone is on it": an incident already over needs no one.
            return problem(
                409, f"Sự cố #{alert_id} đã được xử lý lúc {at(status['resolved_at'])}: không cần xác nhận nữa"
            )
        await self.record(operator, "acknowledge", incident_id=alert_id)
        return web.json_response(row, dumps=dumps)

    def now(self) -> datetime:
        """The moment the page shows (sim time in a simulation, standing still once a run settled):
        actions are stamped with it, so they sit in the same time base as everything else."""
        return runclock.state(self.clock, self.settings.sim_clock_file).sim_time

    async def redrive(self, request: web.Request) -> web.Response:
        signed = await self.authorised(request)
        if isinstance(signed, web.Response):
            return signed
        body, operator = signed
        if not (body.get("dossier_id") or body.get("all_lost") is True):
            return problem(400, 'Cần chọn hồ sơ: {"dossier_id": "..."} hoặc {"all_lost": true}')
        if body.get("all_lost") is not True:
            settled = await self._settled(str(body["dossier_id"]))
            if isinstance(settled, web.Response):
                return settled
        asker = redrive.Asker.of(self.settings, timeout_s=REDRIVE_ANSWER_S)
        try:
            if body.get("all_lost") is True:
                assert self.pool is not None
                async with self.pool.acquire() as conn:
                    alerts = await redrive.lost_alerts(conn)
                outcome = await redrive.redrive_alerts(asker, alerts)
            else:
                outcome = await redrive.redrive_dossier(asker, str(body["dossier_id"]))
        except KafkaError as exc:
            log.warning("redrive could not reach the broker", error=type(exc).__name__)
            return problem(503, "Không gửi lại được: chưa kết nối được hệ thống truyền tin (Kafka), hãy thử lại sau")
        await self.record(
            operator,
            "redrive",
            dossier_id=body.get("dossier_id"),
            all_lost=bool(body.get("all_lost")),
            queued=outcome.queued,
        )
        return web.json_response(outcome.as_dict(), status=202, dumps=dumps)

    async def _settled(self, dossier_id: str) -> web.Response | None:
        """The refusal of a redrive of a dossier the portal has settled (its result returned, or
        refused): nothing of it is waiting, and sending its messages again would only repeat
        work. None when it is still in progress."""
        state = await portal_dossier(self.settings, dossier_id)
        if state is None:
            return None  # unknown to the portal (an external intake): the senders decide
        if state.get("status") != "in_progress":
            shown = state.get("state_vi")
            return problem(409, f"Hồ sơ đã ở trạng thái “{shown}”: không gửi lại hồ sơ đã giải quyết xong")
        return None

    async def resume_clock(self, request: web.Request) -> web.Response:
        """The officer asks the stopped simulation to run again, until the portal has no dossier
        in progress (`REDRIVE_CLOCK_S` at most): the only action that moves sim time."""
        signed = await self.authorised(request)
        if isinstance(signed, web.Response):
            return signed
        _, operator = signed
        if self.settings.sim_clock_file is None:
            return problem(409, "Không có đồng hồ mô phỏng: hệ thống chạy theo giờ thật")
        started = self._run_clock()
        self.audit(operator, "resume_simulation", sim_at=self.now().isoformat(), started=started)
        return web.json_response({"running": True, "started": started, "for_s": REDRIVE_CLOCK_S}, status=202)

    async def open_dossier(self, request: web.Request) -> web.Response:
        """The people a dossier names, in full, for an officer with the operator token; the
        opening is audited (who, when, which dossier; never what was shown)."""
        signed = await self.authorised(request)
        if isinstance(signed, web.Response):
            return signed
        _, operator = signed
        dossier_id = request.match_info["dossier_id"]
        found = await portal_people(self.settings, dossier_id, operator_headers(self.settings, operator))
        if found is None:
            return problem(404, f"Cổng dịch vụ công không có hồ sơ {dossier_id}")
        self.audit(operator, "open_dossier", dossier_id=dossier_id)
        return web.json_response({"dossier_id": dossier_id, **found}, dumps=dumps)

    def _run_clock(self) -> bool:
        """Sim time runs until the redriven dossiers finished (see the module docstring); False
        when it runs already."""
        if self.settings.sim_clock_file is None or (self._clock_task is not None and not self._clock_task.done()):
            return False
        _, url = self.settings.require_infra()

        async def run() -> None:
            async with runclock.running(self.clock, self.settings.sim_clock_file):
                await redrive.wait_finished(url, REDRIVE_CLOCK_S)

        self._clock_task = asyncio.create_task(run())
        return True

    async def stop(self) -> None:
        if self._clock_task is not None and not self._clock_task.done():
            self._clock_task.cancel()


async def portal_dossier(settings: PlatformSettings, dossier_id: str) -> dict[str, object] | None:
    """The portal's answer on `dossier_id` (masked: status and state are all the console needs),
    or None when it does not know the dossier or cannot be reached."""
    return await _portal_get(settings, f"/api/v1/dossiers/{quote(dossier_id, safe='')}", submitter_headers(settings))


async def portal_people(
    settings: PlatformSettings, dossier_id: str, headers: dict[str, str]
) -> dict[str, object] | None:
    """The portal's answer on the people of `dossier_id` (masked unless `headers` carry the
    operator token), or None when it does not know the dossier or cannot be reached."""
    answer = await _portal_get(settings, f"/api/v1/dossiers/{quote(dossier_id, safe='')}/people", headers)
    return None if answer is None else {"masked": answer["masked"], "people": answer["people"]}


async def _portal_get(settings: PlatformSettings, path: str, headers: dict[str, str]) -> dict[str, object] | None:
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as http,
            http.get(f"{settings.portal_url}{path}", headers=headers) as r,
        ):
            if r.status != 200:
                return None
            answer: dict[str, object] = await r.json()
    except (TimeoutError, aiohttp.ClientError, ValueError):
        return None
    return answer
