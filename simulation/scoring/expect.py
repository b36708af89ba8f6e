"""`lienthong score --expect FILE`: the monitor's alerts against an integrator's own list of the
dossiers their system mishandled on purpose, for runs with no recorded ground truth (an external
agency that drops or stalls dossiers deliberately).

The file (YAML or JSON) lists each dossier and the kind of alert it should raise:

    expect:
      - {dossier_id: "H42-...", kind: lost}
      - {dossier_id: "H42-...", kind: stuck}

An expected dossier is caught when an alert of its kind names it. An alert is explained when it
names an expected dossier (a dropped dossier may also be reported stuck where it waited); every
other alert, and every alert without a dossier, is a false alarm. Pure apart from reading the file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from contracts.alerts import Finding
from contracts.config import Strict, read_yaml, validated
from simulation.scoring.score import KINDS, tally


class Expectation(Strict):
    dossier_id: str
    kind: Literal["lost", "stuck", "duplicate", "data_quality"]


class ExpectFile(Strict):
    expect: tuple[Expectation, ...]


def load(path: Path) -> ExpectFile:
    """The expectations in `path`; ConfigError names the file and any bad key."""
    return validated(ExpectFile, read_yaml(path), path)


def score_expected(expected: ExpectFile, alerts: list[Finding], unfinished: list[str]) -> dict[str, Any]:
    """Recall per kind, precision, false alarms, missed dossiers and silent losses."""
    raised = {(a.kind, a.dossier_id) for a in alerts if a.dossier_id}
    caught: dict[str, list[bool]] = {k: [] for k in KINDS}
    missed: list[dict[str, str]] = []
    for e in expected.expect:
        ok = (e.kind, e.dossier_id) in raised
        caught[e.kind].append(ok)
        if not ok:
            missed.append({"kind": e.kind, "dossier_id": e.dossier_id})
    named = {e.dossier_id for e in expected.expect}
    unexplained = [a for a in alerts if a.dossier_id not in named]
    return {**tally(caught, alerts, unexplained, unfinished), "missed": missed[:20]}
