"""Portal submissions: what is accepted, and every refusal naming its field."""

from __future__ import annotations

import copy
from datetime import date
from typing import Any

import pytest

from contracts.dossiers import DEATH_PROCEDURES, parse_submission
from contracts.errors import ContractError
from simulation.workload.citizens import CitizenFactory

TODAY = date(2024, 3, 4)


def birth() -> dict[str, Any]:
    return CitizenFactory("042", seed=7).birth_dossier(TODAY)


def problems(body: Any) -> dict[str, str]:
    with pytest.raises(ContractError) as err:
        parse_submission(body, TODAY)
    return {p.field: p.reason for p in err.value.problems}


def test_generated_birth_dossier_is_accepted() -> None:
    sub = parse_submission(birth(), TODAY)
    assert sub.chain == "birth"
    assert sub.area["province"] == "042"
    assert not sub.fee_bearing


def test_a_dossier_may_come_through_vneid_and_no_other_unknown_channel() -> None:
    body = {**birth(), "channel": "vneid"}
    assert parse_submission(body, TODAY).channel == "vneid"
    assert "channel" in problems({**birth(), "channel": "zalo"})


def test_missing_fields_are_all_listed() -> None:
    body = birth()
    del body["child"]["sex"], body["mother"]
    found = problems(body)
    assert {"child.sex", "mother.full_name", "mother.personal_id"} <= set(found)


def test_future_birth_date_is_refused() -> None:
    body = birth()
    body["child"]["birth_date"] = "2024-03-05"
    assert problems(body) == {"child.birth_date": "must not be in the future"}


def test_invalid_id_number_is_refused() -> None:
    body = birth()
    body["mother"]["personal_id"] = "12345"
    assert "12 digits" in problems(body)["mother.personal_id"]


def test_non_nfc_name_is_refused() -> None:
    body = birth()
    body["child"]["full_name"] = "Nguye\u0302\u0303n An"  # decomposed diacritics
    assert "NFC" in problems(body)["child.full_name"]


@pytest.mark.parametrize("body", [None, [], "birth", {"chain": "wedding"}])
def test_not_a_dossier(body: Any) -> None:
    assert problems(body)


def test_death_needs_registration_and_removal_and_a_payer_for_burial() -> None:
    factory = CitizenFactory("042", seed=1)
    person = factory.person(__import__("contracts.identity", fromlist=["Sex"]).Sex.MALE, (1940, 1950))
    body = {
        "chain": "death",
        "channel": "online",
        "area": factory.area(TODAY),
        "applicant": {"full_name": "Trần Thị Hoa", "personal_id": "042185000001"},
        "deceased": {
            "full_name": person.full_name,
            "personal_id": person.personal_id,
            "sex": "male",
            "birth_year": person.birth_date.year,
            "death_date": "2024-03-01",
            "cause": "bệnh",
            "place": "tại nhà",
        },
        "procedures": ["death_registration", "residence_removal", "burial_allowance"],
    }
    assert problems(copy.deepcopy(body)) == {
        "payer": "is required when burial_allowance is chosen (or give beneficiary_type)"
    }
    body["payer"] = "bhxh"
    assert parse_submission(body, TODAY).procedures == ("death_registration", "residence_removal", "burial_allowance")
    # The payer follows from the beneficiary type: social protection pays burial support.
    del body["payer"]
    body["beneficiary_type"] = "merit"
    assert parse_submission(body, TODAY).procedures == ("death_registration", "residence_removal", "burial_support")
    body["beneficiary_type"] = "pensioner"
    body["procedures"] = [*DEATH_PROCEDURES]
    assert parse_submission(body, TODAY).procedures == (
        "death_registration",
        "residence_removal",
        "burial_allowance",
        "survivor_benefit",
    )
    body["procedures"] = ["burial_allowance"]
    assert "procedures" in problems(body)


@pytest.mark.parametrize("chain", [{}, [], 3, None])
def test_a_chain_that_is_not_a_string_is_refused_not_a_crash(chain: object) -> None:
    """Found by fuzzing the portal: `{"chain": {}}` raised TypeError (unhashable) and answered 500."""
    with pytest.raises(ContractError) as refused:
        parse_submission({"chain": chain}, TODAY)
    assert refused.value.problems[0].field == "chain"


def test_a_standalone_registration_is_the_civil_status_step_alone() -> None:
    from contracts.chains import PORTAL_RESULT, load_chains
    from contracts.dossiers import STANDALONE_PROCEDURE

    chains = load_chains()
    sub = parse_submission({**birth(), "linked": False}, TODAY)
    assert sub.procedures == (STANDALONE_PROCEDURE,)
    assert chains["birth"].next_routes("register_birth", sub.procedures) == [PORTAL_RESULT]
    assert chains["birth"].terminal_steps(sub.procedures) == ["register_birth"]
    # Linked (the default, or said so): residence and health insurance follow.
    assert chains["birth"].terminal_steps(parse_submission({**birth(), "linked": True}, TODAY).procedures) == [
        "register_residence",
        "issue_bhyt",
    ]
    death = CitizenFactory("042", seed=3).death_dossier(TODAY, procedures=3, beneficiary="pensioner")
    assert problems({**death, "linked": False}) == {
        "procedures": "a standalone registration (linked: false) is death_registration alone"
    }
    sub = parse_submission({**death, "linked": False, "procedures": ["death_registration"]}, TODAY)
    assert chains["death"].terminal_steps(sub.procedures) == ["register_death"]
    assert problems({**birth(), "linked": "no"}) == {"linked": "must be true or false"}


def test_a_fee_paid_online_says_which_portal_it_was_paid_on() -> None:
    lltp = CitizenFactory("042", seed=4).lltp_dossier(TODAY, "online", paid_online=True, paid_on="provincial")
    assert parse_submission(lltp, TODAY).paid_on == "provincial"
    assert parse_submission({**lltp, "fee": {"bearing": True, "paid_online": True}}, TODAY).paid_on == "national"
    assert problems({**lltp, "fee": {"bearing": True, "paid_online": True, "paid_on": "bank"}}) == {
        "fee.paid_on": "must be one of national, provincial"
    }


def test_an_exemption_reason_is_one_of_the_rules_cases_and_only_for_a_dossier_without_fee() -> None:
    factory = CitizenFactory("042", seed=9)
    free = factory.lltp_dossier(TODAY, fee_bearing=False, exempt_reason="merit")
    assert parse_submission(free, TODAY).exempt_reason == "merit"
    paying = factory.lltp_dossier(TODAY)
    paying["fee"]["exempt_reason"] = "merit"
    assert problems(paying) == {"fee.exempt_reason": "only for a dossier that bears no fee (fee.bearing: false)"}
    free["fee"]["exempt_reason"] = "lottery_winner"
    assert "fee.exempt_reason" in problems(free)
    assert parse_submission(factory.lltp_dossier(TODAY, fee_bearing=False), TODAY).exempt_reason is None


def test_a_marriage_names_the_partner_and_where_the_partner_lives() -> None:
    doc = CitizenFactory("042", seed=9).marriage_dossier(TODAY, partner_lives="commune")
    sub = parse_submission(doc, TODAY)
    assert (sub.chain, sub.fee_bearing) == ("marriage", False)
    assert doc["partner"]["residence"]["commune"] != doc["area"]["commune"]
    del doc["partner"]["residence"]
    assert set(problems(doc)) == {"partner.residence.province", "partner.residence.commune"}
