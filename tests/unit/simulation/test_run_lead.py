"""The lead a run leaves its services before sim time reaches the period's start."""

from __future__ import annotations

import json
from pathlib import Path

from simulation.bootstrap import MAX_RUN_LEAD_S, RUN_LEAD_S, run_lead


def test_a_stack_never_measured_gets_the_default_lead(tmp_path: Path) -> None:
    assert run_lead(tmp_path) == RUN_LEAD_S


def test_the_lead_follows_the_last_measured_readiness_with_a_margin(tmp_path: Path) -> None:
    (tmp_path / "stack.json").write_text(json.dumps({"ready_s": 20.0}))
    assert run_lead(tmp_path) == 27.0
    (tmp_path / "stack.json").write_text(json.dumps({"ready_s": 2.0}))
    assert run_lead(tmp_path) == RUN_LEAD_S
    (tmp_path / "stack.json").write_text(json.dumps({"ready_s": 500.0}))
    assert run_lead(tmp_path) == MAX_RUN_LEAD_S
