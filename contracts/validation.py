"""A small JSON Schema subset validator, so the exported schema and the runtime checks are
the same document (contracts stays free of I/O and heavy dependencies).

Supports: type (incl. lists), required, properties, additionalProperties=false, enum,
minLength, pattern, items, minimum, format=date-time/uuid/date.

Every event is validated where it crosses a boundary, so the common case must be cheap:
`compile_schema` checks with fastjsonschema's generated code first (a few µs) and walks the
schema with `validate` only to explain a failure, listing every problem.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import date, datetime
from typing import TypedDict

import fastjsonschema

from contracts.errors import Problem
from contracts.jsontypes import JsonValue


class Schema(TypedDict, total=False):
    """The JSON Schema subset the contract writes its schemas in (and this module checks)."""

    type: str | list[str]
    description: str
    enum: list[JsonValue]
    const: JsonValue
    """In the exported documents only (contracts/export.py); not checked here."""
    format: str
    pattern: str
    minLength: int
    minimum: float
    items: Schema
    properties: dict[str, Schema]
    required: list[str]
    additionalProperties: bool


_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "null": (type(None),),
}


def _type_ok(value: object, name: str) -> bool:
    if name in ("integer", "number") and isinstance(value, bool):
        return False
    return isinstance(value, _TYPES[name])


def _format_ok(value: str, fmt: str) -> bool:
    try:
        if fmt == "uuid":
            uuid.UUID(value)
        elif fmt == "date-time":
            return datetime.fromisoformat(value).tzinfo is not None
        elif fmt == "date":
            date.fromisoformat(value)
    except ValueError:
        return False
    return True


def validate(value: object, schema: Schema, path: str = "$") -> list[Problem]:
    """Every problem of `value` against `schema`, with JSON-path-like locations."""
    types = schema.get("type")
    if types is not None:
        names = types if isinstance(types, list) else [types]
        if not any(_type_ok(value, n) for n in names):
            return [Problem(path, f"must be {' or '.join(names)}")]
    problems: list[Problem] = []
    if "enum" in schema and value not in schema["enum"]:
        problems.append(Problem(path, f"must be one of {', '.join(map(str, schema['enum']))}"))
    if isinstance(value, str):
        problems += _string_problems(value, schema, path)
    is_number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if isinstance(value, (int, float)) and is_number and "minimum" in schema and value < schema["minimum"]:
        problems.append(Problem(path, f"must be at least {schema['minimum']}"))
    if isinstance(value, dict):
        problems += _object_problems(value, schema, path)
    if isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            problems.extend(validate(item, schema["items"], f"{path}[{i}]"))
    return problems


def _string_problems(value: str, schema: Schema, path: str) -> list[Problem]:
    problems: list[Problem] = []
    if len(value) < schema.get("minLength", 0):
        problems.append(Problem(path, "must not be empty"))
    if "pattern" in schema and not re.search(schema["pattern"], value):
        problems.append(Problem(path, f"must match {schema['pattern']}"))
    if "format" in schema and not _format_ok(value, schema["format"]):
        problems.append(Problem(path, f"must be a valid {schema['format']}"))
    return problems


def _object_problems(value: dict[object, object], schema: Schema, path: str) -> list[Problem]:
    problems = [Problem(f"{path}.{key}", "is required") for key in schema.get("required", []) if key not in value]
    props = schema.get("properties", {})
    for key, sub in value.items():
        if isinstance(key, str) and key in props:
            problems.extend(validate(sub, props[key], f"{path}.{key}"))
        elif schema.get("additionalProperties") is False:
            problems.append(Problem(f"{path}.{key}", "is not allowed"))
    return problems


def compile_schema(schema: Schema) -> Callable[[object, str], list[Problem]]:
    """A fast checker for `schema`: [] when the value is valid, else every problem found."""
    fast = fastjsonschema.compile(dict(schema))

    def check(value: object, path: str) -> list[Problem]:
        try:
            fast(value)
        except fastjsonschema.JsonSchemaException as exc:
            return validate(value, schema, path) or [Problem(path, str(exc))]
        return []

    return check
