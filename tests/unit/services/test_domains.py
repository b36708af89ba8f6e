"""The agencies' pure decisions."""

from __future__ import annotations

import random
import re
from datetime import date, datetime

from contracts.calendar import WorkingCalendar
from contracts.chains import load_chains
from contracts.clock import VN_TZ
from contracts.dossiers import parse_submission
from contracts.identity import Sex, parse_personal_id
from contracts.states import PortalStatus
from runtime.population import Known, Person, Unknown
from services.bhxh.domain import BhytCard, child_bhyt_card
from services.cutru.domain import residence_problem
from services.dancu.domain import answer
from services.hotich.domain import Refused, Registered, decide_birth, parents
from services.motcua.domain import postal_item, receipt_code, s10_check_digit
from services.portal.domain import plan_submission, verdict
from simulation.workload.citizens import CitizenFactory

TODAY = date(2024, 3, 4)


def dossier() -> dict:  # type: ignore[type-arg]
    return CitizenFactory("042", seed=3).birth_dossier(TODAY)


def test_birth_registration_issues_an_id_for_the_child() -> None:
    d = dossier()
    decision = decide_birth(d, TODAY, random.Random(1))
    assert isinstance(decision, Registered)
    pid = parse_personal_id(decision.personal_id)
    assert pid.province == "042"
    assert pid.sex is Sex(d["child"]["sex"])
    assert pid.birth_year == date.fromisoformat(d["child"]["birth_date"]).year


def test_mother_id_of_a_man_is_refused_by_the_population_database() -> None:
    d = dossier()
    d["mother"]["personal_id"] = d["father"]["personal_id"]
    assert isinstance(decide_birth(d, TODAY, random.Random(1)), Registered)  # the form is fine
    at = datetime(2024, 3, 4, 9, tzinfo=VN_TZ)
    found = answer(parents(d), {}, at)
    assert isinstance(found, Unknown)
    assert (found.role, found.code) == ("mother", "wrong_sex_or_year")


def test_a_newborn_is_known_once_its_record_is_synchronised_and_not_before() -> None:
    at = datetime(2024, 3, 4, 9, tzinfo=VN_TZ)
    child = Person("child", "042224123456", "male", 2024)
    later = datetime(2024, 3, 6, 9, tzinfo=VN_TZ)
    missing = answer([child], {"042224123456": later}, at)
    assert isinstance(missing, Unknown)
    assert missing.code == "identity_mismatch"
    assert isinstance(answer([child], {"042224123456": later}, later), Known)
    # A serial the rule does not know (a multiple of 97) is known once civil status handed it over.
    newborn = Person("child", "042224000097", "male", 2024)
    assert isinstance(answer([newborn], {}, at), Unknown)
    assert isinstance(answer([newborn], {"042224000097": at}, at), Known)


def test_birth_in_the_future_is_refused() -> None:
    d = dossier()
    d["child"]["birth_date"] = "2024-04-01"
    assert isinstance(decide_birth(d, TODAY, random.Random(1)), Refused)


def test_bhyt_card_is_valid_until_the_day_before_the_sixth_birthday() -> None:
    card = child_bhyt_card("042224123456", date(2024, 2, 29), TODAY)
    assert card == BhytCard("TE142224123456"[:3] + "42" + "2224123456", date(2024, 2, 29), date(2030, 2, 27))
    assert isinstance(card, BhytCard)
    assert len(card.card_no) == 15
    assert child_bhyt_card("042218123456", date(2018, 1, 1), TODAY) == "child is 6 or older: no free BHYT card"


def test_residence_needs_the_id_from_civil_status() -> None:
    assert residence_problem(dossier(), {}) is not None
    assert residence_problem(dossier(), {"register_birth": {"personal_id": "042224000001"}}) is None


def test_receipt_code_shape() -> None:
    assert receipt_code("042", datetime(2024, 3, 4, tzinfo=VN_TZ), "ab-cd-ef12-3456") == "H42-240304-ABCDEF12"


def test_submission_plan_routes_to_one_stop_and_expects_both_results() -> None:
    sub = parse_submission(dossier(), TODAY)
    received = datetime(2024, 3, 4, 9, tzinfo=VN_TZ)  # a Monday
    plan = plan_submission(sub, load_chains()["birth"], received, "d-1", "t-1", WorkingCalendar())
    assert plan.expected_results == ["register_residence", "issue_bhyt"]
    assert plan.due_at == datetime(2024, 3, 6, 17, tzinfo=VN_TZ)  # three working days, the first counting
    assert (plan.handoff.payload["to"], plan.handoff.payload["to_step"]) == ("motcua", "intake")
    assert plan.handoff.payload["next"] == [{"agency": "hotich", "step": "register_birth"}]
    assert plan.submitted.trace_id == plan.handoff.trace_id == "t-1"


def test_verdict_waits_for_every_expected_result_and_stops_at_a_refusal() -> None:
    expected = ["register_residence", "issue_bhyt"]
    assert verdict(expected, {"issue_bhyt": {"outcome": "completed"}}).status is PortalStatus.IN_PROGRESS
    both = {"issue_bhyt": {"outcome": "completed"}, "register_residence": {"outcome": "completed"}}
    assert verdict(expected, both).status is PortalStatus.COMPLETED
    refused = verdict(expected, {"register_birth": {"outcome": "rejected", "reason": "bad id"}})
    assert (refused.status, refused.reason) == (PortalStatus.REJECTED, "bad id")


def test_a_postal_item_number_is_an_s10_code_with_its_check_digit() -> None:
    # UPU S10's worked example: serial 47312482 has check digit 9 (RA473124829GB).
    assert s10_check_digit("47312482") == 9
    item = postal_item("5b0e2c1a-0000-4000-8000-000000000001")
    assert re.fullmatch(r"RR\d{9}VN", item)
    assert int(item[10]) == s10_check_digit(item[2:10])
    assert postal_item("5b0e2c1a-0000-4000-8000-000000000001") == item
