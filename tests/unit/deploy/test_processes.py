"""`--replicas`: which processes may run several replicas, how they are named, and bad lines
refused with the reason before anything starts."""

from __future__ import annotations

import pytest

from contracts.topics import AGENCIES
from deploy.processes import parse_replicas, process_of, replica_names


def test_replicas_of_named_processes_and_all() -> None:
    assert parse_replicas("hotich=2, monitor=3") == {"hotich": 2, "monitor": 3}
    assert parse_replicas("all=2") == {**dict.fromkeys(AGENCIES, 2), "monitor": 2}
    assert parse_replicas(None) == {}


def test_a_replica_is_named_after_its_process() -> None:
    assert replica_names("hotich", 3) == ["hotich", "hotich-2", "hotich-3"]
    assert process_of("hotich-2") == "hotich"
    assert process_of("monitor") == "monitor"
    assert process_of("police-2") == "police-2"


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("police=2", "names 'police', which cannot have replicas"),
        ("dashboard=2", "names 'dashboard', which cannot have replicas"),
        ("hotich=0", "a count from 1 to 8"),
        ("hotich=9", "a count from 1 to 8"),
        ("hotich", "expected NAME=COUNT pairs"),
        ("hotich=two", "expected NAME=COUNT pairs"),
    ],
)
def test_a_bad_replicas_line_is_refused_with_the_reason(line: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_replicas(line)
