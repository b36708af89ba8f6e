"""The population database's HTTP API, a thin adapter around `domain.answer` and its births table.

`POST /lookups`: does the database know these people, as of the sim time `at` the asker names?
`POST /births`: civil status hands over a newborn it registered. Both answer 503 with the reason
while the database is unreachable (a simulated outage), 400 with the field and the reason for a
question that breaks the contract, and never log an ID number.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal, TypeVar

import asyncpg
import structlog
from aiohttp import web
from prometheus_client import Counter
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from contracts.topics import AGENCIES
from runtime.population import Known, Person, question_key
from runtime.service import Runtime
from services.dancu.domain import answer

log = structlog.get_logger()

AGENCY = "dancu"
QUESTIONS = Counter(
    "lienthong_population_questions_total",
    "Questions to the population database, by asking agency and answer (known, unknown, unavailable)",
    ["asker", "answer"],
)


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("a sim time with its UTC offset")
    return value


class Asked(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    asker: Literal[AGENCIES]  # type: ignore[valid-type]  # the agencies, as data
    dossier_id: str = Field(min_length=1, max_length=200)
    step: str = Field(min_length=1, max_length=100)
    at: Annotated[datetime, AfterValidator(_aware)]


class PersonBody(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    role: str = Field(min_length=1, max_length=40)
    personal_id: str = Field(max_length=40)
    sex: Literal["male", "female"] | None = None
    birth_year: int | None = Field(None, ge=1800, le=2200)


class Lookup(Asked):
    people: list[PersonBody] = Field(min_length=1, max_length=10)


class Birth(Asked):
    personal_id: str = Field(pattern=r"^\d{12}$")
    sex: Literal["male", "female"]
    birth_date: date


def _bad(exc: ValidationError) -> web.Response:
    problems = [
        {"field": ".".join(str(p) for p in e["loc"]) or "$", "reason": e["msg"]}
        for e in exc.errors(include_input=False)
    ]
    return web.json_response({"error": "invalid_question", "problems": problems}, status=400)


def _unavailable(reason: str, until: datetime | None = None) -> web.Response:
    body: dict[str, Any] = {"error": "unavailable", "problems": [{"field": "$", "reason": reason}]}
    if until is not None:
        body["retry_at"] = until.isoformat()
    return web.json_response(body, status=503)


Q = TypeVar("Q", Lookup, Birth)


class PopulationApi:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.sim = rt.sim

    async def _question(self, request: web.Request, model: type[Q]) -> Q | web.Response:
        """The question, or the answer that refuses it: 400 when it breaks the contract, 503 while
        the database cannot be reached at the sim time it names."""
        try:
            q = model.model_validate_json(await request.read())
        except ValidationError as exc:
            return _bad(exc)
        closed = self.sim.closed(AGENCY, q.at)
        if closed is not None:
            QUESTIONS.labels(q.asker, "unavailable").inc()
            return _unavailable("the population database cannot be reached now", closed)
        return q

    @staticmethod
    def _store_down(q: Asked, exc: Exception) -> web.Response:
        QUESTIONS.labels(q.asker, "unavailable").inc()
        log.warning("population database store unavailable", error=type(exc).__name__)
        return _unavailable("the population database's store is unavailable")

    async def lookups(self, request: web.Request) -> web.Response:
        q = await self._question(request, Lookup)
        if isinstance(q, web.Response):
            return q
        ids = [p.personal_id for p in q.people]
        try:
            async with self.rt.pool.acquire() as conn:
                rows = await conn.fetch(
                    "SELECT personal_id, min(visible_from) AS visible_from FROM dancu.births "
                    "WHERE personal_id = ANY($1::text[]) GROUP BY personal_id",
                    ids,
                )
        except (asyncpg.PostgresError, OSError) as exc:
            return self._store_down(q, exc)
        people = [Person(p.role, p.personal_id, p.sex, p.birth_year) for p in q.people]
        found = answer(people, {r["personal_id"]: r["visible_from"] for r in rows}, q.at)
        answered = self.sim.answered_at(AGENCY, question_key(q.dossier_id, q.asker, q.step, q.at), q.at)
        QUESTIONS.labels(q.asker, "known" if isinstance(found, Known) else "unknown").inc()
        body: dict[str, Any] = {"answered_at": answered.isoformat()}
        if not isinstance(found, Known):
            body["unknown"] = {"role": found.role, "code": found.code, "reason": found.reason}
        return web.json_response(body)

    async def births(self, request: web.Request) -> web.Response:
        q = await self._question(request, Birth)
        if isinstance(q, web.Response):
            return q
        visible = self.sim.visible_from(AGENCY, q.dossier_id, q.at)
        try:
            async with self.rt.pool.acquire() as conn:
                # The same newborn handed over again (a retried step) keeps its first record's times.
                await conn.execute(
                    "INSERT INTO dancu.births (dossier_id, personal_id, sex, birth_date, recorded_at, visible_from) "
                    "VALUES ($1, $2, $3, $4, $5, $6) "
                    "ON CONFLICT (dossier_id) DO UPDATE SET personal_id = EXCLUDED.personal_id",
                    q.dossier_id,
                    q.personal_id,
                    q.sex,
                    q.birth_date,
                    q.at,
                    visible,
                )
        except (asyncpg.PostgresError, OSError) as exc:
            return self._store_down(q, exc)
        QUESTIONS.labels(q.asker, "recorded").inc()
        return web.json_response({"answered_at": q.at.isoformat()})


def routes(rt: Runtime) -> list[web.RouteDef]:
    api = PopulationApi(rt)
    return [web.post("/lookups", api.lookups), web.post("/births", api.births)]
