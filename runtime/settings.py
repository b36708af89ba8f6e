"""The one settings object, read from `LT_*` environment variables.

A command run after `lienthong up` passes what the stack recorded (`deploy.state`) as `recorded`:
where `LT_KAFKA_BOOTSTRAP` / `LT_DATABASE_URL` are unset, the embedded stack's addresses are
used, and where `LT_SIM_EPOCH` is unset, the clock the last `lienthong run` set, so every command
reads the same sim time.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from contracts.chains import Chain, load_chains
from contracts.clock import VN_TZ, SimClock
from contracts.topic_layout import TopicLayout
from contracts.topic_layout import load as load_topic_layout
from runtime.clockfile import ClockFile

BROKERS = ("tansu", "kafka")
REAL_BEATS_BOOST = 4.0
"""At most this many times more beats in real time than at the profile's speed (`beat_interval_s`)."""


class PlatformSettings(BaseModel):
    """What every process of the product runs with, simulated or not: where the broker, the
    database and the stack's home are, the topics, the HTTP edges, tokens and logging."""

    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True)

    kafka_bootstrap: str | None = None
    kafka_security_protocol: Literal["PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    """SASL_SSL: TLS with a SASL principal per process (runtime/kafkaaccess.py, docs/security.md)."""
    kafka_sasl_mechanism: Literal["SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"] = "SCRAM-SHA-512"
    kafka_username: str = ""
    """This process's principal; empty: its role (an agency's code, `monitor`, `console`, `operator`)."""
    kafka_password: str = ""
    """Its password; empty: `<principal>.password` in `kafka_secrets_dir`."""
    kafka_ca_file: Path | None = None
    """The CA certificate (PEM) the cluster's TLS certificates are checked against."""
    kafka_secrets_dir: Path | None = None
    """A folder of `<principal>.password` files (the local secured cluster keeps its own there)."""
    database_url: str | None = None
    topics_file: Path | None = None
    """The topics file (partitions, replication, retention); default contracts/topics.yaml."""
    home: Path = Path(".lienthong")
    topic_prefix: str = "lt"
    partitions: int = 4
    portal_host: str = "127.0.0.1"
    """Where clients reach the portal."""
    bind_host: str = "127.0.0.1"
    """The address every process's HTTP server listens on: loopback, unless a container's
    network needs 0.0.0.0 (deploy/compose.yaml)."""
    portal_port: int = 8480
    dashboard_port: int = 8490
    operator_token: str = ""
    """Token the dashboard's acknowledge and redrive need; empty: one is made and kept in
    `$LT_HOME/operator-token` (readable by its owner only)."""
    submitter_token: str = ""
    """Token of the clients the portal does not rate-limit per client (runtime/edges.py); empty:
    one is made and kept in `$LT_HOME/submitter-token`."""
    portal_rate_limit: float = Field(default=20.0, ge=0)
    """Requests a second the portal takes from one client (peer address) without the submitter
    token, sustained; 0: no limit."""
    portal_rate_burst: int = Field(default=100, ge=1)
    """Requests one such client may send at once before the sustained rate applies."""
    trusted_proxies: tuple[str, ...] = ()
    """Addresses of reverse proxies (LT_TRUSTED_PROXIES, comma-separated) whose X-Forwarded-For
    names the client the portal rate-limits; anyone else's header is ignored."""
    max_body_bytes: int = Field(default=256 * 1024, ge=1024)
    """The largest request body an HTTP edge (the portal, the dashboard, an agency) reads."""
    service_port: int = 0
    instance: str = ""
    """This process's name among replicas (`hotich-2`); empty: the process's own name."""
    log_format: str = "auto"
    log_level: str = "info"
    lltp_issuer: str = "so_tu_phap"
    dancu_url: str = ""
    """The national population database the agencies check identities against (the `dancu`
    service, or a province's own gateway); empty: the built-in rule (runtime/population.py).
    `lienthong up` sets it to the stack's own service."""
    heartbeat_s: float = 1.0
    chains_file: Path | None = None
    staffing_file: Path | None = None
    """The officers who take up the steps (runtime/staffing.py); unset: each step taken up on its own."""
    batch_size: int = 200
    console_url: str = ""
    """The console's address as people reach it, for the links in notifications; empty:
    http://127.0.0.1:LT_DASHBOARD_PORT."""

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        return tuple(a.strip() for a in value.split(",") if a.strip()) if isinstance(value, str) else value

    @property
    def external_infra(self) -> bool:
        """True when the environment names a real Kafka and PostgreSQL (production path)."""
        return bool(os.environ.get("LT_KAFKA_BOOTSTRAP") and os.environ.get("LT_DATABASE_URL"))

    def require_infra(self) -> tuple[str, str]:
        if not self.kafka_bootstrap or not self.database_url:
            raise NotRunningError(
                "no broker / database configured: run `lienthong up`, or set LT_KAFKA_BOOTSTRAP and LT_DATABASE_URL"
            )
        return self.kafka_bootstrap, self.database_url

    def topic_layout(self) -> TopicLayout:
        return load_topic_layout(self.topics_file)

    def chains(self) -> dict[str, Chain]:
        override = self.chains_file.read_text(encoding="utf-8") if self.chains_file else None
        return load_chains(override)

    @property
    def portal_url(self) -> str:
        return f"http://{self.portal_host}:{self.portal_port}"


