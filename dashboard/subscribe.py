"""The console's per-officer subscriptions: kept in the console's own schema, and turned into
Alertmanager routes beside the shipped one (dashboard/subscriptions.py) whenever they change and
whenever Prometheus scrapes the console (so a subscription made before `--alerting` started, or
before an Alertmanager restart, is applied as soon as it runs).

`GET /api/v1/subscriptions` lists them (the operator's token: they hold staff addresses);
`POST` adds one (`{"operator", "officer", "channel": "email"|"webhook", "address", "communes",
"flows"}`), `DELETE /api/v1/subscriptions/{id}` (with `{"operator"}`) removes one. A body the
model refuses is a 400 naming the field; an e-mail subscription on a stack with no mail relay is
a 409. Each change is in the operator audit log."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import structlog
from aiohttp import web
from pydantic import ValidationError

from contracts.jsontypes import obj
from dashboard.actions import Actions, dumps, problem
from dashboard.subscriptions import Subscription, with_subscriptions
from deploy import alerting
from deploy.state import StackState
from runtime.conn import Conn

log = structlog.get_logger()

# Its own schema: a new simulation resets the console's worklog (`console`), not the officers'
# subscriptions, which are the province's configuration.
SCHEMA = """
CREATE SCHEMA IF NOT EXISTS console_settings;
CREATE TABLE IF NOT EXISTS console_settings.subscriptions (
    id         bigserial PRIMARY KEY,
    created_at timestamptz NOT NULL DEFAULT now(),
    created_by text NOT NULL,
    body       jsonb NOT NULL
);
"""


WORDS = {
    "extra_forbidden": "trường này không có trong đăng ký",
    "missing": "thiếu trường bắt buộc",
    "literal_error": "giá trị không hợp lệ",
    "string_too_short": "không được để trống",
    "string_too_long": "dài quá mức cho phép",
    "too_long": "quá nhiều giá trị",
    "list_type": "phải là một danh sách",
    "string_type": "phải là chuỗi ký tự",
}


def reason(exc: ValidationError) -> str:
    """The first refusal, naming its field, in the console's words."""
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "body"
    said = WORDS.get(first["type"]) or str(first["msg"]).removeprefix("Value error, ")
    return f"{where}: {said}"


class Subscribe:
    def __init__(self, actions: Actions, home: Path) -> None:
        self.actions = actions
        self.home = home
        self._applied: str | None = None
        self._made = False

    async def _schema(self, conn: Conn) -> None:
        """The table, once per process: `_all` runs at every Prometheus scrape."""
        if not self._made:
            await conn.execute(SCHEMA)
            self._made = True

    async def _all(self) -> list[tuple[int, Subscription]]:
        pool = self.actions.pool
        if pool is None:
            return []
        async with pool.acquire() as conn:
            await self._schema(conn)
            rows = await conn.fetch("SELECT id, body FROM console_settings.subscriptions ORDER BY id")
        return [(int(r["id"]), Subscription.model_validate(json.loads(r["body"]))) for r in rows]

    def _alertmanager(self) -> tuple[Path, int] | None:
        started = StackState(self.home).stack().get("alerting", {})
        port = started.get("alertmanager", {}).get("port")
        folder = started.get("folder")
        return (Path(folder), int(port)) if port and folder and (Path(folder) / alerting.BASE).exists() else None

    async def apply(self, subs: list[tuple[int, Subscription]] | None = None, force: bool = False) -> bool:
        """Put the subscriptions into the running Alertmanager's configuration (if one runs and
        they changed since the last time); whether one runs. Raises ValueError when an e-mail
        subscription has no mail relay, RuntimeError when Alertmanager refuses."""
        where = self._alertmanager()
        if where is None:
            return False
        subs = await self._all() if subs is None else subs
        folder, port = where
        config = with_subscriptions(alerting.base_config(folder), subs)
        signature = hashlib.sha256(f"{port}{json.dumps(config, sort_keys=True)}".encode()).hexdigest()
        if force or signature != self._applied:
            alerting.reload(folder, port, config)
            self._applied = signature
        return True

    async def ensure(self) -> None:
        """At a scrape: applied if it can be; a failure is logged, never the scrape's."""
        try:
            await self.apply()
        except (ValueError, RuntimeError, OSError) as exc:
            log.warning("officers' subscriptions not applied to Alertmanager", error=str(exc))

    async def listed(self, request: web.Request) -> web.Response:
        if refused := self.actions.refused(request):
            return refused
        subs = await self._all()
        return web.json_response(
            {
                "subscriptions": [{"id": i, **s.model_dump()} for i, s in subs],
                "applied": self._alertmanager() is not None,
            },
            dumps=dumps,
        )

    async def add(self, request: web.Request) -> web.Response:
        signed = await self.actions.authorised(request)
        if isinstance(signed, web.Response):
            return signed
        body, operator = signed
        try:
            sub = Subscription.model_validate({k: v for k, v in body.items() if k != "operator"})
        except ValidationError as exc:
            return problem(400, reason(exc))
        pool = self.actions.pool
        if pool is None:
            return problem(503, "Chưa kết nối được cơ sở dữ liệu của bảng điều khiển")
        # Without alerting running, it is kept and checked when Alertmanager starts (`ensure`).
        where = self._alertmanager()
        if (
            where
            and sub.channel == "email"
            and not obj(alerting.base_config(where[0]).get("global") or {}).get("smtp_smarthost")
        ):
            return problem(
                409, "Hệ thống chưa cấu hình máy chủ thư (LT_ALERT_SMTP): không gửi được thư cho đăng ký này"
            )
        async with pool.acquire() as conn:
            await self._schema(conn)
            sub_id = int(
                await conn.fetchval(
                    "INSERT INTO console_settings.subscriptions (created_by, body) VALUES ($1, $2) RETURNING id",
                    operator,
                    json.dumps(sub.model_dump(), ensure_ascii=False),
                )
            )
        self.actions.audit(operator, "subscribe", subscription=sub_id, officer=sub.officer, channel=sub.channel)
        applied = await self._apply_now()
        return web.json_response({"id": sub_id, **sub.model_dump(), "applied": applied}, status=201, dumps=dumps)

    async def remove(self, request: web.Request) -> web.Response:
        signed = await self.actions.authorised(request)
        if isinstance(signed, web.Response):
            return signed
        _, operator = signed
        try:
            sub_id = int(request.match_info["sub_id"])
        except ValueError:
            return problem(400, "Mã đăng ký phải là số")
        pool = self.actions.pool
        gone = None
        if pool is not None and 0 < sub_id < 2**63:
            async with pool.acquire() as conn:
                await self._schema(conn)
                gone = await conn.fetchval(
                    "DELETE FROM console_settings.subscriptions WHERE id = $1 RETURNING id", sub_id
                )
        if gone is None:
            return problem(404, f"Không có đăng ký #{sub_id}")
        self.actions.audit(operator, "unsubscribe", subscription=sub_id)
        return web.json_response({"id": sub_id, "removed": True, "applied": await self._apply_now()}, dumps=dumps)

    async def _apply_now(self) -> bool:
        try:
            return await self.apply(force=True)
        except (ValueError, RuntimeError, OSError) as exc:
            log.warning("officers' subscriptions not applied to Alertmanager", error=str(exc))
            return False

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/api/v1/subscriptions", self.listed),
            web.post("/api/v1/subscriptions", self.add),
            web.delete("/api/v1/subscriptions/{sub_id}", self.remove),
        ]
