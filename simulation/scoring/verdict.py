"""A run judged as `lienthong chaos` judges it: the monitor's findings scored against the ground
truth, every open lost alert redriven (sim time runs while the redriven dossiers need it), then
the cross-check of every database."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypedDict

from ops import redrive, runclock
from runtime.settings import Settings
from simulation.scoring import score
from simulation.scoring.verify import verify


class Verdict(TypedDict):
    """A chaos run judged: against the ground truth, after a redrive, by the cross-check."""

    silent_losses: int
    false_alerts: int
    unexplained: list[str]
    """Each alert no recorded fact explains: kind, subject and when it opened, so a failing run
    names what it raised."""
    alerts: int
    explained_by: dict[str, int]
    redriven: int
    unfinished: int
    violations: int


async def judge_run(settings: Settings, step: Callable[[str], None], wait_s: float) -> Verdict:
    """Score what the monitor raised against the ground truth, redrive every open lost alert
    (sim time runs while the redriven dossiers need it), then verify."""
    _, url = settings.require_infra()
    truth, alerts, unfinished = await score.collect(url)
    ctx = score.context_of(settings)
    scored = score.score(truth, alerts, unfinished, ctx)
    step(
        f"scored: {scored['alerts']} findings, precision {scored['precision']}, silent losses {scored['silent_losses']}"
    )
    for a in scored["unexplained_alerts"]:
        step(f"unexplained: {a['kind']} {a['subject']}, opened {a['opened_at']}")

    def round_done(out: redrive.Outcome) -> None:
        step(f"redrive: {out.alerts} open lost alerts, {out.queued} messages queued again")

    async with runclock.running(settings.clock(), settings.sim_clock_file):
        out, still = await redrive.redrive_all_until_finished(redrive.Asker.of(settings), url, wait_s, round_done)
    checked = await verify(url)
    step(f"verify: {checked['violations']} violations; {still} dossiers still in progress")
    return {
        "silent_losses": scored["silent_losses"],
        "false_alerts": sum(scored["false_alerts"].values()),
        "unexplained": [f"{a['kind']} {a['subject']} {a['opened_at']}" for a in scored["unexplained_alerts"]],
        "alerts": scored["alerts"],
        "explained_by": {k: v for k, v in scored["explained_by"].items() if v},
        "redriven": out.queued,
        "unfinished": still,
        "violations": checked["violations"],
    }
