"""Reading the project's data files (topics, profiles, fault scenarios): YAML validated into typed
models that refuse an unknown key or a bad value, naming the file, the key's path and what is
allowed. Pure apart from reading the file.

Why pydantic: it reports every problem with the path of the key, which hand-written checks of
nested YAML would each have to rebuild, and it refuses an unknown key rather than ignore it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError


class ConfigError(ValueError):
    """A data file is invalid: says which file, which key and why."""


class Strict(BaseModel):
    """A data file's model: unknown keys refused, values frozen once read."""

    model_config = ConfigDict(extra="forbid", frozen=True)


M = TypeVar("M", bound=BaseModel)


def validated(model: type[M], raw: Any, source: str | Path) -> M:
    """`raw` (parsed YAML) as `model`, or ConfigError naming `source` and each bad key's path."""
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(top level)'}: {err['msg']}"
            for err in exc.errors(include_url=False)
        )
        raise ConfigError(f"{source}: {problems}") from None


def read_yaml(path: Path) -> Any:
    """A YAML file's content; a file that is not YAML is refused naming it."""
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
