"""`score --expect`: an integrator's list of deliberately mishandled dossiers scores the alerts."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from contracts.alerts import SEVERITY, AlertKind, Finding
from contracts.clock import VN_TZ
from contracts.config import ConfigError
from simulation.scoring.expect import Expectation, ExpectFile, load, score_expected

AT = datetime(2024, 3, 4, 9, 0, tzinfo=VN_TZ)


def _alert(n: int, kind: str, dossier: str | None, subject: str, open_: bool = True) -> Finding:
    k = AlertKind(kind)
    return Finding(n, k, SEVERITY[k], subject, dossier, AT, resolved_at=None if open_ else AT)


def test_expected_dossiers_are_caught_by_their_kind_and_every_other_alert_is_false() -> None:
    expected = ExpectFile(
        expect=(
            Expectation(dossier_id="D-DROP", kind="lost"),
            Expectation(dossier_id="D-STALL", kind="stuck"),
            Expectation(dossier_id="D-MISSED", kind="stuck"),
        )
    )
    alerts = [
        _alert(1, "lost", "D-DROP", "link:hotich->cutru"),
        _alert(2, "stuck", "D-DROP", "cutru/register_residence"),  # the dropped one, also seen waiting
        _alert(3, "stuck", "D-STALL", "cutru/register_residence"),
        _alert(4, "stuck", "D-OK", "cutru/register_residence", open_=False),  # a false alarm
        _alert(5, "agency", None, "agency:cutru"),  # no heartbeats: a false alarm too
    ]
    result = score_expected(expected, alerts, unfinished=["D-DROP", "D-STALL", "D-MISSED"])
    assert result["recall"]["lost"] == 1.0
    assert result["recall"]["stuck"] == 0.5
    assert result["recall"]["link"] is None
    assert result["precision"] == 0.6
    assert result["false_alerts"]["stuck"] == 1
    assert result["false_alerts"]["agency"] == 1
    assert result["missed"] == [{"kind": "stuck", "dossier_id": "D-MISSED"}]
    assert result["silent_losses"] == 1  # D-MISSED: unfinished, no open alert on it


def test_a_bad_expect_file_is_refused_naming_the_file_and_the_key(tmp_path: Path) -> None:
    bad = tmp_path / "expect.yaml"
    bad.write_text("expect:\n  - {dossier_id: D-1, kind: vanished}\n  - {dossier_id: D-2, kind: lost, why: x}\n")
    with pytest.raises(ConfigError) as refused:
        load(bad)
    message = str(refused.value)
    assert str(bad) in message
    assert "expect.0.kind" in message
    assert "'lost'" in message
    assert "expect.1.why" in message


def test_json_is_read_as_well(tmp_path: Path) -> None:
    good = tmp_path / "expect.json"
    good.write_text('{"expect": [{"dossier_id": "D-1", "kind": "duplicate"}]}')
    assert load(good).expect == (Expectation(dossier_id="D-1", kind="duplicate"),)
