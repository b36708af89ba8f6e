"""Citizens as Locust users, through the portal's HTTP API only: an LLTP request, a birth-chain
dossier and a death-chain dossier, from the synthetic citizen generator, a set share invalid.

A valid dossier must be accepted (202); an invalid one must be refused with a reason (422 at the
edge, or accepted and refused later by the agency that checks identity). Either is a success for
Locust: the failure is any other answer. After an acceptance the user follows the dossier (polls
it) until it ends, in a greenlet of its own so the submission rate stays what the shape asks.
Every accepted dossier goes to the ledger, which `lienthong loadtest` follows to its end through
the monitor afterwards: nothing accepted may vanish silently.
"""

from __future__ import annotations

import json
import os
import random
import threading
import time
from datetime import date, datetime
from pathlib import Path
from typing import Any

import gevent
from locust import FastHttpUser, task
from locust.exception import RescheduleTask

from contracts.clock import SimClock
from contracts.dossiers import BENEFICIARY_TYPES, INSURED_TYPES
from simulation.workload.baddata import spoil
from simulation.workload.citizens import CitizenFactory

EDGE_REFUSED = ("missing_id", "malformed_id")
"""Bad data the portal refuses at once (422)."""
LATER_REFUSED = ("identity_mismatch",)
"""Bad data accepted, then refused with a reason by the agency that checks identity."""


def env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    return float(raw) if raw else default


def sim_clock() -> SimClock | None:
    epoch = os.environ.get("LT_SIM_EPOCH")
    if not epoch:
        return None
    return SimClock(
        epoch=datetime.fromisoformat(epoch),
        anchor=float(os.environ["LT_SIM_ANCHOR"]),
        speed=float(os.environ.get("LT_SIM_SPEED", "1")),
    )


class Ledger:
    """Every dossier the portal accepted, with the end its user saw (or None); and whether the
    shape still wants submissions (`closed`: users then only follow what they submitted)."""

    def __init__(self) -> None:
        self._closed = False
        self.first_submit: float | None = None
        self.submissions = 0
        self.closed_at: float | None = None
        self.lock = threading.Lock()
        self.accepted: dict[str, str | None] = {}
        self.refused_at_edge = 0
        self.finished_by_users = 0

    @property
    def closed(self) -> bool:
        return self._closed

    @closed.setter
    def closed(self, value: bool) -> None:
        if value and not self._closed:
            self.closed_at = time.monotonic()
        self._closed = value

    def submitting(self) -> None:
        with self.lock:
            self.submissions += 1
            if self.first_submit is None:
                self.first_submit = time.monotonic()

    def submitting_s(self) -> float | None:
        """Seconds from the first submission to the shape's closing (or now)."""
        if self.first_submit is None:
            return None
        return (self.closed_at or time.monotonic()) - self.first_submit

    def accept(self, dossier_id: str) -> None:
        with self.lock:
            self.accepted[dossier_id] = None

    def end(self, dossier_id: str, status: str) -> None:
        with self.lock:
            if self.accepted.get(dossier_id) is None:
                self.finished_by_users += 1
            self.accepted[dossier_id] = status

    def pending(self) -> int:
        with self.lock:
            return sum(1 for v in self.accepted.values() if v is None)

    def dump(self, path: Path) -> None:
        with self.lock:
            body = {
                "accepted": self.accepted,
                "refused_at_edge": self.refused_at_edge,
                "submitting_s": self.submitting_s(),
            }
        path.write_text(json.dumps(body), encoding="utf-8")


LEDGER = Ledger()


