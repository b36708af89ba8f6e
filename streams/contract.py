"""Contract findings: an agency's `step.completed` that breaks what its chain declares for the
step, read as a real system's events are read. Two breaches, both a system's bug that the
conformance check (`lienthong conformance`) also fails:
- a result without the fields the step declares (e.g. `result: {}` where `cutru` owes
  `residence_registered_at`): the next agencies and the citizen's result lack them;
- a step completed without an intermediate state the chain declares (e.g. `lltp` without
  `awaiting_issuance`): the monitor cannot time that state, so its deadline is never judged.

Pure: events in, incidents out. The states a step published are kept per dossier until it settles
or its partition goes to another worker (which rebuilds them from the stored events)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from contracts.alerts import AlertKind
from contracts.chains import Chain
from contracts.envelope import Event
from contracts.event_types import STEP_COMPLETED, STEP_STATE
from streams.signals import Incident

CONTRACT = AlertKind.CONTRACT


@dataclass
class ContractCheck:
    chains: Mapping[str, Chain]
    _states: dict[str, dict[str, set[str]]] = field(default_factory=dict)
    """Per dossier, per "agency:step", the intermediate states published so far."""

    def remember(self, e: Event) -> None:
        """Note a published intermediate state (also from events replayed at a rebuild)."""
        if e.type == STEP_STATE and e.dossier_id and e.step:
            steps = self._states.setdefault(e.dossier_id, {})
            steps.setdefault(f"{e.agency}:{e.step}", set()).add(str(e.payload.get("state")))

    def observe(self, e: Event) -> Incident | None:
        self.remember(e)
        if e.type != STEP_COMPLETED or not e.dossier_id or not e.step or e.chain not in self.chains:
            return None
        try:
            step = self.chains[str(e.chain)].step(e.step)
        except KeyError:
            return None  # a step the chain does not have fails validation before it gets here
        if step.agency != e.agency:
            return None
        seen = self._states.get(e.dossier_id, {}).get(f"{e.agency}:{e.step}", set())
        problems = [*step.result_problems(e.payload.get("result"))]
        missing = step.missing_states(seen)
        if missing:
            problems.append(f"completed without step.state {', '.join(missing)}")
        if not problems:
            return None
        return Incident(CONTRACT, e.dossier_id, e.occurred_at, f"{e.agency}/{e.step}: {'; '.join(problems[:3])}")

    def forget(self, dossier_ids: Iterable[str]) -> None:
        for d in dossier_ids:
            self._states.pop(d, None)
