"""The compose file read as the containers it would start, each mapped onto this machine.

There is no container engine on the machines this product is built on, so `lienthong compose
check` (deploy/compose_check.py) runs every service's command with its environment as local
processes. This module is the pure half: it takes the file as Compose reads it
(deploy/compose_file.py) and maps each container onto loopback:

- each container gets a folder standing in for its filesystem, and each named volume a folder
  of its own: data written outside a volume lands in the container's folder, where a real
  container would lose it;
- each port a container listens on gets a free local port, and every `service:port` a container
  names is rewritten to that port, so a wrong host or port fails as it would on the container
  network (a service with replicas is reached at its first, as Docker's DNS may answer);
- `0.0.0.0`, `localhost` and an empty listener host become 127.0.0.1 (the container itself).

What would stop the file coming up is refused here, before anything starts (ComposeError): a
required variable unset, an address naming no service or a port nobody listens on, a data
directory outside every volume, a home the image's user cannot write, a secret that differs
between the services that must share it."""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from deploy.compose_file import (
    BuiltImage,
    ComposeError,
    depends,
    environment,
    load,
    published,
    replicas,
    seconds,
    start_order,
)

IMAGES_FILE = Path(__file__).resolve().parent / "images.yaml"
OWN_HOSTS = frozenset({"", "0.0.0.0", "localhost", "127.0.0.1"})
"""Hosts that mean the container itself."""
LOCAL = "127.0.0.1"
ADDRESS_KEYS = frozenset(
    {
        "LT_KAFKA_BOOTSTRAP",
        "LT_DATABASE_URL",
        "LT_DANCU_URL",
        "KAFKA_LISTENERS",
        "KAFKA_ADVERTISED_LISTENERS",
        "KAFKA_CONTROLLER_QUORUM_VOTERS",
    }
)
"""Variables whose every `host:port` must name a service of the file (or the container itself)."""
PAIRED_HOSTS = {"LT_PORTAL_HOST": ("LT_PORTAL_PORT", 8480)}
"""A bare host and the variable (and its default) that gives the port its clients reach it on."""
SHARED_SECRETS = ("LT_OPERATOR_TOKEN", "LT_SUBMITTER_TOKEN", "LT_DATABASE_URL")
"""Values every process of ours must hold alike: the agencies check the console's signed
commands with the operator token, the portal replicas share the submitters', and all of them
reach the one database."""
_ADDRESS = re.compile(r"(?:(?<=^)|(?<=[/@,\s]))(?P<host>[A-Za-z0-9][A-Za-z0-9_.-]*)?:(?P<port>\d{1,5})(?=$|[/,\s?])")


