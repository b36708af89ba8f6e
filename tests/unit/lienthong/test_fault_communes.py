"""A fault narrowed to communes names communes the run's province has during its period: a
misspelt one is refused before anything starts, naming the scenario and the key (it used to hit
nothing, silently)."""

from __future__ import annotations

from pathlib import Path

import pytest

from lienthong import cli, exits

SCENARIO = """
name: misspelt
faults: []
define:
  signing-tool-outdated-tung-loc:
    cites: "Digital signatures fail: communes run an old signing-tool version and cannot sign until it is upgraded."
    target: {agency: hotich, communes: ["Xã Tùng Lộc", "Xã Tùng Lôc"]}
    window: {from: 2024-01-15, working_days: 3}
    effect: {kind: stall, state: awaiting_signature}
"""


def test_a_misspelt_commune_in_a_fault_is_refused_naming_the_scenario_and_the_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LT_HOME", str(tmp_path / "home"))
    scenario = tmp_path / "misspelt.yaml"
    scenario.write_text(SCENARIO, encoding="utf-8")
    code = cli.main(["run", "--profile", "ha-tinh-faults-week", "--faults", str(scenario)])
    assert code == exits.BAD_INPUT
    err = capsys.readouterr().err
    assert f"fault scenario {scenario}" in err
    assert "signing-tool-outdated-tung-loc.target.communes: no commune 'Xã Tùng Lôc' in province 042" in err
    assert not (tmp_path / "home" / "stack.json").exists()  # nothing was started


def test_the_shipped_scenario_names_real_communes() -> None:
    from datetime import date

    from contracts import adminunits
    from simulation.faults.catalogue import FAULTS_DIR, load_scenario
    from simulation.faults.inject import unknown_communes

    known = {u.commune for u in adminunits.in_force("042", date(2024, 1, 15))}
    assert unknown_communes(load_scenario("two-communes-signing", FAULTS_DIR), known) == []
