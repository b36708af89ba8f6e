"""Load shapes (`LoadTestShape`), parametrised by `LT_LOADTEST_*` variables that
`lienthong loadtest` sets:

- `lltp-peak-day`: the judicial-record desk's peak day, 300–400 requests (`REQUESTS`, default
  350) spread over the office day (8 h) compressed by the sim clock's speed, at least
  `MIN_OFFICE_S` real seconds so the generator is not what limits it; each a user of its own that
  submits once and polls until the certificate or the refusal; then the shape waits for them.
- `officer-queue`: the same peak day, against agencies staffed with Hà Tĩnh's one officer on
  duty at the intake; nobody polls: `lienthong loadtest` measures the officer's queue (backlog and
  waiting time by hour) once it drained.
- `capacity`: a stepped ramp (`STEP_USERS` more users every `STEP_S` seconds, no pacing, no
  polling: the edge's capacity) that stops at the first step whose failure ratio passes
  `MAX_FAIL` or whose p95 passes `MAX_P95_MS`; each step's figures go to `steps.json`.
- `soak`: `USERS` users submitting all three flows at a steady `RPS` for `DURATION` seconds, each
  dossier followed to its end; then the shape waits for them.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

from locust import LoadTestShape

from loadtests.users import LEDGER, BirthChain, DeathChain, LltpRequest, env_float

OFFICE_DAY_S = 8 * 3600
MIN_OFFICE_S = 20.0
SPAWN_SLACK_S = 10.0


def _grace() -> float:
    return env_float("LT_LOADTEST_MAX_WAIT_S", 600.0)


def _followed() -> bool:
    """Whether the users poll their dossiers to the end (`officer-queue` does not: nothing would
    end the shape's wait for them but its grace period)."""
    return os.environ.get("LT_LOADTEST_FOLLOW", "1") != "0"


class LltpPeakDay(LoadTestShape):
    def __init__(self) -> None:
        super().__init__()
        self.requests = int(env_float("LT_LOADTEST_REQUESTS", 350))
        speed = env_float("LT_SIM_SPEED", 1.0)
        self.office_s = env_float("LT_LOADTEST_DURATION", max(MIN_OFFICE_S, OFFICE_DAY_S / speed))

    def tick(self) -> tuple[int, float, list[Any]] | None:
        t = self.get_run_time()
        rate = max(1.0, self.requests / self.office_s)
        if t < self.office_s:
            return max(1, min(self.requests, math.ceil(self.requests * t / self.office_s))), rate, [LltpRequest]
        if LEDGER.submissions < self.requests and t < self.office_s + SPAWN_SLACK_S:
            return self.requests, rate, [LltpRequest]  # the last users spawned submit their one request
        LEDGER.closed = True
        if _followed() and LEDGER.pending() and t < self.office_s + _grace():
            return self.requests, rate, [LltpRequest]
        return None


class Soak(LoadTestShape):
    def __init__(self) -> None:
        super().__init__()
        self.users = int(env_float("LT_LOADTEST_USERS", 20))
        self.duration = env_float("LT_LOADTEST_DURATION", 60.0)

    def tick(self) -> tuple[int, float, list[Any]] | None:
        t = self.get_run_time()
        if t < self.duration:
            return self.users, float(self.users), [LltpRequest, BirthChain, DeathChain]
        LEDGER.closed = True
        if LEDGER.pending() and t < self.duration + _grace():
            return self.users, float(self.users), [LltpRequest, BirthChain, DeathChain]
        return None


class Capacity(LoadTestShape):
    def __init__(self) -> None:
        super().__init__()
        self.step_s = env_float("LT_LOADTEST_STEP_S", 10.0)
        self.step_users = int(env_float("LT_LOADTEST_STEP_USERS", 10))
        self.max_users = int(env_float("LT_LOADTEST_USERS", 400))
        self.max_fail = env_float("LT_LOADTEST_MAX_FAIL", 0.01)
        self.max_p95_ms = env_float("LT_LOADTEST_MAX_P95_MS", 250.0)
        self.steps: list[dict[str, float]] = []
        self.mark: tuple[float, int, int] | None = None
        self.out = Path(os.environ.get("LT_LOADTEST_OUT", "."))

    def tick(self) -> tuple[int, float, list[Any]] | None:
        t = self.get_run_time()
        n = int(t // self.step_s)
        if n > len(self.steps) and not self._judge_step(t):
            LEDGER.closed = True
            return None
        users = min(self.max_users, self.step_users * (len(self.steps) + 1))
        if users >= self.max_users and len(self.steps) * self.step_users >= self.max_users:
            LEDGER.closed = True
            return None
        return users, float(self.step_users), [LltpRequest, BirthChain, DeathChain]

    def _judge_step(self, t: float) -> bool:
        """Close the step that just ended; False when it broke a threshold."""
        total = self.runner.stats.total if self.runner else None
        if total is None:
            return True
        if self.mark is None:
            self.mark = (0.0, 0, 0)
        t0, requests0, failures0 = self.mark
        requests, failures = total.num_requests - requests0, total.num_failures - failures0
        p95 = total.get_current_response_time_percentile(0.95) or 0.0
        step = {
            "users": float(self.step_users * (len(self.steps) + 1)),
            "rps": round(requests / max(1e-9, t - t0), 1),
            "fail_ratio": round(failures / requests, 4) if requests else 0.0,
            "p95_ms": float(p95),
        }
        step["ok"] = float(step["fail_ratio"] <= self.max_fail and p95 <= self.max_p95_ms and requests > 0)
        self.steps.append(step)
        self.mark = (t, total.num_requests, total.num_failures)
        (self.out / "steps.json").write_text(json.dumps(self.steps), encoding="utf-8")
        return bool(step["ok"])


SHAPES: dict[str, type[LoadTestShape]] = {
    "lltp-peak-day": LltpPeakDay,
    # The same day, for the officers' queue (the runner starts the agencies with officers and reads
    # their desks; nobody polls).
    "officer-queue": LltpPeakDay,
    "capacity": Capacity,
    "soak": Soak,
}
