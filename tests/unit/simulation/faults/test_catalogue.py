"""The fault catalogue covers every failure docs/domain.md describes, each with its citation; broken
entries say what is wrong; scenarios compose faults."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from contracts.config import ConfigError
from simulation.faults.catalogue import EFFECTS, FAULTS_DIR, load_catalogue, load_scenario, parse_catalogue

REQUIRED = {
    # issue 4's list of failures → the catalogue entry modelling it
    "portal outage day": "portal-outage-day",
    "integration-bus transfer failure with retries": "ngsp-transfer-failure",
    "online payment failure": "online-payment-failure",
    "civil-status slowness": "civil-status-slow",
    "civil-status errors": "civil-status-errors",
    "residence never receiving a dossier": "residence-never-receives",
    "residence receiving it 1–2 days late": "residence-late",
    "link overload (disk full)": "link-overload",
    "portal → one-stop not forwarded": "portal-not-forwarded",
    "one-stop → civil status not forwarded": "onestop-not-forwarded",
    "completed upstream, not found downstream": "completed-not-found-downstream",
    "result never synced back": "result-not-synced",
    "signature failure until upgraded": "signing-tool-outdated",
    "left awaiting issuance for days": "awaiting-issuance-days",
    "duplicate delivery": "duplicate-delivery",
    "out-of-order delivery": "out-of-order-delivery",
    "broker kill -9 and restart": "broker-kill",
    "service kill and restart": "service-kill",
    "PostgreSQL connections dropped": "postgres-connections-dropped",
    # issue 36: the population database's own faults, and the marriage liaison's
    "population database unreachable for hours": "population-db-unreachable",
    "population database slow": "population-db-slow",
    "civil-status records not synchronised with it": "population-db-unsynced",
    "marital status not confirmable online": "marital-status-confirmation-offline",
}


def test_the_catalogue_has_every_failure_of_the_reports_with_a_citation() -> None:
    catalogue = load_catalogue()
    missing = {what: name for what, name in REQUIRED.items() if name not in catalogue}
    assert missing == {}
    assert all(f.cites for f in catalogue.values())
    assert {f.effect for f in catalogue.values()} <= set(EFFECTS)
    assert catalogue["residence-late"].link == ("hotich", "cutru")
    assert catalogue["residence-late"].params == {"delay_days": [1, 2]}


CLUSTER_ONLY = {"replica-kill", "monitor-replica-kill"}
"""The cluster's own failures: not the reports', so only in scenario cluster-faults."""


UNRECOVERABLE = {"postal-item-lost"}
"""No redrive brings a lost postal item back: a run with it cannot finish every dossier."""


def test_report_faults_contains_every_fault_of_the_reports_and_none_contains_none() -> None:
    assert {f.name for f in load_scenario("report-faults")} == set(load_catalogue()) - CLUSTER_ONLY - UNRECOVERABLE
    assert load_scenario("none") == []
    available = "available: cluster-faults, marriage-offline-confirmation, none, report-faults"
    with pytest.raises(ValueError, match=available):
        load_scenario("chaos-monkey")


def test_cluster_faults_kill_a_node_a_replica_and_a_monitor_worker() -> None:
    faults = {f.name: f for f in load_scenario("cluster-faults")}
    assert CLUSTER_ONLY | {"broker-kill"} <= set(faults)
    assert faults["replica-kill"].target == {"process": "hotich-2"}
    assert faults["monitor-replica-kill"].target == {"process": "monitor-2"}


def good() -> dict[str, Any]:
    return {
        "cites": "x",
        "target": {"agency": "hotich"},
        "rate": 0.1,
        "effect": {"kind": "slow", "extra_hours": [1, 2]},
    }


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ({"cites": ""}, r"faults\.f\.cites: String should have at least 1 character"),
        ({"target": {"agency": "police"}}, "unknown agency"),
        ({"target": {"link": "hotich-cutru"}}, "from->to"),
        ({"effect": {"kind": "meteor"}}, "unknown kind"),
        ({"effect": {"kind": "slow", "extra_days": [1, 2]}}, "unknown parameters"),
        ({"window": {"at": 0.5}}, "rate or a window"),
        ({"rate": 2}, r"faults\.f\.rate: Input should be less than or equal to 1"),
        ({"rat": 0.1}, r"faults\.f\.rat: Extra inputs are not permitted"),
        ({"window": {"at": 1.5}, "rate": None}, r"faults\.f\.window\.at: Input should be less than or equal to 1"),
        ({"target": {"process": "broker"}}, "does not apply"),
        ({"target": {"process": "police-2"}, "effect": {"kind": "kill"}}, "unknown process 'police-2'"),
        ({"target": {"process": "hotich-1"}, "effect": {"kind": "kill"}}, "unknown process 'hotich-1'"),
    ],
)
def test_broken_faults_say_what_is_wrong(patch: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=r"^fault catalogue: (faults\.f: )?.*" + message):
        parse_catalogue({"faults": {"f": {**good(), **patch}}})


@pytest.mark.parametrize(
    ("scenario", "message"),
    [
        # Used to die with "TypeError: unhashable type: 'dict'".
        (
            "faults:\n  - {name: slow, effect: {kind: slow}}\n",
            r"faults: Value error, a list of fault names from the catalogue, or `all`; "
            r"a scenario's own faults go under `define`",
        ),
        ("faults: all\nexcept: [meteor]\n", r"except: unknown faults \['meteor'\]"),
        ("faults: [meteor]\n", r"faults: unknown faults \['meteor'\]"),
        ("faults: []\nexcpt: [x]\n", r"excpt: Extra inputs are not permitted"),
        ("faults: [service-kill]\nexcept: [service-kill]\n", r"except: only with `faults: all`"),
    ],
)
def test_a_broken_scenario_is_refused_naming_the_file_and_the_key(tmp_path: Path, scenario: str, message: str) -> None:
    refused_naming_the_file(tmp_path, scenario, message)


def refused_naming_the_file(tmp_path: Path, scenario: str, message: str) -> None:
    """Scenario `mine` beside a copy of the catalogue is refused with `message`, after its path."""
    directory = tmp_path / "faults"
    (directory / "scenarios").mkdir(parents=True)
    shutil.copy(FAULTS_DIR / "catalogue.yaml", directory / "catalogue.yaml")
    path = directory / "scenarios" / "mine.yaml"
    path.write_text(scenario, encoding="utf-8")
    with pytest.raises(ConfigError, match=rf"^{path}: " + message):
        load_scenario("mine", directory)
