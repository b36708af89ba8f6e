"""Contract findings: an agency's `step.completed` whose `result` lacks the fields its chain
declares for the step (e.g. `result: {}` where `cutru` owes `personal_id` and `registered_at`):
the next agencies and the citizen's result lack them. A system's bug, which the conformance check
(`lienthong conformance`, rule "results") fails too.

Why not a missing declared `step.state` as well: the monitor cannot tell a state never sent from
a state lost with the broker's log, so a broker crash would make false findings of it;
conformance judges it (rule "sequence"), reading a fresh topic from offset 0.
Pure: events in, incidents out."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from contracts.alerts import AlertKind
from contracts.chains import Chain
from contracts.envelope import Event
from contracts.event_types import STEP_COMPLETED
from streams.signals import Incident

CONTRACT = AlertKind.CONTRACT


@dataclass(frozen=True)
class ContractCheck:
    chains: Mapping[str, Chain]

    def observe(self, e: Event) -> Incident | None:
        if e.type != STEP_COMPLETED or not e.dossier_id or not e.step or e.chain not in self.chains:
            return None
        try:
            step = self.chains[str(e.chain)].step(e.step)
        except KeyError:
            return None  # a step the chain does not have fails validation before it gets here
        if step.agency != e.agency:
            return None
        problems = step.result_problems(e.payload.get("result"))
        if not problems:
            return None
        return Incident(CONTRACT, e.dossier_id, e.occurred_at, f"{e.agency}/{e.step}: {'; '.join(problems[:3])}")
