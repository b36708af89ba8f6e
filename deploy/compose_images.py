"""How each image of deploy/compose.yaml runs as a local process for `lienthong compose check`.

- Our image: the service's command and healthcheck run as written, from this checkout's
  environment, with the container's variables only (nothing of the caller's environment leaks
  in), in a folder standing for the container's filesystem where the Dockerfile's folders exist
  and its user's home does not.
- apache/kafka: the same jars (deploy/kafka/pom.xml, at the image's version) and the image's own
  start-up code, `kafka.docker.KafkaDockerWrapper`, which turns the KAFKA_* variables into the
  broker's configuration and formats the storage with CLUSTER_ID; then `kafka.Kafka` on that
  configuration. Its healthcheck's `/opt/kafka/bin` script runs as the class the script runs.
- postgres: the embedded PostgreSQL's binaries, initialised as the image's entrypoint does
  (POSTGRES_USER as the superuser with POSTGRES_PASSWORD, password authentication over TCP,
  POSTGRES_DB created), its healthcheck's `pg_isready` pointed at the container's server.
- nginx (the portal's proxy) is not run: the check reaches each portal replica itself."""

from __future__ import annotations

import asyncio
import os
import secrets
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from deploy import embedded, kafka_cluster
from deploy.compose_file import BuiltImage, ComposeError
from deploy.compose_plan import Container, family, localize_text
from deploy.polling import until_async
from deploy.readiness import log_tail

KAFKA_DEFAULTS = Path(__file__).resolve().parent / "kafka" / "docker"
"""The image's /etc/kafka/docker: the configuration its wrapper starts from."""
KAFKA_SCRIPTS = {
    "kafka-broker-api-versions.sh": "org.apache.kafka.tools.BrokerApiVersionsCommand",
    "kafka-topics.sh": "org.apache.kafka.tools.TopicsCommand",
    "kafka-storage.sh": "kafka.tools.StorageTool",
}
"""The image's scripts a healthcheck may name, and the class each runs."""
KAFKA_JVM = ["-server", "-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20", "-Djava.awt.headless=true"]
"""kafka-run-class.sh's default KAFKA_JVM_PERFORMANCE_OPTS."""
PYTHON_IMAGE_ENV = {"LANG": "C.UTF-8"}
"""What python:3.11-slim sets for every image built on it."""
NOT_RUN = {"nginx": "the proxy is not run: the check reaches each portal replica itself"}


class ContainerFailed(RuntimeError):
    """A container would not start or stay up; the message names it and quotes its log."""


@dataclass
class Started:
    container: Container
    process: subprocess.Popen[bytes] | None
    log: Path
    note: str = ""


def start(container: Container, built: BuiltImage, logs: Path) -> Started:
    """Start the container's stand-in (blocking until it is launched; postgres until initialised)."""
    logs.mkdir(parents=True, exist_ok=True)
    log = logs / f"{container.name}.log"
    if container.ours:
        return Started(container, _ours(container, built, log), log)
    kind = family(container.image)
    if kind in NOT_RUN:
        return Started(container, None, log, NOT_RUN[kind])
    if kind == "apache/kafka":
        return Started(container, _kafka(container, log), log)
    if kind == "postgres":
        return Started(container, _postgres(container, log), log)
    raise ComposeError(f"services.{container.service}: no local stand-in for the image {container.image}")


def health_command(container: Container, built: BuiltImage) -> tuple[list[str], dict[str, str]] | None:
    """The container's healthcheck as a local command and its environment; None: it has none."""
    test = list(container.healthcheck)
    if not test or test[0] == "NONE":
        return None
    form, args = test[0], test[1:]
    if container.ours:
        env = our_env(container)
        if form == "CMD":
            return our_argv(args), env
        return ["/bin/sh", "-c", " ".join(args)], env
    words = [w for w in shlex.split(localize_text(container, " ".join(args))) if not _redirection(w)]
    if form == "CMD" and len(args) > 0:
        words = [localize_text(container, a) for a in args]
    tool = Path(words[0]).name
    kind = family(container.image)
    if kind == "apache/kafka" and tool in KAFKA_SCRIPTS:
        java = ["java", "-Xmx256m", f"-Dlog4j2.configurationFile={KAFKA_DEFAULTS / 'tools-log4j2.yaml'}"]
        return [*java, "-cp", f"{kafka_cluster.ensure_jars()}/*", KAFKA_SCRIPTS[tool], *words[1:]], _tool_env()
    if kind == "postgres" and tool == "pg_isready":
        port = container.ports[5432]
        return [str(embedded.postgres_bin() / tool), *words[1:], "-h", "127.0.0.1", "-p", str(port)], _tool_env()
    raise ComposeError(f"services.{container.service}: no local stand-in for its healthcheck {tool}")


def _redirection(word: str) -> bool:
    return word.lstrip("0123456789").startswith((">", "<"))


def _tool_env() -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **PYTHON_IMAGE_ENV}


# --- our image ---------------------------------------------------------------------------------


def our_argv(command: list[str] | tuple[str, ...]) -> list[str]:
    """The command as the image would run it: `python` is the image's interpreter, the rest are
    the scripts its environment installs (here: this checkout's)."""
    if not command:
        raise ComposeError("a service of our image has no command")
    head, *rest = command
    if head == "python":
        return [sys.executable, *rest]
    script = Path(sys.executable).parent / head
    if not script.exists():
        raise ComposeError(f"the image installs no command {head!r}")
    return [str(script), *rest]


