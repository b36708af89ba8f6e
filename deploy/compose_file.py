"""The compose file as Compose reads it: anchors and merge keys, `${VAR}` interpolation with its
`:-` default and `:?` error forms, services with their replicas, dependencies and start order,
durations; and what our Dockerfile gives each container of our image. Pure: no process starts."""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

DURATION = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001, "us": 0.000001}
_VARIABLE = re.compile(
    r"\$(?:\$|\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?P<op>:?[-?])?(?P<arg>[^}]*)\}|(?P<bare>[A-Za-z_][A-Za-z0-9_]*))"
)


class ComposeError(ValueError):
    """The compose file would not come up as written; the message names the service and key."""


@dataclass(frozen=True)
class BuiltImage:
    """What our Dockerfile gives every container of our image."""

    workdir: str
    env: Mapping[str, str]
    user: str
    writable: tuple[str, ...]
    """Folders the image makes and hands to its user (`chown <user> …`)."""


def read_dockerfile(text: str) -> BuiltImage:
    """The workdir, ENV, USER and the folders handed to the user, from a Dockerfile."""
    workdir, user, env, chowned = "/", "root", {}, []
    joined = re.sub(r"\\\n", " ", text)
    for raw in joined.splitlines():
        line = raw.strip()
        word, _, rest = line.partition(" ")
        match word.upper():
            case "WORKDIR":
                workdir = rest.strip()
            case "USER":
                user = rest.strip()
            case "ENV":
                for pair in shlex.split(rest):
                    key, _, value = pair.partition("=")
                    env[key] = value
            case "RUN":
                for m in re.finditer(r"chown\s+(?:-R\s+)?(\S+)\s+([^&;|]+)", rest):
                    chowned.append((m.group(1).split(":")[0], m.group(2).split()))
    return BuiltImage(workdir, env, user, tuple(p for owner, paths in chowned if owner == user for p in paths))


def interpolate(value: str, environ: Mapping[str, str], where: str) -> str:
    """Compose's `${VAR}` forms; an unset `${VAR:?reason}` is refused naming `where`."""

    def one(m: re.Match[str]) -> str:
        if m.group(0) == "$$":
            return "$"
        name = m.group("braced") or m.group("bare")
        op, arg = m.group("op") or "", m.group("arg") or ""
        have = environ.get(name)
        unset = have is None or (op.startswith(":") and have == "")
        if op.endswith("?") and unset:
            raise ComposeError(f"{where}: ${{{name}}} is not set ({arg or 'required'})")
        if op.endswith("-") and unset:
            return arg
        return have or ""

    return _VARIABLE.sub(one, value)


def load(path: Path, environ: Mapping[str, str]) -> dict[str, Any]:
    """The compose file as a mapping, every string interpolated from `environ`."""
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(doc, dict) or not isinstance(doc.get("services"), dict):
        raise ComposeError(f"{path}: no `services` mapping")

    def walk(node: Any, where: str) -> Any:
        if isinstance(node, str):
            return interpolate(node, environ, where)
        if isinstance(node, dict):
            return {k: walk(v, f"{where}.{k}") for k, v in node.items() if not str(k).startswith("x-")}
        if isinstance(node, list):
            return [walk(v, where) for v in node]
        return node

    return {k: walk(v, f"{path.name}: {k}") for k, v in doc.items() if not str(k).startswith("x-")}


def environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.partition("=")[::2] for item in env)
    return {str(k): "" if v is None else str(v) for k, v in env.items()}


def published(service: dict[str, Any]) -> list[int]:
    ports = [int(str(p).split(":")[-1].split("/")[0]) for p in service.get("ports") or []]
    return ports + [int(str(p).split("/")[0]) for p in service.get("expose") or []]


def seconds(text: object, default: float) -> float:
    """A Compose duration (`10s`, `1m30s`, `500ms`) in seconds."""
    if text is None or text == "":
        return default
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|us|h|m|s)?", str(text))
    if not parts:
        raise ComposeError(f"{text!r} is no duration")
    return sum(float(n) * DURATION[unit or "s"] for n, unit in parts)


def replicas(service: dict[str, Any]) -> int:
    return int((service.get("deploy") or {}).get("replicas") or 1)


def depends(service: dict[str, Any]) -> dict[str, str]:
    raw = service.get("depends_on") or {}
    if isinstance(raw, list):
        return dict.fromkeys(raw, "service_started")
    return {k: (v or {}).get("condition", "service_started") for k, v in raw.items()}


def start_order(services: dict[str, dict[str, Any]], path: Path) -> list[str]:
    order: list[str] = []
    visiting: set[str] = set()

    def visit(name: str, chain: tuple[str, ...]) -> None:
        if name in order:
            return
        if name not in services:
            raise ComposeError(f"{path.name}: services.{chain[-1]}.depends_on names no service {name!r}")
        if name in visiting:
            raise ComposeError(f"{path.name}: depends_on goes round: {' → '.join((*chain, name))}")
        visiting.add(name)
        for dep in depends(services[name]):
            visit(dep, (*chain, name))
        order.append(name)

    for name in services:
        visit(name, ())
    return order
