"""The portal's HTTP API: a thin adapter around `plan_submission` and the portal tables."""

from __future__ import annotations

import contextlib
import hmac
import json
import uuid
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Any
from urllib.parse import unquote

import structlog
from aiohttp import web

from contracts import topics
from contracts.calendar import WorkingCalendar
from contracts.dossiers import parse_submission
from contracts.envelope import new_event
from contracts.errors import ContractError
from contracts.event_types import LINK_ERROR
from contracts.identity import mask_personal_id
from contracts.people import mask_document, people
from runtime import outbox
from runtime.conn import Conn
from runtime.outbox import OutboxRow, split
from runtime.secrets import operator_token
from runtime.service import Runtime
from services.portal.domain import citizen_state, external_view, plan_submission
from services.portal.openapi import document

log = structlog.get_logger()


def _problem(status: int, error: str, problems: list[dict[str, str]]) -> web.Response:
    return web.json_response({"error": error, "problems": problems}, status=status)


DOSSIERS = uuid.UUID("0b7c5e2a-93d4-4f61-8a2e-7d15c9b3e640")
"""Namespace of dossier ids named after an Idempotency-Key."""


class PortalApi:
    """The portal's routes, each a method; built once per process from its runtime."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.prefix = rt.settings.topic_prefix
        self.chains = rt.settings.chains()
        self.clock = rt.worker.clock
        self.calendar = WorkingCalendar()
        self.sim = rt.sim
        self.operator = operator_token(rt.settings).encode()

    def submission_time(self, request: web.Request) -> datetime:
        """Now; under a simulation, the time its citizen planned (the port reads it), bounded by
        the clock's lag tolerance, so it can only say "a moment ago" (contracts/clock.py)."""
        planned = self.sim.planned_submission(request.headers)
        return self.clock.now() if planned is None else self.rt.worker.stamp(planned)

    async def submit(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            return _problem(400, "malformed_json", [{"field": "$", "reason": f"body is not valid JSON: {exc}"}])
        now = self.submission_time(request)
        reopens = self.sim.closed("portal", now)
        if reopens is not None:
            return web.json_response(
                {
                    "error": "portal_unavailable",
                    "problems": [{"field": "$", "reason": "the portal cannot accept dossiers now (connection errors)"}],
                    "retry_at": reopens.isoformat(),
                },
                status=503,
            )
        try:
            sub = parse_submission(body, now.date())
        except ContractError as exc:
            return _problem(422, "invalid_dossier", [p.as_dict() for p in exc.problems])
        payment = self.sim.payment_failure(now) if sub.paid_online else None
        key = request.headers.get("Idempotency-Key")
        # Named after the client's Idempotency-Key when it gives one: a retry, or the same
        # workload run again, gets the same dossier id (keys are per client; a reused key is a retry).
        dossier_id = str(uuid.uuid5(DOSSIERS, key) if key else uuid.uuid4())
        trace_id = request.headers.get("X-Trace-Id") or uuid.uuid4().hex
        plan = plan_submission(sub, self.chains[sub.chain], now, dossier_id, trace_id, self.calendar)
        rows, hits = self.sim.handoff(plan.handoff, self.prefix)
        rows.insert(0, OutboxRow(topics.dossier_events(self.prefix), plan.submitted))
        if payment is not None:
            failed = new_event(
                LINK_ERROR,
                "portal",
                now,
                dossier_id=dossier_id,
                chain=sub.chain,
                payload={"to": "payment", "error": "online fee payment failed; the fee is paid at the counter"},
                trace_id=trace_id,
            )
            rows.insert(1, OutboxRow(topics.dossier_events(self.prefix), failed))
            hits.append(payment(dossier_id, failed.event_id))
        events, releases = split(rows)
        at_once, later = outbox.partition(outbox.records(events), releases)
        with structlog.contextvars.bound_contextvars(dossier_id=dossier_id, trace_id=trace_id):
            async with self.rt.pool.acquire() as conn, _atomic(conn, bool(releases or hits)):
                accepted = await conn.fetchrow(
                    "SELECT * FROM portal.accept_dossier($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, "
                    "$14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24)",
                    dossier_id,
                    sub.chain,
                    sub.channel,
                    plan.expected_results,
                    list(sub.procedures),
                    sub.area["province"],
                    sub.area.get("district"),
                    sub.area["commune"],
                    sub.fee_bearing,
                    sub.paid_online and payment is None,  # a failed payment is made at the counter
                    sub.return_by_post,
                    now,
                    trace_id,
                    request.headers.get("X-Lienthong-Run"),
                    key,
                    json.dumps(sub.data, ensure_ascii=False),
                    plan.due_at,
                    sub.needs_verification,
                    sub.subject_key,
                    *outbox.columns(at_once),
                )
                if accepted["outcome"] == "duplicate":
                    log.info("duplicate submission refused", existing=accepted["existing_id"])
                    return _problem(
                        409,
                        "duplicate_dossier",
                        [
                            {
                                "field": "$",
                                "reason": f"the same {sub.chain} dossier was already submitted as "
                                f"{accepted['existing_id']}",
                            }
                        ],
                    )
                if accepted["outcome"] == "replayed":
                    first = {"dossier_id": accepted["existing_id"], "status": accepted["existing_status"]}
                    return web.json_response({**first, "duplicate": True})
                await self.rt.relay.store.queue_released(conn, later)
                await self.sim.record(conn, hits)
            outbox.counted("portal", events)
            log.info("dossier accepted", chain=sub.chain, channel=sub.channel)
        self.rt.relay.wake()
        return web.json_response(
            {
                "dossier_id": dossier_id,
                "status": "in_progress",
                "trace_id": trace_id,
                "expected_results": plan.expected_results,
                "due_at": plan.due_at.isoformat(),
            },
            status=202,
        )

    def holds_operator_token(self, request: web.Request) -> bool:
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip().encode()
        return hmac.compare_digest(given, self.operator)

    async def audited(self, request: web.Request, dossier_id: str) -> None:
        """Record a read of a dossier's personal data in full: which dossier, which path, the
        officer the caller names (`X-Operator`) and the client's address; never what was shown."""
        who = unquote(request.headers.get("X-Operator", ""))[:200] or None
        async with self.rt.pool.acquire() as conn:
            await conn.execute(
                "INSERT INTO portal.personal_data_reads (dossier_id, path, operator, client) VALUES ($1, $2, $3, $4)",
                dossier_id,
                request.path,
                who,
                request.remote,
            )
        log.info("personal data read in full", dossier_id=dossier_id, path=request.path, client=request.remote)

    async def get_dossier(self, request: web.Request) -> web.Response:
        """A dossier the portal took in, or one it knows from the event log only (an external
        producer submitted it): the same answer, `received_by_portal` telling which. Personal ID
        numbers and names are masked unless the caller holds the operator token (then audited)."""
        dossier_id = request.match_info["dossier_id"]
        async with self.rt.pool.acquire() as conn:
            d = await conn.fetchrow(
                "SELECT dossier_id, chain, channel, status, reason, submitted_at, due_at, closed_at, expected_results, "
                "procedures, province, district, commune, trace_id FROM portal.dossiers WHERE dossier_id = $1",
                dossier_id,
            )
            results = await conn.fetch(
                "SELECT step, outcome, reason, result, received_at FROM portal.results WHERE dossier_id = $1",
                dossier_id,
            )
            timeline = [
                {**dict(t), "payload": json.loads(t["payload"])}
                for t in await conn.fetch(
                    "SELECT event_id, type, agency, step, occurred_at, payload, chain FROM portal.timeline "
                    "WHERE dossier_id = $1 ORDER BY occurred_at, type",
                    dossier_id,
                )
            ]
        if d is None and not timeline:
            return _problem(404, "not_found", [{"field": "dossier_id", "reason": "no such dossier"}])
        if d is None:
            body = external_view(dossier_id, timeline)
        else:
            state = citizen_state(d["status"])
            body = {
                **dict(d),
                "received_by_portal": True,
                "state": state.value,
                "state_vi": state.label_vi,
                "portal_code": state.portal_code,
                "results": {
                    r["step"]: {
                        "outcome": r["outcome"],
                        "reason": r["reason"],
                        "result": json.loads(r["result"]),
                        "received_at": r["received_at"],
                    }
                    for r in results
                },
            }
        body["timeline"] = [{k: v for k, v in t.items() if k != "chain"} for t in timeline]
        if self.holds_operator_token(request):
            await self.audited(request, dossier_id)
            body["masked"] = False
        else:
            body = {**mask_document(body), "masked": True}
        return web.json_response(body, dumps=lambda o: json.dumps(o, ensure_ascii=False, default=_json_default))

    async def find(self, request: web.Request) -> web.Response:
        """Dossiers naming a personal ID number anywhere: in the submission (applicant, parents,
        deceased) or in a result (the child's number, issued with the birth): for the operators'
        search. The answer carries the number masked, never in full."""
        personal_id = request.query.get("personal_id", "")
        if not (personal_id.isdigit() and len(personal_id) == 12):
            return _problem(400, "invalid_query", [{"field": "personal_id", "reason": "12 digits expected"}])
        async with self.rt.pool.acquire() as conn:
            rows = await conn.fetch(
                "SELECT d.dossier_id, d.chain, d.status, d.commune, d.submitted_at FROM portal.dossiers d "
                "WHERE jsonb_path_exists(d.data, '$.**.personal_id ? (@ == $id)', jsonb_build_object('id', $1::text)) "
                "OR EXISTS (SELECT 1 FROM portal.results r WHERE r.dossier_id = d.dossier_id "
                "AND jsonb_path_exists(r.result, '$.**.personal_id ? (@ == $id)', jsonb_build_object('id', $1::text))) "
                "ORDER BY d.submitted_at DESC LIMIT 50",
                personal_id,
            )
        return web.json_response(
            {
                "personal_id": mask_personal_id(personal_id),
                "dossiers": [{k: _jsonable(v) for k, v in dict(r).items()} for r in rows],
            }
        )

    async def dossier_people(self, request: web.Request) -> web.Response:
        """The people a dossier names: masked, or in full for the operator token's holder (the
        dashboard opening a dossier for an officer, who is audited there)."""
        dossier_id = request.match_info["dossier_id"]
        async with self.rt.pool.acquire() as conn:
            data = await conn.fetchval("SELECT data FROM portal.dossiers WHERE dossier_id = $1", dossier_id)
        if data is None:
            return _problem(404, "not_found", [{"field": "dossier_id", "reason": "no such dossier taken in here"}])
        full = self.holds_operator_token(request)
        if full:
            await self.audited(request, dossier_id)
        found = people(json.loads(data))
        return web.json_response(
            {
                "dossier_id": dossier_id,
                "masked": not full,
                "people": [(p if full else p.masked()).as_dict() for p in found],
            },
            dumps=lambda o: json.dumps(o, ensure_ascii=False),
        )

    async def stats(self, request: web.Request) -> web.Response:
        run_id = request.query.get("run_id")
        async with self.rt.pool.acquire() as conn:
            rows = await conn.fetch(
                "SELECT chain, status, count(*) AS n FROM portal.dossiers "
                "WHERE $1::text IS NULL OR run_id = $1 GROUP BY chain, status",
                run_id,
            )
        out: dict[str, dict[str, int]] = {}
        for r in rows:
            c = out.setdefault(r["chain"], {"submitted": 0, "completed": 0, "rejected": 0, "in_progress": 0})
            c[r["status"]] += r["n"]
            c["submitted"] += r["n"]
        return web.json_response({"chains": out})

    async def openapi(self, _request: web.Request) -> web.Response:
        return web.json_response(document(), dumps=lambda o: json.dumps(o, ensure_ascii=False))

    def routes(self) -> list[web.RouteDef]:
        return [
            web.post("/api/v1/dossiers", self.submit),
            web.get("/api/v1/dossiers", self.find),
            web.get("/api/v1/dossiers/{dossier_id}", self.get_dossier),
            web.get("/api/v1/dossiers/{dossier_id}/people", self.dossier_people),
            web.get("/api/v1/stats", self.stats),
            web.get("/api/v1/openapi.json", self.openapi),
        ]


def routes(rt: Runtime) -> list[web.RouteDef]:
    return PortalApi(rt).routes()


def _atomic(conn: Conn, needed: bool) -> AbstractAsyncContextManager[Any]:
    """A transaction when acceptance takes more than the one statement (a statement alone is
    atomic already, and BEGIN and COMMIT are two more round trips on the hot path)."""
    return conn.transaction() if needed else contextlib.nullcontext()


def _json_default(v: Any) -> Any:
    """Datetimes and UUIDs as JSON strings."""
    if hasattr(v, "isoformat"):
        return v.isoformat()
    if isinstance(v, uuid.UUID):
        return str(v)
    raise TypeError(f"{type(v).__name__} is not JSON serialisable")


def _jsonable(v: Any) -> Any:
    if hasattr(v, "isoformat"):
        return v.isoformat()
    if isinstance(v, uuid.UUID):
        return str(v)
    if isinstance(v, str) and v.startswith("{"):
        try:
            return json.loads(v)
        except ValueError:
            return v
    return v