class SimulationSettings(BaseModel):
    """Sim time (`LT_SIM_*`: a production process runs on the real clock when none is set), the
    run's seed and what the plugged-in simulation is asked to do."""

    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True)

    sim_epoch: str | None = None
    sim_anchor: float | None = None
    sim_speed: float = 1.0
    sim_max_lag_s: float = 5.0
    sim_clock_file: Path | None = None
    """A governed run's rate changes (runtime/clockfile.py); unset: a steady clock."""
    sim_ceiling: float | None = None
    """The fastest a governed run's clock may go (unset: `sim_speed`); an agency beats that much
    more often (`beat_interval_s`)."""
    seed: int = 20240101
    simulation: str = ""
    """What the plugged-in simulation is asked to do (a fault scenario and the run's period),
    opaque to the platform: it hands it to the simulation's port unread (runtime/simulation.py)."""

    def clock(self) -> SimClock:
        if self.sim_epoch is None:
            return SimClock.production() if self.sim_speed == 1.0 else _fresh_clock(self.sim_speed)
        epoch = datetime.fromisoformat(self.sim_epoch)
        if epoch.tzinfo is None:
            epoch = epoch.replace(tzinfo=VN_TZ)
        anchor = self.sim_anchor if self.sim_anchor is not None else epoch.timestamp()
        segments = ClockFile(self.sim_clock_file) if self.sim_clock_file else None
        return SimClock(
            epoch=epoch, anchor=anchor, speed=self.sim_speed, max_lag_s=self.sim_max_lag_s, segments=segments
        )


class StackSettings(BaseModel):
    """What `lienthong up` starts around the product: the broker, and Prometheus with Alertmanager."""

    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True)

    broker: Literal["", "tansu", "kafka"] = ""
    """Which broker `lienthong up` runs: `tansu` (embedded, no Java) or `kafka` (an Apache Kafka
    cluster on loopback); empty: the one already running, else tansu."""
    brokers: int = Field(default=0, ge=0)
    """Nodes of the local Kafka cluster; 0: the running cluster's size, else 3."""
    kafka_plaintext: bool = False
    """The local Kafka cluster without TLS, SASL or ACLs: the baseline `bench --broker security`
    measures the secured cluster against; never a province's."""
    alerting: bool = False
    """`up` and `run` also start Prometheus and Alertmanager (Debian's packages) on the shipped
    rules and route (deploy/alerting.py); `--alerting` says the same."""
    alert_webhook_url: str = ""
    """Where Alertmanager posts notifications (a chat bridge, a ticketing hook); empty: none."""
    alert_smtp: str = ""
    """The mail relay `host:port` Alertmanager sends through; empty: no e-mail."""
    alert_mail_to: str = "truc-ban@localhost"
    alert_interval_s: float = Field(default=15.0, gt=0)
    """Prometheus's scrape and rule-evaluation interval, in real seconds."""
    alert_group_wait_s: float = Field(default=30.0, gt=0)
    """How long Alertmanager gathers a new group's alerts before its first notification."""
    alert_group_interval_s: float = Field(default=300.0, gt=0)
    """How long Alertmanager waits before notifying a group again about alerts added to it."""


