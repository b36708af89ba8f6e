"""The stack's records under `$LT_HOME`, and the one repository that reads and writes them:
`stack.json` (the broker, PostgreSQL, alerting, the supervisor, the run's clock), `services.json`
(what the supervisor should run) and `supervisor.json` (what it runs). Every other module asks
`StackState`; none opens these files itself. Each file is written whole and renamed into place, so
a reader never sees half a file."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypedDict, cast

from runtime.settings import Settings


class NodeRecord(TypedDict, total=False):
    """One Apache Kafka node."""

    node_id: int
    port: int
    controller_port: int
    pid: int
    log: str
    _process: subprocess.Popen[bytes]


class BrokerRecord(TypedDict, total=False):
    """The broker: Tansu (`pid`, `port`) or an Apache Kafka cluster (`cluster_id`, `nodes`)."""

    kind: str
    pid: int
    port: int
    bootstrap: str
    cluster_id: str
    nodes: list[NodeRecord]
    secured: bool
    """The local Kafka cluster runs TLS, SASL/SCRAM and ACLs (deploy/kafka_security.py)."""
    _process: subprocess.Popen[bytes]


class PostgresRecord(TypedDict, total=False):
    pid: int
    port: int
    data: str
    admin_url: str
    _process: subprocess.Popen[bytes]


class ServerRecord(TypedDict, total=False):
    """Prometheus or Alertmanager."""

    pid: int
    port: int
    _process: subprocess.Popen[bytes]


class AlertingRecord(TypedDict, total=False):
    folder: str
    prometheus: ServerRecord
    alertmanager: ServerRecord


class SupervisorPid(TypedDict):
    pid: int


class StackRecord(TypedDict, total=False):
    external: bool
    kafka_bootstrap: str
    kafka_security_protocol: str
    """SASL_SSL on the local secured Kafka cluster (with the two below); absent: plain text."""
    kafka_ca_file: str
    kafka_secrets_dir: str
    database_url: str
    broker: BrokerRecord
    postgres: PostgresRecord
    clock: dict[str, str | float]
    """The run's clock: Settings field → value (`sim_epoch`, `sim_clock_file`, ...)."""
    supervisor: SupervisorPid
    alerting: AlertingRecord
    ready_s: float


class ServicesSpec(TypedDict, total=False):
    services: dict[str, int]
    """Process (or replica) name → its HTTP port."""
    modules: dict[str, str]
    env: dict[str, str]
    external: list[str]
    replicas: dict[str, int]


class ChildRecord(TypedDict, total=False):
    pid: int | None
    port: int
    restarts: int
    last_exit: int | None


class SupervisorRecord(TypedDict, total=False):
    pid: int
    services: dict[str, ChildRecord]


@dataclass(frozen=True)
class StackState:
    """The records of the stack whose home is `home`."""

    home: Path

    @property
    def stack_file(self) -> Path:
        return self.home / "stack.json"

    def stack(self) -> StackRecord:
        return cast(StackRecord, _read(self.stack_file))

    def save_stack(self, stack: StackRecord) -> None:
        _write(self.stack_file, stack)

    def forget_stack(self) -> None:
        self.stack_file.unlink(missing_ok=True)

    def services(self) -> ServicesSpec:
        return cast(ServicesSpec, _read(self.home / "services.json"))

    def save_services(self, spec: ServicesSpec) -> None:
        _write(self.home / "services.json", spec)

    def supervisor(self) -> SupervisorRecord:
        return cast(SupervisorRecord, _read(self.home / "supervisor.json"))

    def save_supervisor(self, record: SupervisorRecord) -> None:
        _write(self.home / "supervisor.json", record)

    def forget_supervisor(self) -> None:
        (self.home / "supervisor.json").unlink(missing_ok=True)

    def broker_kind(self) -> str:
        """ "kafka" or "tansu" (the default: a stack not started yet gets Tansu)."""
        return self.stack().get("broker", {}).get("kind", "tansu")

    def ports(self) -> dict[str, int]:
        """Each supervised process's HTTP port, by process (or replica) name."""
        return self.services().get("services", {})

    def recorded(self) -> dict[str, object]:
        """What `Settings.from_env` takes where the environment is silent: the embedded stack's
        addresses and the last run's clock."""
        stack = self.stack()
        return {
            "kafka_bootstrap": stack.get("kafka_bootstrap"),
            "kafka_security_protocol": stack.get("kafka_security_protocol"),
            "kafka_ca_file": stack.get("kafka_ca_file"),
            "kafka_secrets_dir": stack.get("kafka_secrets_dir"),
            "database_url": stack.get("database_url"),
            **stack.get("clock", {}),
        }

    def pid_of(self, name: str) -> int | None:
        """The pid the supervisor last recorded for process `name` (None when it is not running)."""
        return self.supervisor().get("services", {}).get(name, {}).get("pid")


def settings_from_env(env: Mapping[str, str] | None = None) -> Settings:
    """The settings of a command run against the stack: the environment first, then what the
    stack in its home (`LT_HOME`) recorded."""
    home = Settings.from_env(env).home.resolve()
    return Settings.from_env(env, recorded=StackState(home).recorded())


def _read(path: Path) -> dict[str, object]:
    """A record as JSON read it; {} when it is missing, torn or not an object."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write(path: Path, data: object) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(_public(data), indent=1))
    tmp.replace(path)


def _public(data: object) -> object:
    """Drop in-process handles (keys starting with "_") before writing state to disk."""
    if isinstance(data, dict):
        return {k: _public(v) for k, v in data.items() if not str(k).startswith("_")}
    if isinstance(data, list):
        return [_public(v) for v in data]
    return data