def our_env(container: Container) -> dict[str, str]:
    venv = Path(sys.executable).parent
    return {**PYTHON_IMAGE_ENV, **container.local_env, "PATH": f"{venv}:/usr/local/bin:/usr/bin:/bin"}


def _ours(container: Container, built: BuiltImage, log: Path) -> subprocess.Popen[bytes]:
    for folder in built.writable:
        container.local_path(folder).mkdir(parents=True, exist_ok=True)
    cwd = container.local_path(built.workdir)
    cwd.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        return subprocess.Popen(
            our_argv(container.command),
            cwd=cwd,
            env=our_env(container),
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )


# --- apache/kafka ------------------------------------------------------------------------------


def _same_version(image: str) -> None:
    tag = image.rsplit(":", 1)[1] if ":" in image.rsplit("/", 1)[-1] else "latest"
    ours = kafka_cluster.kafka_version()
    if tag != ours:
        raise ComposeError(f"the compose file runs {image}, and the local jars are Kafka {ours}: change one")


def _kafka(container: Container, log: Path) -> subprocess.Popen[bytes]:
    _same_version(container.image)
    lib = kafka_cluster.ensure_jars()
    final, mounted = container.local_path("/opt/kafka/config"), container.local_path("/mnt/shared/config")
    for folder in (final, mounted):
        folder.mkdir(parents=True, exist_ok=True)
    for key in ("KAFKA_LOG_DIRS",):
        if key in container.local_env:
            Path(container.local_env[key]).mkdir(parents=True, exist_ok=True)
    env = {**container.local_env, **_tool_env()}
    setup = subprocess.run(
        [
            *("java", "-Xmx256m", "-cp", f"{lib}/*", "kafka.docker.KafkaDockerWrapper", "setup"),
            *("-D", str(KAFKA_DEFAULTS), "-M", str(mounted), "-F", str(final)),
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    log.write_text(setup.stdout + setup.stderr)
    if setup.returncode != 0:
        raise ContainerFailed(
            f"{container.name}: the image's setup (configuration, storage format) failed:\n{tail(log)}"
        )
    heap = shlex.split(env.get("KAFKA_HEAP_OPTS", "-Xmx1G -Xms1G"))
    with open(log, "ab") as out:
        return subprocess.Popen(
            [
                *("java", *heap, *KAFKA_JVM, f"-Dlog4j2.configurationFile={final / 'log4j2.yaml'}"),
                *("-cp", f"{lib}/*", "kafka.Kafka", str(final / "server.properties")),
            ],
            env={**env, "LOG_DIR": str(container.local_path("/opt/kafka/logs"))},
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )


# --- postgres ----------------------------------------------------------------------------------


def _postgres(container: Container, log: Path) -> subprocess.Popen[bytes]:
    env = container.env
    user_name, password = env.get("POSTGRES_USER", "postgres"), env.get("POSTGRES_PASSWORD", "")
    if not password:
        raise ComposeError(
            f"services.{container.service}: the postgres image refuses to start without POSTGRES_PASSWORD"
        )
    data = container.local_path(env.get("PGDATA", "/var/lib/postgresql/data"))
    private = container.local_path("/var/run/postgresql")  # the initial password passes through here
    for folder in (data, private):
        folder.mkdir(parents=True, exist_ok=True)
    owner = embedded.own_for_postgres(data, private)
    pwfile = private / f".pw-{secrets.token_hex(4)}"
    pwfile.write_text(password + "\n")
    embedded.give_to(owner, pwfile)
    with open(log, "ab") as out:
        subprocess.run(
            [
                *(str(embedded.postgres_bin() / "initdb"), "-D", str(data), "-U", user_name, f"--pwfile={pwfile}"),
                *(
                    "--auth-local=trust",
                    "--auth-host=scram-sha-256",
                    "--encoding=UTF8",
                    "--locale=C.UTF-8",
                    "--no-sync",
                ),
            ],
            check=True,
            user=owner,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        pwfile.unlink()
        port = container.ports[5432]
        proc = embedded.spawn_postgres(data, port, out, owner)
    url = f"postgresql://{user_name}:{password}@127.0.0.1:{port}/postgres"
    try:
        asyncio.run(_create_database(url, env.get("POSTGRES_DB", user_name), log, proc))
    except BaseException:
        embedded.stop_pid(proc.pid, timeout=15)
        proc.poll()
        raise
    return proc


async def _create_database(url: str, name: str, log: Path, server: subprocess.Popen[bytes]) -> None:
    """What the image's entrypoint does once initdb is done: create POSTGRES_DB."""

    async def connect() -> asyncpg.Connection:
        if server.poll() is not None:  # it will never take one: say so now, not after the wait
            raise ContainerFailed(f"PostgreSQL exited ({server.returncode}):\n{tail(log)}")
        return await asyncpg.connect(url, timeout=5)

    conn = await until_async(connect, 60, every=0.2, not_yet=(asyncpg.CannotConnectNowError, OSError, TimeoutError))
    if conn is None:
        raise ContainerFailed(f"PostgreSQL took no connection within 60 s:\n{tail(log)}")
    try:
        if name != "postgres" and not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


def tail(log: Path) -> str:
    return log_tail(log, 15)
