"""Every kind of bad data is refused with a reason: at the portal's edge or by the agency that
checks identity; never silently accepted."""

from __future__ import annotations

import random
from datetime import date, datetime

import pytest

from contracts.clock import VN_TZ
from contracts.dossiers import parse_submission
from contracts.errors import ContractError
from contracts.identity import IdentityProblem
from runtime.verification import settle
from runtime.work import Rejected
from services.dancu.domain import answer
from services.hotich.domain import Refused, Registered, deceased, decide_birth, decide_death, parents
from services.lltp.domain import Certificate, Refusal, applicant, decide_certificate
from simulation.workload import profiles
from simulation.workload.baddata import spoil
from simulation.workload.citizens import CitizenFactory
from simulation.workload.plan import plan

TODAY = date(2024, 3, 4)
f = CitizenFactory("042", seed=5)
DOSSIERS = {
    "birth": f.birth_dossier(TODAY),
    "death": f.death_dossier(TODAY, procedures=3, beneficiary="pensioner"),
    "lltp": f.lltp_dossier(TODAY, paid_online=True),
}


AT = datetime(2024, 3, 4, 9, 0, tzinfo=VN_TZ)


def agency_decision(doc: dict) -> object:  # type: ignore[type-arg]
    """The agency's own checks, then the population database's answer about the people it names."""
    decision: object
    if doc["chain"] == "birth":
        decision, people = decide_birth(doc, TODAY, random.Random(1)), parents(doc)
    elif doc["chain"] == "death":
        decision = decide_death(doc, TODAY)
        people = [] if isinstance(decision, Refused) else [deceased(doc)]
    else:
        decision = decide_certificate(doc, "so_tu_phap")
        people = [] if isinstance(decision, Refusal) else [applicant(doc)]
    if isinstance(decision, Refused | Refusal):
        return decision
    return settle(answer(people, {}, AT), AT) or decision


@pytest.mark.parametrize("chain", DOSSIERS)
def test_valid_dossiers_pass_the_portal_and_the_agency(chain: str) -> None:
    parse_submission(DOSSIERS[chain], TODAY)
    assert isinstance(agency_decision(DOSSIERS[chain]), Registered | Certificate)


@pytest.mark.parametrize("chain", DOSSIERS)
@pytest.mark.parametrize("kind", ["missing_id", "malformed_id"])
def test_missing_and_malformed_ids_are_refused_at_the_portal(chain: str, kind: str) -> None:
    for seed in range(10):
        with pytest.raises(ContractError) as exc:
            parse_submission(spoil(DOSSIERS[chain], kind, random.Random(seed)), TODAY)
        assert any(p.field.endswith("personal_id") for p in exc.value.problems)


@pytest.mark.parametrize("chain", DOSSIERS)
@pytest.mark.parametrize("kind", ["identity_mismatch", "wrong_sex_or_year"])
def test_identity_faults_pass_the_portal_and_are_refused_by_the_agency_with_their_code(chain: str, kind: str) -> None:
    for seed in range(10):
        doc = spoil(DOSSIERS[chain], kind, random.Random(seed))
        parse_submission(doc, TODAY)  # well-formed: the edge cannot tell
        decision = agency_decision(doc)
        assert isinstance(decision, Rejected)
        assert decision.code == IdentityProblem(kind).value
        assert "population database" in decision.reason


def test_run_plan_spoils_at_the_profile_rates_and_repeats_duplicates_after_their_original() -> None:
    p = profiles.load("ha-tinh-2024-01")
    planned = plan(p, seed=11)
    originals = [x for x in planned if not x.copy]
    assert len(originals) == sum(p.volumes.values())
    copies = [x for x in planned if x.copy]
    assert copies
    assert all(c.original is not None and c.original.at < c.at and c.doc is c.original.doc for c in copies)
    spoiled = sum(1 for x in originals if x.bad)
    assert spoiled / len(originals) == pytest.approx(sum(p.bad_data.values()), abs=0.01)
