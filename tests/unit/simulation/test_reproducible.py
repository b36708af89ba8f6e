"""What makes two runs of the same profile, seed and fault scenario the same: the submissions'
keys (and so the dossier ids), each step's draws, and which handoffs and steps a fault hits
depend on the seed and the dossier, never on a random event id or the processing order."""

from __future__ import annotations

import random
from datetime import datetime

from contracts.clock import VN_TZ, SimClock
from runtime.work import StepContext
from simulation.faults.catalogue import load_scenario
from simulation.faults.inject import Injector, Period
from simulation.workload import profiles
from simulation.workload.plan import plan

START = datetime(2024, 5, 13, tzinfo=VN_TZ)


def test_the_same_profile_and_seed_plan_the_same_submission_keys() -> None:
    p = profiles.load("lltp-peak-day")
    first, second = plan(p, seed=7), plan(p, seed=7)
    assert [x.key for x in first] == [x.key for x in second]
    assert len({x.key for x in first}) == len(first)  # a copy of a submission is a new request
    assert {x.key for x in plan(p, seed=8)}.isdisjoint(x.key for x in first)


def test_a_steps_draws_follow_the_seed_and_the_dossier_not_the_processing_order() -> None:
    ctx = StepContext("hotich", SimClock(START, 1.0), {}, random.Random(0), START, {}, seed=3)
    draws = [ctx.rng_for("D-1", "register_birth", "plan").random() for _ in range(2)]
    assert draws[0] == draws[1]
    assert ctx.rng_for("D-2", "register_birth", "plan").random() != draws[0]
    other_seed = StepContext("hotich", SimClock(START, 1.0), {}, random.Random(0), START, {}, seed=4)
    assert other_seed.rng_for("D-1", "register_birth", "plan").random() != draws[0]


def test_a_fault_hits_the_same_handoffs_in_every_run() -> None:
    faults = tuple(load_scenario("report-faults"))
    injector = Injector(faults, Period(START, 30), 15000.0, "report-faults")
    again = Injector(faults, Period(START, 30), 15000.0, "report-faults")
    keys = [f"D-{i}/motcua->hotich" for i in range(2000)]
    hit = [k for k in keys if injector.handoff("motcua", "hotich", k, START) is not None]
    assert hit  # the catalogue's rates hit some of 2,000 handoffs
    assert hit == [k for k in keys if again.handoff("motcua", "hotich", k, START) is not None]
