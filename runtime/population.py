"""The national population database (CSDLQG về dân cư), as the agencies reach it: the port their
handlers ask, its HTTP adapter (the `dancu` service, services/dancu/), and the built-in rule for
an agency run without one (unit tests, a lone agency an integrator tries out).

Every question names the sim time it is asked at (`at`): the database answers as of then, so a
run at 40,000× asks the same questions and gets the same answers as one at 1×. An answer is one
of `Known` (when it came back, later than `at` when the database was slow), `Unknown` (the
reason and its data-quality code) or `Unreachable` (nothing came back: the agency cannot finish
the step now and tries again, runtime/identity.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import aiohttp
import structlog

from contracts.identity import Sex, verify_identity

log = structlog.get_logger()

TIMEOUT_S = 5.0
"""Real seconds an agency waits for the database before it counts the question unanswered."""


@dataclass(frozen=True)
class Person:
    """Whom an agency asks about: the ID number the dossier gives, and what it says of the person."""

    role: str
    """mother, father, deceased, applicant, child: for the refusal's wording."""
    personal_id: str
    sex: str | None = None
    birth_year: int | None = None

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"role": self.role, "personal_id": self.personal_id}
        if self.sex is not None:
            out["sex"] = self.sex
        if self.birth_year is not None:
            out["birth_year"] = self.birth_year
        return out


@dataclass(frozen=True)
class Known:
    answered_at: datetime


@dataclass(frozen=True)
class Unknown:
    role: str
    code: str
    reason: str
    answered_at: datetime


@dataclass(frozen=True)
class Unreachable:
    reason: str


Answer = Known | Unknown | Unreachable


@dataclass(frozen=True)
class Asked:
    """Who asks, about which dossier, at what sim time (the database's access log keeps it)."""

    agency: str
    dossier_id: str
    step: str
    at: datetime


def question_key(dossier_id: str, asker: str, step: str, at: datetime) -> str:
    """What names one question to the database: the dossier, who asks for which step, and when
    (the same step asking again later is another question)."""
    return f"{dossier_id}/{asker}/{step}/{at.isoformat()}"


class Population(Protocol):
    async def verify(self, people: list[Person], asked: Asked) -> Answer:
        """Whether the database knows every one of `people` as the dossier describes them: the
        first one it does not know, or Known when it knows them all."""
        ...

    async def record_birth(self, personal_id: str, sex: str, birth_date: str, asked: Asked) -> Answer:
        """Give the database a newborn the civil-status office registered (its ID number)."""
        ...


class ByRule:
    """The database as a rule (contracts/identity.py), always there, never slow, never behind."""

    async def verify(self, people: list[Person], asked: Asked) -> Answer:
        return answer_by_rule(people, asked.at)

    async def record_birth(self, personal_id: str, sex: str, birth_date: str, asked: Asked) -> Answer:
        return Known(asked.at)


def answer_by_rule(people: list[Person], at: datetime) -> Known | Unknown:
    """The rule's answer for a list of people: the first one it does not know, or Known."""
    for p in people:
        problem = verify_identity(p.personal_id, sex=Sex(p.sex) if p.sex else None, birth_year=p.birth_year)
        if problem:
            return Unknown(p.role, problem[0].value, problem[1], at)
    return Known(at)


BY_RULE = ByRule()


@dataclass
class OverHttp:
    """The `dancu` service at `url` (LT_DANCU_URL)."""

    url: str
    _session: aiohttp.ClientSession | None = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TIMEOUT_S))
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def verify(self, people: list[Person], asked: Asked) -> Answer:
        return await self._post("/lookups", {"people": [p.body() for p in people]}, asked)

    async def record_birth(self, personal_id: str, sex: str, birth_date: str, asked: Asked) -> Answer:
        body = {"personal_id": personal_id, "sex": sex, "birth_date": birth_date}
        return await self._post("/births", body, asked)

    async def _post(self, path: str, body: dict[str, Any], asked: Asked) -> Answer:
        payload = {
            **body,
            "asker": asked.agency,
            "dossier_id": asked.dossier_id,
            "step": asked.step,
            "at": asked.at.isoformat(),
        }
        try:
            async with self._http().post(self.url.rstrip("/") + path, json=payload) as r:
                answer = await r.json(content_type=None)
                status = r.status
        except (TimeoutError, aiohttp.ClientError, ValueError) as exc:
            return Unreachable(f"the population database did not answer: {type(exc).__name__}")
        if status == 503 or not isinstance(answer, dict):
            return Unreachable(f"the population database is unavailable (HTTP {status})")
        if status >= 400:
            # Our own question was wrong: a bug to fix, not an outage to wait out.
            raise RuntimeError(f"the population database refused the question: HTTP {status} {answer}")
        answered = datetime.fromisoformat(str(answer["answered_at"]))
        unknown = answer.get("unknown")
        if isinstance(unknown, dict):
            return Unknown(str(unknown["role"]), str(unknown["code"]), str(unknown["reason"]), answered)
        return Known(answered)


def population(url: str) -> Population:
    """The database the settings name (LT_DANCU_URL), or the built-in rule when they name none."""
    if not url:
        log.info("identity checks by the built-in rule (LT_DANCU_URL is empty)")
        return BY_RULE
    return OverHttp(url)
