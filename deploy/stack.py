"""`lienthong up / down / status`: the embedded stack and the supervised services."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import asyncpg

from contracts import topics
from contracts.topics import AGENCIES
from deploy import alerting, kafka_acls, kafka_cluster, kafka_security
from deploy.embedded import pid_alive, port_open, start_broker, start_postgres, stop_pid
from deploy.processes import PROCESSES, process_of, replica_names
from deploy.readiness import service_ports, wait_healthy
from deploy.state import BrokerRecord, StackRecord, StackState
from runtime import kafkaaccess
from runtime.db import ensure_database
from runtime.primers import prime, primer_value
from runtime.settings import PlatformSettings, Settings, StackSettings
from runtime.terminal import Console
from runtime.topicadmin import delete_topics, ensure_topics, ensure_topics_ready

DATABASE = "lienthong"
RESET_SCHEMAS: tuple[str, ...] = (*AGENCIES, "monitor", "sim", "console")
"""Schemas a new simulation wipes: the simulators', the monitor's, the ground truth and the
console's worklog (its incidents are the old run's)."""


def up(
    settings: Settings, console: Console, external: list[str] | None = None, replicas: dict[str, int] | None = None
) -> Settings:
    """Start whatever is not running; return settings that point at the running stack."""
    settings, stack = ensure_infra(settings, console)
    _ensure_services(settings, settings.home.resolve(), stack, console, external or [], replicas=replicas)
    return settings


def start_fresh(
    settings: Settings,
    console: Console,
    external: list[str],
    clock: dict[str, str | float],
    env: dict[str, str],
    replicas: dict[str, int] | None = None,
) -> Settings:
    """A new simulation: stop the services, wipe the simulators' state (schemas and topics, since
    sim time starts over), and start the services again on `clock` (Settings field → value)
    with the extra `env`. The broker and PostgreSQL keep running."""
    settings, stack = ensure_infra(settings, console)
    home = settings.home.resolve()
    stop_services(home, console)
    console.step("resetting the simulators' state (schemas and topics)")
    settings = settings.replace(**clock)
    asyncio.run(reset_state(settings, embedded=stack.get("broker", {}).get("kind") == "tansu"))
    stack["clock"] = clock
    StackState(home).save_stack(stack)
    if external:
        # The contract's rule "attach": an external system joins after the topics exist, and reads
        # the clock this run wrote.
        console.step(
            f"start {', '.join(external)}'s system now: the topics are new, and the clock is "
            f"{clock.get('sim_clock_file') or 'steady (LT_SIM_EPOCH, LT_SIM_ANCHOR, LT_SIM_SPEED)'} "
            f"(stack.json → clock)"
        )
    _ensure_services(settings, home, stack, console, external, env, replicas)
    return settings


def ensure_infra(settings: Settings, console: Console) -> tuple[Settings, StackRecord]:
    """The broker and PostgreSQL, started if they are not running (nothing else)."""
    home = settings.home.resolve()
    (home / "logs").mkdir(parents=True, exist_ok=True)
    state = StackState(home)
    stack = state.stack()
    if settings.external_infra:
        console.step(f"external broker {settings.kafka_bootstrap} and database; nothing embedded started")
        stack.update(
            {
                "external": True,
                "kafka_bootstrap": settings.kafka_bootstrap or "",
                "database_url": settings.database_url or "",
            }
        )
    else:
        broker = _ensure_broker(settings, home, stack, console)
        # Recorded before anything else starts: if PostgreSQL then fails, `down` still finds the
        # broker, which would otherwise run on unknown to every later command.
        stack.update({"broker": broker, "kafka_bootstrap": broker["bootstrap"]})
        for key in ("kafka_security_protocol", "kafka_ca_file", "kafka_secrets_dir"):
            stack.pop(key, None)  # type: ignore[misc]
        if broker.get("secured"):
            made = kafka_security.ensure(home)
            stack.update(
                {
                    "kafka_security_protocol": "SASL_SSL",
                    "kafka_ca_file": str(made.ca_pem),
                    "kafka_secrets_dir": str(made.secrets_dir),
                }
            )
        state.save_stack(stack)
        postgres = stack.get("postgres", {})
        if not (pid_alive(postgres.get("pid")) and port_open(postgres.get("port", 0))):
            console.step("starting embedded PostgreSQL")
            postgres = start_postgres(home)
        url = postgres["admin_url"].rsplit("/", 1)[0] + f"/{DATABASE}"
        stack.update({"postgres": postgres, "database_url": url})
    state.save_stack(stack)
    settings = settings.replace(
        kafka_bootstrap=stack["kafka_bootstrap"],
        database_url=stack["database_url"],
        **_access_fields(settings, stack),
    )
    # This command acts as the operator from here on (on a secured cluster: topics and ACLs need it).
    kafkaaccess.configure(settings, kafkaaccess.OPERATOR)
    if stack.get("broker", {}).get("secured"):
        acls = kafka_acls.plan(settings.topic_prefix, settings.chains())
        sent = asyncio.run(kafka_acls.apply(stack["kafka_bootstrap"], acls))
        console.step(f"Kafka secured: TLS, SASL/SCRAM-SHA-512, {sent} ACLs for {len(kafka_acls.PRINCIPALS)} principals")
    asyncio.run(_prepare(settings, stack.get("postgres", {}).get("admin_url")))
    return settings, stack


def _access_fields(settings: PlatformSettings, stack: StackRecord) -> dict[str, object]:
    """How the stack's broker is reached: an external one as the environment says; the local
    Kafka cluster over SASL_SSL with its own CA and secrets; the embedded broker in plain text."""
    if stack.get("external"):
        return {}
    if "kafka_security_protocol" in stack:
        return {
            "kafka_security_protocol": stack["kafka_security_protocol"],
            "kafka_ca_file": stack.get("kafka_ca_file"),
            "kafka_secrets_dir": stack.get("kafka_secrets_dir"),
        }
    return {"kafka_security_protocol": "PLAINTEXT", "kafka_ca_file": None, "kafka_secrets_dir": None}


def _ensure_broker(settings: StackSettings, home: Path, stack: StackRecord, console: Console) -> BrokerRecord:
    """The broker `settings` asks for (LT_BROKER / --broker; else the one running; else Tansu),
    started if it is not running. Another kind, or a cluster of another size, is stopped first."""
    broker: BrokerRecord = stack.get("broker", {})
    running = broker.get("kind", "tansu") if broker else None
    kind = settings.broker or running or "tansu"
    size = settings.brokers or len(broker.get("nodes", [])) or 3
    secured = not settings.kafka_plaintext
    other_cluster = kind == "kafka" and (len(broker.get("nodes", [])) != size or bool(broker.get("secured")) != secured)
    if running and (running != kind or other_cluster):
        console.step(f"switching the broker from {_describe(broker)} to {kind}: stopping the services and the old one")
        stop_services(home, console)
        _stop_broker(broker, console)
        broker = {}
    if kind == "kafka":
        nodes = broker.get("nodes", [])
        if not nodes or not all(kafka_cluster.node_alive(n) for n in nodes):
            if not kafka_cluster.jars_ready():
                console.step("assembling Apache Kafka's jars from Maven Central (first use only: a minute or two)")
            how = "TLS, SASL/SCRAM, ACLs" if secured else "plain text: LT_KAFKA_PLAINTEXT, for benchmarks only"
            console.step(f"starting Apache Kafka {kafka_cluster.VERSION} (KRaft, {size} nodes on loopback; {how})")
            broker = kafka_cluster.start_cluster(home, size, broker or None, secured=secured)
            access = kafkaaccess.KafkaAccess()
            if broker.get("secured"):
                made = kafka_security.ensure(home)
                access = kafkaaccess.KafkaAccess("SASL_SSL", ca_file=made.ca_pem, secrets_dir=made.secrets_dir)
            kafkaaccess.use(access.as_principal(kafkaaccess.OPERATOR))
            asyncio.run(kafka_cluster.wait_registered(broker["bootstrap"], size))
        return broker
    if not (pid_alive(broker.get("pid")) and port_open(broker.get("port", 0))):
        console.step(
            "starting the embedded broker (Tansu: plain text on loopback, no TLS or SASL; --broker kafka is secured)"
        )
        broker = start_broker(home)
    return broker


def _describe(broker: BrokerRecord) -> str:
    if broker.get("kind") == "kafka":
        how = "secured" if broker.get("secured") else "plain text"
        return f"Kafka ({len(broker.get('nodes', []))} nodes, {how})"
    return "Tansu"


def _stop_broker(broker: BrokerRecord, console: Console) -> None:
    if broker.get("kind") == "kafka":
        pids = [n["pid"] for n in broker.get("nodes", []) if pid_alive(n.get("pid"))]
        if pids:
            console.step(f"stopping Apache Kafka (pids {', '.join(map(str, pids))})")
            kafka_cluster.stop_nodes(pids)
    elif broker.get("pid"):
        console.step(f"stopping the broker (pid {broker['pid']})")
        stop_pid(broker["pid"], signal.SIGTERM)


async def reset_state(settings: Settings, *, embedded: bool) -> None:
    """Drop the simulators' schemas and make the topics anew; on the embedded broker, each
    partition then gets its primer (runtime/primers.py), before any service or external system
    writes."""
    bootstrap, url = settings.require_infra()
    conn = await asyncpg.connect(url)
    try:
        for schema in RESET_SCHEMAS:
            await conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    finally:
        await conn.close()
    names = topics.all_topics(settings.topic_prefix)
    await delete_topics(bootstrap, names)
    await ensure_topics_ready(bootstrap, names, settings.partitions, settings.topic_layout())
    if embedded:
        await prime(bootstrap, names, settings.partitions, primer_value(settings.topic_prefix, settings.clock().epoch))


def stop_services(home: Path, console: Console) -> None:
    """Stop the supervisor and every service it runs; the broker and PostgreSQL stay up."""
    state = StackState(home)
    sup = state.supervisor()
    for pid in {p for p in (state.stack().get("supervisor", {}).get("pid"), sup.get("pid")) if p}:
        if pid_alive(pid):
            console.step(f"stopping services (supervisor pid {pid})")
            stop_pid(pid, signal.SIGTERM, timeout=30)
    for child in sup.get("services", {}).values():  # in case the supervisor died first
        orphan = child.get("pid")
        if orphan and pid_alive(orphan):
            stop_pid(orphan, signal.SIGTERM)
    state.forget_supervisor()


async def _prepare(settings: PlatformSettings, admin_url: str | None) -> None:
    if admin_url:
        await ensure_database(admin_url, DATABASE)
    bootstrap, _ = settings.require_infra()
    await ensure_topics(
        bootstrap, topics.all_topics(settings.topic_prefix), settings.partitions, settings.topic_layout()
    )


def _ensure_services(
    settings: Settings,
    home: Path,
    stack: StackRecord,
    console: Console,
    external: list[str],
    extra_env: dict[str, str] | None = None,
    replicas: dict[str, int] | None = None,
) -> None:
    """Start (or reconcile) the supervised processes. `replicas` changes the count of the named
    processes; the others keep the count the stack had."""
    unknown = set(external) - set(PROCESSES)
    if unknown:
        raise ValueError(
            f"--external names unknown services: {', '.join(sorted(unknown))} (expected one of {', '.join(PROCESSES)})"
        )
    state = StackState(home)
    previous_spec = state.services()
    previous = previous_spec.get("services", {})
    counts = {**previous_spec.get("replicas", {}), **(replicas or {})}
    wanted = [r for a in PROCESSES if a not in external for r in replica_names(a, counts.get(a, 1))]
    fixed = {"portal": settings.portal_port, "dashboard": settings.dashboard_port}
    services = service_ports(wanted, previous, fixed)
    # The last run's clock and parameters stay in force until the next run sets new ones.
    env = {
        k: v for k, v in previous_spec.get("env", {}).items() if k.startswith(("LT_SIM_", "LT_LLTP_", "LT_SIMULATION"))
    }
    env.update({k: v for k, v in os.environ.items() if k.startswith("LT_")})
    env.update(extra_env or {})
    if "dancu" in services and not env.get("LT_DANCU_URL"):
        # The agencies check identities against the stack's own population database, unless the
        # operator named another (an external one: `--external dancu` with LT_DANCU_URL).
        env["LT_DANCU_URL"] = f"http://127.0.0.1:{services['dancu']}"
    env.update(
        {
            "LT_KAFKA_BOOTSTRAP": settings.kafka_bootstrap or "",
            "LT_DATABASE_URL": settings.database_url or "",
            "LT_HOME": str(home),
            "LT_KAFKA_SECURITY_PROTOCOL": settings.kafka_security_protocol,
        }
    )
    if stack.get("broker", {}).get("secured"):
        # Each process is its own principal (its role), its password in the stack's secrets.
        env.update(LT_KAFKA_CA_FILE=str(settings.kafka_ca_file), LT_KAFKA_SECRETS_DIR=str(settings.kafka_secrets_dir))
        for key in ("LT_KAFKA_USERNAME", "LT_KAFKA_PASSWORD"):
            env.pop(key, None)
    modules = {name: PROCESSES[process_of(name)] for name in wanted}
    counts = {k: v for k, v in counts.items() if v > 1}
    state.save_services(
        {"services": services, "modules": modules, "env": env, "external": external, "replicas": counts}
    )
    supervisor = state.supervisor().get("pid")
    if supervisor and pid_alive(supervisor):
        os.kill(supervisor, signal.SIGHUP)
    else:
        for name, variable in (("portal", "LT_PORTAL_PORT"), ("dashboard", "LT_DASHBOARD_PORT")):
            if name in services and port_open(services[name]):
                # Someone else's server (another stack?) would answer our health checks and our runs.
                raise RuntimeError(
                    f"port {services[name]} is already in use by another process: stop it, or set {variable}"
                )
        console.step(
            f"starting services: {', '.join(wanted)}" + (f" (external: {', '.join(external)})" if external else "")
        )
        with open(home / "logs" / "supervisor.log", "ab") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "deploy.supervisor"],
                env={**os.environ, "LT_HOME": str(home)},
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                cwd=Path(__file__).resolve().parents[1],
            )
        stack["supervisor"] = {"pid": proc.pid}
        state.save_stack(stack)
    asyncio.run(wait_healthy(services, external, timeout=90, logs=home / "logs"))
    if settings.alerting:
        _start_alerting(settings, home, stack, services, console)


def _start_alerting(
    settings: Settings, home: Path, stack: StackRecord, services: dict[str, int], console: Console
) -> None:
    """Prometheus and Alertmanager on this stack's processes (deploy/alerting.py), started anew
    so that their targets are the processes running now."""
    alerting.stop(stack.pop("alerting", {}))
    console.step("starting Prometheus and Alertmanager (the shipped rules and route, deploy/prometheus/)")
    plan = alerting.Plan(
        interval_s=settings.alert_interval_s,
        group_wait_s=settings.alert_group_wait_s,
        group_interval_s=settings.alert_group_interval_s,
        webhook_url=settings.alert_webhook_url,
        smtp=settings.alert_smtp,
        mail_to=settings.alert_mail_to,
        console_url=settings.console_url or f"http://127.0.0.1:{settings.dashboard_port}",
    )
    stack["alerting"] = alerting.start(home, services, plan)
    StackState(home).save_stack(stack)
    am, prom = stack["alerting"]["alertmanager"]["port"], stack["alerting"]["prometheus"]["port"]
    console.step(f"alerting: Prometheus http://127.0.0.1:{prom}, Alertmanager http://127.0.0.1:{am}")


def down(settings: PlatformSettings, console: Console) -> None:
    home = settings.home.resolve()
    state = StackState(home)
    stack = state.stack()
    stop_services(home, console)
    if stack.get("alerting"):
        console.step("stopping Prometheus and Alertmanager")
        alerting.stop(stack["alerting"])
    postgres = stack.get("postgres", {}).get("pid")
    if postgres:
        console.step(f"stopping PostgreSQL (pid {postgres})")
        stop_pid(postgres, signal.SIGINT, timeout=30)
    _stop_broker(stack.get("broker", {}), console)
    state.forget_stack()
    console.step("stopped")
