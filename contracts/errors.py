"""Errors raised when data does not follow the contract."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypeVar

from pydantic import BaseModel, ValidationError


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a piece of input: where, and why."""

    field: str
    reason: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "reason": self.reason}


@dataclass
class ContractError(Exception):
    """Input that breaks the contract; carries every problem found, not just the first."""

    problems: list[Problem] = field(default_factory=list)

    def __str__(self) -> str:
        return "; ".join(f"{p.field}: {p.reason}" for p in self.problems)


M = TypeVar("M", bound=BaseModel)


def parse_model(model: type[M], raw: bytes) -> M:
    """A message decoded into its pydantic model; ContractError lists every problem, by JSON path."""
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        raise ContractError(
            [Problem("$." + ".".join(str(p) for p in e["loc"]) if e["loc"] else "$", e["msg"]) for e in exc.errors()]
        ) from exc
