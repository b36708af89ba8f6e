"""Chains as data: routing, parallel and sequential variants, procedures, bad files."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from contracts.chains import PORTAL_RESULT, Route, load_chains, parse_chains, posting_steps
from contracts.dossiers import parse_submission
from contracts.states import DossierState
from simulation.workload.citizens import CitizenFactory

ROOT = Path(__file__).resolve().parents[3]


def test_birth_splits_to_residence_and_bhxh_in_parallel_after_civil_status() -> None:
    birth = load_chains()["birth"]
    assert birth.first.agency == "motcua"
    assert birth.next_routes("intake") == [Route("hotich", "register_birth")]
    assert birth.next_routes("register_birth") == [Route("cutru", "register_residence"), Route("bhxh", "issue_bhyt")]
    assert birth.next_routes("issue_bhyt") == [PORTAL_RESULT]
    assert birth.terminal_steps() == ["register_residence", "issue_bhyt"]


def test_sequential_variant_is_configuration_only() -> None:
    text = (ROOT / "scenarios" / "chains" / "birth-sequential.yaml").read_text(encoding="utf-8")
    chains = load_chains(text)
    birth = chains["birth"]
    assert birth.next_routes("register_birth") == [Route("cutru", "register_residence")]
    assert birth.next_routes("register_residence") == [Route("bhxh", "issue_bhyt")]
    assert birth.terminal_steps() == ["issue_bhyt"]
    assert chains["death"] == load_chains()["death"]


@pytest.mark.parametrize(
    ("procedures", "terminal"),
    [
        (["death_registration", "residence_removal"], ["remove_residence"]),
        (["death_registration", "residence_removal", "burial_allowance"], ["remove_residence", "burial_allowance"]),
        (
            ["death_registration", "residence_removal", "burial_allowance", "survivor_benefit"],
            ["remove_residence", "burial_allowance", "survivor_benefit"],
        ),
    ],
)
def test_death_chain_runs_only_the_chosen_procedures(procedures: list[str], terminal: list[str]) -> None:
    assert load_chains()["death"].terminal_steps(procedures) == terminal


def test_lltp_deadline_is_ten_days_or_fifteen_with_verification() -> None:
    step = load_chains()["lltp"].step("issue_certificate")
    assert (step.sla(), step.sla(needs_verification=True)) == (10, 15)


def test_a_certificate_returned_by_post_goes_through_the_postal_step_after_it_is_issued() -> None:
    lltp = load_chains()["lltp"]
    sub = parse_submission(CitizenFactory("008", 3).lltp_dossier(date(2024, 1, 8), "online", True), date(2024, 1, 8))
    assert sub.procedures == ("return_by_post",)
    assert lltp.next_routes("issue_certificate", sub.procedures) == [Route("motcua", "return_by_post")]
    assert lltp.terminal_steps(sub.procedures) == ["return_by_post"]
    # Resolved when issued: the appointment date is the certificate's ten days, post or not.
    assert posting_steps(load_chains()) == ["issue_certificate"]
    assert lltp.group_sla() == 10
    # Collected at the desk: no postal step.
    assert lltp.terminal_steps(()) == ["issue_certificate"]
    postal = lltp.step("return_by_post")
    assert postal.states == ("in_transit",)
    assert DossierState(postal.states[0]).label_vi == "Đang chuyển phát"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("chains: {fish: {steps: []}}", "unknown chain"),
        ("chains: {birth: {steps: [{name: a, agency: nasa, label_vi: x, sla_working_days: 1}]}}", "unknown agency"),
        (
            "chains: {birth: {steps: [{name: a, agency: hotich, label_vi: x, sla_working_days: 1, after: z}]}}",
            "unknown step",
        ),
        (
            "chains: {birth: {steps: [{name: a, agency: hotich, label_vi: x, sla_working_days: 1},"
            " {name: b, agency: cutru, label_vi: y, sla_working_days: 1}]}}",
            "exactly one",
        ),
        ("nothing: here", "top-level"),
        (
            "chains: {lltp: {steps: [{name: a, agency: lltp, label_vi: x, sla_working_days: 1,"
            " states: [in_transit], state_share: 1.0}]}}",
            "state_share",
        ),
    ],
)
def test_bad_chain_files_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_chains(text)