class DataDir(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    variable: str
    default: str


class ImageFacts(BaseModel):
    """What a third-party image does without being told: the ports it listens on, and the
    variable naming its data directory with that variable's default."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    ports: tuple[int, ...] = ()
    data: DataDir | None = None


class Images(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    images: dict[str, ImageFacts]
    our_user_home: str


@functools.cache
def images(path: Path = IMAGES_FILE) -> Images:
    """deploy/images.yaml, validated; an unknown key or a bad value is refused naming both."""
    try:
        return Images.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except ValidationError as exc:
        where = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ComposeError(f"{path.name}: {where}") from None


def family(image: str) -> str:
    """`apache/kafka:4.1.1` → `apache/kafka`."""
    name = image.rsplit("/", 1)[-1]
    return image[: len(image) - len(name)] + name.split(":")[0]


@dataclass(frozen=True)
class Container:
    service: str
    replica: int
    image: str
    ours: bool
    """Built from our Dockerfile (its command and healthcheck run as written)."""
    command: tuple[str, ...]
    env: Mapping[str, str]
    """What the container sees: the image's variables under the service's, interpolated."""
    local_env: Mapping[str, str]
    """The same on this machine: addresses, ports and paths mapped."""
    ports: Mapping[int, int]
    """Each port it listens on → the local port standing in for it."""
    root: Path
    volumes: Mapping[str, Path]
    """Each mount point → the local folder of its named volume."""
    healthcheck: tuple[str, ...]
    depends_on: Mapping[str, str]
    """Each service it waits for → the condition (`service_healthy`, …)."""
    health_budget_s: float = 0.0
    """How long Compose gives it to pass its healthcheck: start_period + interval × retries."""
    health_timeout_s: float = 30.0
    job: bool = False
    """Another service waits for it to complete (`service_completed_successfully`): it exits."""

    @property
    def name(self) -> str:
        return f"{self.service}-{self.replica}"

    def local_path(self, path: str) -> Path:
        """Where a path of the container's filesystem is on this machine."""
        for mount, folder in sorted(self.volumes.items(), key=lambda kv: -len(kv[0])):
            if path == mount or path.startswith(mount.rstrip("/") + "/"):
                return folder / path[len(mount) :].lstrip("/")
        return self.root / path.lstrip("/")

    def in_volume(self, path: str) -> bool:
        return any(path == m or path.startswith(m.rstrip("/") + "/") for m in self.volumes)


def _image_facts(image: str) -> ImageFacts:
    return images().images.get(family(image), ImageFacts())


def _own_ports(name: str, service: dict[str, Any], env: Mapping[str, str]) -> set[int]:
    ports = set(published(service)) | set(_image_facts(str(service.get("image", ""))).ports)
    paired_targets = {
        port_key for host_key, (port_key, _) in PAIRED_HOSTS.items() if env.get(host_key) not in (None, name)
    }
    for key, value in env.items():
        if key.endswith("_PORT") and value.isdigit() and key not in paired_targets:
            ports.add(int(value))
        for m in _ADDRESS.finditer(value):
            if (m.group("host") or "") in OWN_HOSTS | {name}:
                ports.add(int(m.group("port")))
    return ports


def plan(
    path: Path,
    environ: Mapping[str, str],
    workdir: Path,
    built: BuiltImage,
    free_port: Callable[[set[int]], int],
) -> list[Container]:
    """Every container of the file (replicas apart), mapped onto this machine, in start order."""
    layout = _Layout(path, load(path, environ)["services"], workdir, built, free_port)
    containers = [
        layout.container(name, replica)
        for name in start_order(layout.services, path)
        for replica in range(1, replicas(layout.services[name]) + 1)
    ]
    _check_shared(containers, path)
    return containers


class _Layout:
    """The file's services with every container's ports handed out, before any is built."""

    def __init__(
        self,
        path: Path,
        services: dict[str, dict[str, Any]],
        workdir: Path,
        built: BuiltImage,
        free_port: Callable[[set[int]], int],
    ) -> None:
        self.path, self.services, self.workdir, self.built = path, services, workdir, built
        self.envs = {
            name: {**(dict(built.env) if "build" in s else {}), **environment(s)} for name, s in services.items()
        }
        self.own = {name: _own_ports(name, s, self.envs[name]) for name, s in services.items()}
        taken: set[int] = set()
        self.local_ports: dict[tuple[str, int], dict[int, int]] = {}
        for name, service in services.items():
            for replica in range(1, replicas(service) + 1):
                mapping = self.local_ports[(name, replica)] = {}
                for port in sorted(self.own[name]):
                    mapping[port] = free_port(taken)
                    taken.add(mapping[port])
        self.jobs = {
            d for s in services.values() for d, cond in depends(s).items() if cond == "service_completed_successfully"
        }

    def address(self, name: str, replica: int, host: str, port: int, key: str) -> str:
        """Where `host:port`, as container `name`-`replica` names it in `key`, is on this machine."""
        target = (name, replica) if host in OWN_HOSTS or host == name else (host, 1)
        where = f"{self.path.name}: services.{name}.environment.{key}"
        if target[0] not in self.services:
            raise ComposeError(f"{where}: {host}:{port} names no service of the file")
        if port not in self.own[target[0]]:
            raise ComposeError(f"{where}: {target[0]} listens on no port {port}")
        return f"{LOCAL}:{self.local_ports[target][port]}"

    def container(self, name: str, replica: int) -> Container:
        service, env = self.services[name], self.envs[name]
        health = service.get("healthcheck") or {}
        ours = "build" in service
        if ours:
            _check_home(name, env, self.built, service)
        container = Container(
            service=name,
            replica=replica,
            image=str(service.get("image", "")),
            ours=ours,
            command=tuple(str(c) for c in service.get("command") or ()),
            env=env,
            local_env={},
            ports=self.local_ports[(name, replica)],
            root=self.workdir / "containers" / f"{name}-{replica}",
            volumes=_volumes(service, self.workdir, self.path),
            healthcheck=tuple(str(t) for t in health.get("test") or ()),
            depends_on=depends(service),
            health_budget_s=seconds(health.get("start_period"), 0.0)
            + seconds(health.get("interval"), 30.0) * int(health.get("retries", 3)),
            health_timeout_s=seconds(health.get("timeout"), 30.0),
            job=name in self.jobs,
        )
        _check_data(container, env, f"{self.path.name}: services.{name}")
        return _with_env(container, self.local_env(container))

    def local_env(self, container: Container) -> dict[str, str]:
        name, env = container.service, container.env

        def address(host: str, port: int, key: str) -> str:
            return self.address(name, container.replica, host, port, key)

        local = {k: _localize(k, v, address, self.services) for k, v in env.items()}
        for key, value in env.items():  # the ports it listens on, named alone
            if key.endswith("_PORT") and value.isdigit() and int(value) in container.ports:
                local[key] = str(container.ports[int(value)])
        for host_key, (port_key, default) in PAIRED_HOSTS.items():
            host = env.get(host_key)
            if host in self.services and host != name:
                local[port_key] = address(host, int(env.get(port_key, default)), host_key).rsplit(":", 1)[1]
            if host in self.services:
                local[host_key] = LOCAL
        local = {k: str(container.local_path(v)) if _is_path(v) else v for k, v in local.items()}
        if container.ours:
            local["HOME"] = str(container.local_path(images().our_user_home.format(user=self.built.user)))
        return local


def localize_text(container: Container, text: str) -> str:
    """A command line of the container with its own addresses mapped (its healthcheck)."""

    def sub(m: re.Match[str]) -> str:
        host = m.group("host") or ""
        port = int(m.group("port"))
        if host in OWN_HOSTS | {container.service} and port in container.ports:
            return f"{LOCAL}:{container.ports[port]}"
        return m.group(0)

    return _ADDRESS.sub(sub, text)


def _with_env(container: Container, local: dict[str, str]) -> Container:
    return dataclasses.replace(container, local_env=local)


def _localize(key: str, value: str, address: Callable[[str, int, str], str], services: Mapping[str, Any]) -> str:
    if value in ("0.0.0.0", "localhost"):
        return LOCAL

    def sub(m: re.Match[str]) -> str:
        host = m.group("host") or ""
        if key in ADDRESS_KEYS or host in services or host in OWN_HOSTS - {""}:
            return address(host, int(m.group("port")), key)
        return m.group(0)

    return _ADDRESS.sub(sub, value)


def _is_path(value: str) -> bool:
    return value.startswith("/") and " " not in value and ":" not in value


def _volumes(service: dict[str, Any], workdir: Path, path: Path) -> dict[str, Path]:
    mounts: dict[str, Path] = {}
    for spec in service.get("volumes") or []:
        source, _, rest = str(spec).partition(":")
        target = rest.split(":")[0]
        if source.startswith((".", "/")):
            mounts[target] = (path.parent / source).resolve()  # a bind mount of a file beside the compose file
        else:
            mounts[target] = workdir / "volumes" / source
    return mounts


def _check_home(name: str, env: Mapping[str, str], built: BuiltImage, service: dict[str, Any]) -> None:
    home = env.get("LT_HOME", ".lienthong")
    absolute = home if home.startswith("/") else f"{built.workdir.rstrip('/')}/{home}"
    mounts = [str(v).partition(":")[2].split(":")[0] for v in service.get("volumes") or []]
    if not any(absolute == w or absolute.startswith(w.rstrip("/") + "/") for w in [*built.writable, *mounts]):
        raise ComposeError(
            f"services.{name}: LT_HOME={absolute} is not writable by the image's user {built.user} "
            f"(the Dockerfile hands it {', '.join(built.writable) or 'no folder'})"
        )


def _check_data(container: Container, env: Mapping[str, str], where: str) -> None:
    facts = _image_facts(container.image)
    if facts.data is None:
        return
    key = facts.data.variable
    data = env.get(key, facts.data.default)
    if not container.in_volume(data):
        raise ComposeError(
            f"{where}: {container.image} keeps its data in {data} ({key}), outside its volumes "
            f"({', '.join(container.volumes) or 'none'}): nothing would persist"
        )


def _check_shared(containers: list[Container], path: Path) -> None:
    ours = [c for c in containers if c.ours]
    for key in SHARED_SECRETS:
        values = {c.env.get(key, "") for c in ours}
        if len(values) > 1 or "" in values:
            lacking = sorted({c.service for c in ours if not c.env.get(key)})
            raise ComposeError(
                f"{path.name}: {key} must be set alike on every service of our image"
                + (f"; unset on {', '.join(lacking)}" if lacking else "; the services hold different values")
            )