class Citizen(FastHttpUser):
    """One citizen's dossiers; subclasses say which flow."""

    abstract = True
    flow = "lltp"
    follow = True
    """Poll each accepted dossier until it ends (the shape may turn it off to measure the edge)."""

    def on_start(self) -> None:
        seed = random.randrange(1 << 30)
        self.factory = CitizenFactory(os.environ.get("LT_LOADTEST_PROVINCE", "042"), seed=seed)
        self.rng = random.Random(seed)
        self.invalid_share = env_float("LT_LOADTEST_INVALID", 0.05)
        self.poll_s = env_float("LT_LOADTEST_POLL_S", 2.0)
        self.max_wait_s = env_float("LT_LOADTEST_MAX_WAIT_S", 600.0)
        self.follow = os.environ.get("LT_LOADTEST_FOLLOW", "1") != "0"
        self.once = os.environ.get("LT_LOADTEST_ONCE") == "1"
        rate = env_float("LT_LOADTEST_USER_RPS", 0.0)
        self.pace = 1.0 / rate if rate > 0 else 0.0
        self.submitted = 0
        self.clock = sim_clock()
        token = os.environ.get("LT_SUBMITTER_TOKEN", "")
        self.auth = {"Authorization": f"Bearer {token}"} if token else {}

    def wait_time(self) -> float:
        return self.pace

    @task
    def step(self) -> None:
        """The one task of every citizen: submit a dossier, unless this user is done (once) or
        the shape closed."""
        if LEDGER.closed or (self.once and self.submitted):
            gevent.sleep(1.0)
            return
        self.submitted += 1
        LEDGER.submitting()
        self.submit_one()

    def today(self) -> date:
        return (self.clock.now() if self.clock else datetime.now()).date()

    def dossier(self) -> dict[str, Any]:
        raise NotImplementedError

    def submit_one(self) -> None:
        doc = self.dossier()
        bad = None
        if self.rng.random() < self.invalid_share:
            bad = self.rng.choice((*EDGE_REFUSED, *LATER_REFUSED))
            doc = spoil(doc, bad, self.rng)
        with self.client.post(
            "/api/v1/dossiers", json=doc, headers=self.auth, name=f"submit {self.flow}", catch_response=True
        ) as r:
            if r.status_code == 202:
                if bad in EDGE_REFUSED:
                    r.failure(f"{bad} accepted: the portal must refuse it")
                    return
                r.success()
                dossier_id = r.json()["dossier_id"]
                LEDGER.accept(dossier_id)
                if self.follow:
                    gevent.spawn(self.poll, dossier_id)
            elif r.status_code == 422 and bad in EDGE_REFUSED:
                r.success()  # refused at the edge with a reason: what must happen
                LEDGER.refused_at_edge += 1
            elif r.status_code == 503:
                r.failure("portal unavailable (503)")
                raise RescheduleTask()
            else:
                r.failure(f"unexpected {r.status_code} for {'valid' if bad is None else bad} dossier: {r.text[:200]}")

    def poll(self, dossier_id: str) -> None:
        deadline = time.monotonic() + self.max_wait_s
        while time.monotonic() < deadline:
            gevent.sleep(self.poll_s * (0.5 + self.rng.random()))
            with self.client.get(
                f"/api/v1/dossiers/{dossier_id}", headers=self.auth, name="poll dossier", catch_response=True
            ) as r:
                if r.status_code != 200:
                    r.failure(f"poll answered {r.status_code}")
                    continue
                status = r.json().get("status")
                r.success()
            if status in ("completed", "rejected"):
                LEDGER.end(dossier_id, status)
                return


class LltpRequest(Citizen):
    """A criminal-record certificate request (online, paid online, by post, as the reports say)."""

    abstract = False
    flow = "lltp"
    weight = 6

    def dossier(self) -> dict[str, Any]:
        online = self.rng.random() < 0.589
        return self.factory.lltp_dossier(
            self.today(), "online" if online else "in_person", True, paid_online=online and self.rng.random() < 0.995
        )


class BirthChain(Citizen):
    abstract = False
    flow = "birth"
    weight = 3

    def dossier(self) -> dict[str, Any]:
        return self.factory.birth_dossier(self.today())


class DeathChain(Citizen):
    abstract = False
    flow = "death"
    weight = 1

    def dossier(self) -> dict[str, Any]:
        # Valid stays valid (as in `lienthong run`): a burial payment only for a deceased a payer
        # covers, a survivor benefit only for the insured.
        beneficiary = self.rng.choice(BENEFICIARY_TYPES)
        n = 2 if beneficiary == "none" else self.rng.choice((3, 4) if beneficiary in INSURED_TYPES else (3,))
        return self.factory.death_dossier(self.today(), procedures=n, beneficiary=beneficiary)
