"""A chaos plan as data (scenarios/chaos/*.yaml): which processes `lienthong chaos` kills with
`kill -9` or freezes (SIGSTOP for some real seconds, then SIGCONT) and whose PostgreSQL
connections it cuts, spread evenly over a share of a fault-free run. The plan becomes an
ordinary fault scenario of process faults (`scenario_doc`), so the run injects, records and
scores it exactly as it does any other scenario's kills (simulation/chaos.py).

`kill: every` means each supervised process and each of its replicas (every agency, the monitor
and the dashboard, as the plan's `replicas` start them); `drop_connections: every` each agency.
An unknown key or a bad value is refused naming the file and the key."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydantic import Field, field_validator, model_validator

import scenarios
from contracts.config import ConfigError, Strict, read_yaml, validated
from contracts.topics import AGENCIES
from deploy.processes import PROCESSES, parse_replicas, replica_names
from simulation.faults.catalogue import known_process

CHAOS_DIR = scenarios.DIR / "chaos"
EVERY = "every"
CITES = "the system is often erroring or unreachable at times of day; lost connections"
"""The reports' lines every chaos strike models (docs/domain.md)."""


class ActionFile(Strict):
    """One line of the plan: a kill, a freeze or a cut of connections."""

    kill: str | None = None
    """A process (`hotich`, `monitor`, `dashboard`), a replica (`hotich-2`), `broker` (on Kafka:
    one node, the leader of the event topic's first partition) or `every`."""
    freeze: str | None = None
    """A process or a replica stopped with SIGSTOP for `seconds` real seconds, then resumed: hung,
    not dead, so no supervisor restarts it."""
    seconds: float | None = Field(None, gt=0, le=3600)
    """How long a freeze lasts, in real seconds (only with `freeze`; 25 when unset)."""
    drop_connections: str | None = None
    """An agency whose PostgreSQL connections are terminated, or `every`."""

    @model_validator(mode="after")
    def _one(self) -> ActionFile:
        if sum(x is not None for x in (self.kill, self.freeze, self.drop_connections)) != 1:
            raise ValueError(
                "each action is `kill: PROCESS`, `freeze: PROCESS` or `drop_connections: AGENCY`, one of them"
            )
        if self.seconds is not None and self.freeze is None:
            raise ValueError("seconds: only a freeze lasts; give it with `freeze: PROCESS`")
        if self.kill is not None and self.kill != EVERY and not known_process(self.kill):
            raise ValueError(
                f"kill: unknown process {self.kill!r}; a process, a replica such as hotich-2, broker or every"
            )
        if self.freeze is not None and (self.freeze == "broker" or not known_process(self.freeze)):
            raise ValueError(f"freeze: unknown process {self.freeze!r}; a process or a replica such as hotich-2")
        if self.drop_connections is not None and self.drop_connections not in (EVERY, *AGENCIES):
            raise ValueError(
                f"drop_connections: unknown agency {self.drop_connections!r}; one of {', '.join(AGENCIES)} or every"
            )
        return self


class PlanFile(Strict):
    name: str = Field(min_length=1)
    description: str = ""
    replicas: str = ""
    """What `--replicas` the run starts (`all=2`: two processes of every agency and of the
    monitor), so the replicas the plan kills exist."""
    between: tuple[float, float] = (0.1, 0.8)
    """The share of the period over which the strikes are spread evenly, first to last."""
    actions: list[ActionFile] = Field(min_length=1)

    @field_validator("replicas")
    @classmethod
    def _replicas(cls, value: str) -> str:
        parse_replicas(value)
        return value

    @model_validator(mode="after")
    def _span(self) -> PlanFile:
        lo, hi = self.between
        if not 0.0 <= lo <= hi <= 1.0:
            raise ValueError(f"between: [first, last] shares of the period with 0 ≤ first ≤ last ≤ 1, got {[lo, hi]}")
        return self


@dataclass(frozen=True)
class Strike:
    effect: str
    """`kill`, `freeze` or `drop_connections` (the catalogue's process effects)."""
    target: str
    at: float
    """When, as a share of the period."""
    seconds: float | None = None
    """A freeze's length in real seconds."""

    @property
    def name(self) -> str:
        return f"chaos-{self.effect.replace('_', '-')}-{self.target}"


def available() -> list[str]:
    return sorted(p.stem for p in CHAOS_DIR.glob("*.yaml"))


def load(name: str) -> PlanFile:
    """A plan of scenarios/chaos/ by name, or the path of a plan file of the user's own."""
    path = Path(name) if name.endswith((".yaml", ".yml")) else CHAOS_DIR / f"{name}.yaml"
    if not path.exists():
        raise ValueError(f"no chaos plan {name!r}; available: {', '.join(available())}, or a PATH.yaml")
    return validated(PlanFile, read_yaml(path), path)


def strikes(plan: PlanFile, replicas: dict[str, int] | None = None) -> list[Strike]:
    """The plan's strikes in order, `every` expanded over the processes the run starts (the
    plan's replicas, or `replicas` when the command line overrides them)."""
    counts = parse_replicas(plan.replicas) if replicas is None else replicas
    running = [r for p in PROCESSES for r in replica_names(p, counts.get(p, 1))]
    targets: list[tuple[str, str, float | None]] = []
    for action in plan.actions:
        if action.kill is not None:
            names = running if action.kill == EVERY else [action.kill]
            targets += [("kill", n, None) for n in names]
        elif action.freeze is not None:
            targets.append(("freeze", action.freeze, action.seconds))
        else:
            agencies = list(AGENCIES) if action.drop_connections == EVERY else [str(action.drop_connections)]
            targets += [("drop_connections", a, None) for a in agencies]
    missing = sorted({t for e, t, _ in targets if e in ("kill", "freeze") and t != "broker" and t not in running})
    if missing:
        raise ConfigError(
            f"chaos plan {plan.name}: strikes {', '.join(missing)}, which the run does not start "
            f"(replicas {plan.replicas or 'none'}); raise --replicas or drop the action"
        )
    unique = list(dict.fromkeys(targets))  # a process named twice is struck once
    lo, hi = plan.between
    step = (hi - lo) / (len(unique) - 1) if len(unique) > 1 else 0.0
    return [
        Strike(effect, target, round(lo + i * step, 6), seconds) for i, (effect, target, seconds) in enumerate(unique)
    ]


def scenario_doc(plan: PlanFile, planned: list[Strike]) -> dict[str, object]:
    """The strikes as a fault scenario of the scenario file's form (its own faults only)."""
    return {
        "name": f"chaos-{plan.name}",
        "faults": [],
        "define": {
            s.name: {
                "cites": CITES,
                "target": {"process": s.target},
                "window": {"at": s.at},
                "effect": {"kind": s.effect, **({"seconds": s.seconds} if s.seconds is not None else {})},
            }
            for s in planned
        },
    }