class Settings(PlatformSettings, SimulationSettings, StackSettings):
    """Every `LT_*` setting, typed: pydantic parses them, and a bad value is refused with the
    variable's name. Built from keyword arguments alone (a test, a tool): only `from_env` reads
    the environment, itself rather than through pydantic-settings, because it also fills what the
    environment leaves unset from the stack's record and names each bad variable. A function that
    needs one group takes that group's type (`PlatformSettings`, `SimulationSettings`,
    `StackSettings`), or the clock it uses."""

    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, recorded: Mapping[str, object] | None = None) -> Settings:
        """The settings the environment gives; `recorded` (Settings field → value) fills the
        addresses and the clock it leaves unset."""
        env = os.environ if env is None else env
        given = {
            name: env[f"LT_{name.upper()}"] for name in cls.model_fields if env.get(f"LT_{name.upper()}", "") != ""
        }
        if given.get("brokers") == "0":
            raise ValueError("LT_BROKERS=0: a cluster needs at least 1 broker")
        values: dict[str, object] = dict(given)
        if "partitions" not in values:
            values["partitions"] = load_topic_layout(
                Path(given["topics_file"]) if "topics_file" in given else None
            ).partitions
        clock_set = "sim_epoch" in values
        fallback = {
            k: v for k, v in (recorded or {}).items() if v is not None and not (clock_set and k.startswith("sim_"))
        }
        return _validated(cls, {**fallback, **values})

    def replace(self, **changes: Any) -> Settings:
        """A copy with `changes` applied, validated like the original."""
        return _validated(type(self), {**self.model_dump(), **changes})

    def beat_interval_s(self) -> float:
        """Real seconds between two heartbeats of a simulated agency, whatever the clock does. The
        monitor's silence limit is three `heartbeat_s` at `sim_speed`, in sim time; a governed
        clock that may run past that speed (to `sim_ceiling`) would stretch a real-time interval
        past the limit, so the beats come as much more often, up to REAL_BEATS_BOOST times; past
        that the beats spaced in sim time (`beat_every`) keep the gaps short. Real time as well as
        sim time: beats spaced in sim time alone raised false silences in a month run at the
        profile's speed."""
        boost = min(max(self.sim_ceiling or 0.0, self.sim_speed), REAL_BEATS_BOOST * self.sim_speed)
        return self.heartbeat_s * self.sim_speed / boost

    def beat_every(self) -> timedelta:
        """Sim time between two heartbeats at most: one beat interval at `sim_speed`. A governed
        clock runs idle stretches far past its ceiling, and real-time beats alone would then be
        hours of sim time apart (simulation/governor.py)."""
        return timedelta(seconds=self.heartbeat_s * self.sim_speed)


def _fresh_clock(speed: float) -> SimClock:
    base = SimClock.production()
    return SimClock(epoch=base.epoch, anchor=base.anchor, speed=speed)


def clock_env(
    epoch: datetime,
    anchor: float,
    speed: float,
    max_lag_s: float,
    clock_file: Path | None = None,
    ceiling: float | None = None,
) -> dict[str, str]:
    """The `LT_SIM_*` variables that give another process this clock. All of them, always: the
    supervisor keeps the previous run's `LT_SIM_*` otherwise (an empty one counts as unset)."""
    return {
        "LT_SIM_EPOCH": epoch.isoformat(),
        "LT_SIM_ANCHOR": repr(anchor),
        "LT_SIM_SPEED": repr(speed),
        "LT_SIM_MAX_LAG_S": repr(max_lag_s),
        "LT_SIM_CLOCK_FILE": str(clock_file) if clock_file else "",
        "LT_SIM_CEILING": repr(ceiling) if ceiling else "",
    }


def _validated(cls: type[Settings], values: Mapping[str, object]) -> Settings:
    """`cls(**values)`, with every bad value named by its variable (`LT_PARTITIONS='x': ...`)."""
    try:
        return cls.model_validate(values)
    except ValidationError as exc:
        problems = [
            f"LT_{'_'.join(str(p) for p in e['loc'][:1]).upper()}={e['input']!r}: {e['msg']}" for e in exc.errors()
        ]
        raise ValueError("; ".join(problems)) from None


class NotRunningError(RuntimeError):
    """No broker or database is configured or running: a dependency, not bad input."""
