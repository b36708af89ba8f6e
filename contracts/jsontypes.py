"""JSON as a type. A document the product builds or passes on whole (an OpenAPI or AsyncAPI
document, a JSON Schema, an Alertmanager configuration, a status body) is a `JsonObject`: mypy
then holds every value to what JSON can carry, and a reader must narrow a value before using it,
where `dict[str, Any]` would let anything through unchecked."""

from __future__ import annotations

from typing import TypeAlias

JsonValue: TypeAlias = "bool | int | float | str | list[JsonValue] | dict[str, JsonValue] | None"
JsonObject: TypeAlias = "dict[str, JsonValue]"


def obj(value: JsonValue) -> JsonObject:
    """`value` as a JSON object, or TypeError: for reading back a document one built."""
    if not isinstance(value, dict):
        raise TypeError(f"expected a JSON object, got {type(value).__name__}")
    return value


def arr(value: JsonValue) -> list[JsonValue]:
    """`value` as a JSON array, or TypeError."""
    if not isinstance(value, list):
        raise TypeError(f"expected a JSON array, got {type(value).__name__}")
    return value


def load_object(text: str, what: str) -> JsonObject:
    """A YAML or JSON document that must be an object (a configuration file); ValueError naming
    `what` otherwise."""
    import yaml

    loaded = yaml.safe_load(text)
    if not isinstance(loaded, dict):
        raise ValueError(f"{what}: expected a mapping at the top, got {type(loaded).__name__}")
    return loaded
