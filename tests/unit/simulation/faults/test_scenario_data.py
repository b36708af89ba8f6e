"""Fault mixes as data: a scenario defines its own faults and overrides a catalogue fault's rate,
window or target; targets narrow to communes or a share of them; windows open on a date and last
working days on the Vietnamese calendar. Broken entries are refused naming the file and the key."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from contracts.clock import VN_TZ
from simulation.faults.catalogue import Fault, Window, load_catalogue, load_scenario
from simulation.faults.inject import Injector, Period, in_communes
from tests.unit.simulation.faults.test_catalogue import refused_naming_the_file

JAN = Period(datetime(2024, 1, 1, tzinfo=VN_TZ), 31)
TUNG_LOC, NGHEN, ELSEWHERE = "Xã Tùng Lộc", "Thị trấn Nghèn", "Phường Bắc Hà"


def at(day: int, month: int = 1, hour: int = 9) -> datetime:
    return datetime(2024, month, day, hour, tzinfo=VN_TZ)


def test_two_communes_for_three_working_days_runs_as_data() -> None:
    faults = {f.name: f for f in load_scenario("two-communes-signing")}
    assert set(faults) == {"civil-status-slow", "signing-tool-outdated-can-loc"}
    assert faults["civil-status-slow"].rate == 0.1  # overridden; the catalogue says 0.05
    assert load_catalogue()["civil-status-slow"].rate == 0.05  # and the catalogue is untouched
    signing = faults["signing-tool-outdated-can-loc"]
    assert signing.communes == {TUNG_LOC, NGHEN}
    # Monday 15 to Wednesday 17 January 2024, whole days.
    assert JAN.window(signing) == (at(15, hour=0), at(18, hour=0))

    injector = Injector((signing,), JAN)
    held = injector.step("hotich", ("awaiting_signature",), "D-1/hotich/register_birth", at(16), TUNG_LOC)
    assert held is not None
    assert held.hold is not None
    assert (held.hold.opens, held.hold.until) == (at(15, hour=0), at(18, hour=0))
    assert injector.step("hotich", ("awaiting_signature",), "D-2/hotich/register_birth", at(16), ELSEWHERE) is None
    assert injector.step("cutru", ("awaiting_signature",), "D-1/cutru/register_residence", at(16), TUNG_LOC) is None


def test_working_days_skip_tet_and_weekends() -> None:
    # Wednesday 7 February 2024, then Tết (8–14 February): the 2nd and 3rd working days are 15 and 16.
    f = Fault("w", "cited", {"agency": "hotich"}, "slow", window=Window(start=date(2024, 2, 7), working_days=3))
    assert JAN.window(f) == (at(7, 2, 0), at(17, 2, 0))
    # Opening on a Saturday: the count starts on Monday.
    f = Fault("s", "cited", {"agency": "hotich"}, "slow", window=Window(start=date(2024, 1, 6), working_days=1))
    assert JAN.window(f) == (at(6, hour=0), at(9, hour=0))
    # An explicit last day is included; a share of the period still works.
    f = Fault("t", "cited", {"agency": "hotich"}, "slow", window=Window(start=date(2024, 1, 10), to=date(2024, 1, 11)))
    assert JAN.window(f) == (at(10, hour=0), at(12, hour=0))
    f = Fault("a", "cited", {"agency": "hotich"}, "slow", window=Window(at=0.5, days=1.5))
    assert JAN.window(f) == (JAN.start + timedelta(days=15.5), JAN.start + timedelta(days=17))


def test_a_window_slow_fault_slows_only_the_steps_received_inside_it_in_its_communes() -> None:
    f = Fault(
        "slow-days",
        "cited",
        {"agency": "hotich"},
        "slow",
        {"extra_hours": (4, 4)},
        window=Window(start=date(2024, 1, 15), working_days=2),
        communes=frozenset({NGHEN}),
    )
    injector = Injector((f,), JAN)
    inside = injector.step("hotich", (), "D-1/hotich/register_birth", at(16), NGHEN)
    assert inside is not None
    assert inside.extra_hours == 4
    assert injector.step("hotich", (), "D-1/hotich/register_birth", at(17), NGHEN) is None
    assert injector.step("hotich", (), "D-1/hotich/register_birth", at(16), TUNG_LOC) is None


def test_a_share_of_communes_is_the_same_communes_in_every_process_and_about_that_share() -> None:
    f = Fault("share", "cited", {"link": "hotich->cutru"}, "drop", rate=1.0, commune_share=0.3)
    communes = [f"Xã {i}" for i in range(1000)]
    chosen = [c for c in communes if in_communes(f, c)]
    assert chosen == [c for c in communes if in_communes(f, c)]
    assert 250 <= len(chosen) <= 350
    assert not in_communes(f, None)  # a dossier without an area is outside a narrowed fault
    injector = Injector((f,), JAN)
    assert injector.handoff("hotich", "cutru", "D-1/hotich->cutru", at(3), chosen[0]) is not None
    left_out = next(c for c in communes if c not in chosen)
    assert injector.handoff("hotich", "cutru", "D-1/hotich->cutru", at(3), left_out) is None


@pytest.mark.parametrize(
    ("scenario", "message"),
    [
        (
            "define:\n  x: {cites: c, target: {agency: hotich, village: A}, rate: 0.1, effect: {kind: slow}}\n",
            r"define\.x\.target\.village: Extra inputs are not permitted",
        ),
        (
            "define:\n  x: {cites: c, target: {agency: portal, communes: [A]}, window: {at: 0.1, days: 1},"
            " effect: {kind: outage}}\n",
            r"define\.x: target: communes and channels narrow the dossiers a fault hits; outage on a agency has none",
        ),
        (
            "define:\n  x: {cites: c, target: {agency: hotich}, window: {from: 2024-01-15, days: 1, working_days: 2},"
            " effect: {kind: slow}}\n",
            r"define\.x\.window: Value error, a window lasts `days`, `working_days` or until `to`",
        ),
        (
            "define:\n  x: {cites: c, target: {agency: hotich}, window: {at: 0.1, to: 2024-01-15},"
            " effect: {kind: slow}}\n",
            r"define\.x\.window: Value error, `to` needs `from`",
        ),
        (
            "define:\n  civil-status-slow: {cites: c, target: {agency: hotich}, rate: 0.1, effect: {kind: slow}}\n",
            r"define: \['civil-status-slow'\] already name catalogue faults; use override",
        ),
        ("faults: [civil-status-slow]\noverride:\n  residence-late: {rate: 0.5}\n", r"override: \['residence-late'\]"),
        ("faults: [civil-status-slow]\noverride:\n  civil-status-slow: {rat: 0.5}\n", r"civil-status-slow\.rat: Extra"),
    ],
)
def test_a_broken_scenario_fault_is_refused_naming_the_file_and_the_key(
    tmp_path: Path, scenario: str, message: str
) -> None:
    refused_naming_the_file(tmp_path, scenario, "(override: )?.*" + message)


def test_an_override_window_replaces_the_rate_and_a_scenario_file_may_live_anywhere(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text(
        "faults: [residence-late]\noverride:\n  residence-late: {window: {from: 2024-01-08, working_days: 5},"
        " target: {link: hotich->cutru, communes: [Xã Tùng Lộc]}}\n",
        encoding="utf-8",
    )
    (late,) = load_scenario(str(path))
    assert late.rate is None
    assert late.window == Window(start=date(2024, 1, 8), working_days=5)
    assert late.communes == {TUNG_LOC}
    assert late.params == {"delay_days": [1, 2]}


def test_a_fault_narrowed_to_a_channel_hits_only_the_dossiers_that_came_through_it() -> None:
    f = Fault(
        "vneid",
        "cited",
        {"agency": "motcua"},
        "slow",
        {"extra_hours": (12, 30)},
        rate=1.0,
        channels=frozenset({"vneid"}),
    )
    injector = Injector((f,), Period(datetime(2024, 1, 8, tzinfo=VN_TZ), 7.0), 1.0, "test")
    at = datetime(2024, 1, 9, 9, tzinfo=VN_TZ)
    assert injector.step("motcua", (), "d1/motcua/intake", at, None, "vneid") is not None
    assert injector.step("motcua", (), "d2/motcua/intake", at, None, "online") is None
    assert injector.step("motcua", (), "d3/motcua/intake", at, None, None) is None


def test_an_unknown_channel_is_refused_naming_the_file_and_the_key(tmp_path: Path) -> None:
    refused_naming_the_file(
        tmp_path,
        "faults: []\ndefine:\n  x: {cites: c, target: {agency: motcua, channels: [zalo]}, rate: 0.1,"
        " effect: {kind: slow, extra_hours: [1, 2]}}\n",
        r"define\.x\.target\.channels: .*unknown channels \['zalo'\]",
    )


def test_a_fault_narrowed_to_a_step_leaves_the_agencys_other_steps_alone(tmp_path: Path) -> None:
    f = Fault(
        "desk", "cited", {"agency": "motcua"}, "slow", {"extra_hours": (1, 2)}, rate=1.0, steps=frozenset({"intake"})
    )
    injector = Injector((f,), Period(datetime(2024, 1, 8, tzinfo=VN_TZ), 7.0), 1.0, "test")
    at = datetime(2024, 1, 9, 9, tzinfo=VN_TZ)
    assert injector.step("motcua", (), "d1/motcua/intake", at, step="intake") is not None
    assert injector.step("motcua", ("in_transit",), "d1/motcua/return_by_post", at, step="return_by_post") is None
    refused_naming_the_file(
        tmp_path,
        "faults: []\ndefine:\n  x: {cites: c, target: {agency: motcua, steps: [issue_certificate]}, rate: 0.1,"
        " effect: {kind: slow, extra_hours: [1, 2]}}\n",
        r"define\.x: target: steps narrow an agency's office work to its own steps \(intake, return_by_post\)",
    )
