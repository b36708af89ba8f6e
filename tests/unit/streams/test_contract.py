"""The monitor's contract findings (streams/contract.py): a `step.completed` without the result
fields its chain declares is a finding, named by agency and step; a faithful one is not, nor is
a refused step, nor a missing state (conformance judges that)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from contracts.alerts import AlertKind
from contracts.chains import load_chains
from contracts.clock import VN_TZ
from contracts.envelope import Event, new_event
from contracts.event_types import STEP_COMPLETED, STEP_REJECTED
from streams.contract import ContractCheck

AT = datetime(2024, 3, 4, 9, 0, tzinfo=VN_TZ)
DOSSIER = "3f1c8a4e-0000-4000-8000-000000000001"


def _event(type_: str, agency: str, step: str, payload: dict[str, Any]) -> Event:
    return new_event(type_, agency, AT, dossier_id=DOSSIER, chain="birth", step=step, payload=payload)


def _check() -> ContractCheck:
    return ContractCheck(load_chains())


def test_a_step_completed_with_an_empty_result_where_the_chain_declares_fields_is_a_contract_finding() -> None:
    found = _check().observe(_event(STEP_COMPLETED, "cutru", "register_residence", {"result": {}}))
    assert found is not None
    assert found.kind == AlertKind.CONTRACT
    assert found.subject == DOSSIER
    assert found.detail.startswith("cutru/register_residence: ")
    assert "personal_id" in found.detail
    assert "registered_at" in found.detail


def test_a_missing_declared_state_is_no_finding_of_the_monitor() -> None:
    """A state never sent looks like a state lost with the broker's log (the demo month's crash
    made such false findings): conformance judges it, the monitor does not."""
    result = {"personal_id": "042124000017"}
    assert _check().observe(_event(STEP_COMPLETED, "hotich", "register_birth", {"result": result})) is None


def test_a_refused_step_owes_neither_result_nor_states() -> None:
    refused = _event(STEP_REJECTED, "hotich", "register_birth", {"reason": "sai", "code": "identity_mismatch"})
    assert _check().observe(refused) is None
