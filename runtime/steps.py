"""Finishing a step: run the agency's handler at the step's sim time, then route the dossier on
(the next steps of its chain, or the portal's result when the step refused it)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from contracts.chains import PORTAL_RESULT
from contracts.event_types import LINK_ERROR, STEP_COMPLETED, STEP_REJECTED, STEP_STARTED
from runtime.conn import Conn
from runtime.emitter import Emitter
from runtime.work import Absorbed, Completed, Deferred, Handler, Outcome, Rejected, StepContext, WorkItem


async def finish(
    conn: Conn, item: WorkItem, emit: Emitter, handler: Handler, ctx: StepContext, *, with_start: bool
) -> Deferred | None:
    """Run the step's handler at the emitter's sim time and route the dossier on; or, when the
    handler must wait (`Deferred`), say so: a failed call is a `link.error`, as a failed transfer."""
    rng = ctx.rng_for(item.dossier_id, item.to_step, "decide")
    outcome: Outcome = await handler(conn, item, replace(ctx, now=emit.now, rng=rng))
    if isinstance(outcome, Absorbed):
        for type_, payload in outcome.events:
            emit(type_, payload)
        return None
    if isinstance(outcome, Deferred):
        if with_start:
            raise RuntimeError(f"step {item.to_step} has no office work to wait in: {outcome.reason}")
        if outcome.failed_call:
            emit(LINK_ERROR, {"to": outcome.waits_on, "error": outcome.reason})
        return outcome
    if with_start:
        emit(STEP_STARTED, {})
    if isinstance(outcome, Completed):
        emit(STEP_COMPLETED, {"result": outcome.result})
        routes = item.next
        results = {**item.results, item.to_step: outcome.result}
        extra: dict[str, Any] = {"outcome": "completed"}
    else:
        assert isinstance(outcome, Rejected)
        emit(STEP_REJECTED, {"reason": outcome.reason, **({"code": outcome.code} if outcome.code else {})})
        routes = [PORTAL_RESULT]
        results = item.results
        extra = {
            "outcome": "rejected",
            "reason": outcome.reason,
            **({"code": outcome.code} if outcome.code else {}),
        }
    chain = ctx.chains[item.event.chain or ""]
    for route in routes:
        following = [] if route == PORTAL_RESULT else chain.next_routes(route.step, item.procedures)
        via = None if route == PORTAL_RESULT else chain.step(route.step).via
        emit.handoff(route, item.dossier, results, following, {**extra, **({"via": via} if via else {})})
    return None
