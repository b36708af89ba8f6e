"""The CLI's exit codes, the same for every command, and the one line a failure prints.

| code | meaning |
|---|---|
| 0 | done, and every check passed |
| 1 | done, and a check failed (violations, false alerts, dossiers left, a test shape's threshold) |
| 2 | usage or bad input (an unknown flag, a bad profile or fault file, a bad value) |
| 3 | a dependency could not be reached (PostgreSQL, the broker, a service's HTTP port) |
| 130 | stopped with Ctrl-C |
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass

from runtime.settings import NotRunningError

OK = 0
CHECK_FAILED = 1
BAD_INPUT = 2
UNREACHABLE = 3
INTERRUPTED = 130


@dataclass(frozen=True)
class Dependency:
    component: str
    setting: str


KAFKA_SETTINGS = (
    "LT_KAFKA_BOOTSTRAP, and on a secured cluster LT_KAFKA_SECURITY_PROTOCOL, LT_KAFKA_USERNAME, "
    "LT_KAFKA_CA_FILE (or start the stack: lienthong up)"
)
_BY_MODULE = (
    ("asyncpg", Dependency("PostgreSQL", "LT_DATABASE_URL (or start the stack: lienthong up)")),
    ("aiokafka", Dependency("the Kafka broker", KAFKA_SETTINGS)),
    ("kafka", Dependency("the Kafka broker", KAFKA_SETTINGS)),
    ("aiohttp", Dependency("a service's HTTP port", "lienthong status, LT_PORTAL_PORT, LT_DASHBOARD_PORT")),
)


def unreachable(exc: BaseException) -> Dependency | None:
    """Which dependency a connection failure came from, judged by the library that raised it
    (the innermost frame of a known client library), or None when it is no connection failure."""
    if isinstance(exc, NotRunningError):
        return Dependency("the stack", "")
    if not _is_connection_failure(exc):
        return None
    modules = [f.filename for f in traceback.extract_tb(exc.__traceback__)]
    for path in reversed(modules):
        for name, dependency in _BY_MODULE:
            if f"/{name}/" in path:
                return dependency
    return Dependency("a dependency", "lienthong status, LT_DATABASE_URL, LT_KAFKA_BOOTSTRAP")


def _is_connection_failure(exc: BaseException) -> bool:
    if isinstance(exc, ConnectionError | TimeoutError):
        return True
    if isinstance(exc, OSError) and exc.errno is not None:
        return True  # "Connect call failed", host unreachable, name not resolved
    kind = type(exc).__name__
    return kind in {"KafkaConnectionError", "NoBrokersAvailable", "CannotConnectNowError", "ClientConnectorError"}


def one_line(dependency: Dependency, exc: BaseException) -> str:
    reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    check = f" (check {dependency.setting})" if dependency.setting else ""
    return f"lienthong: cannot reach {dependency.component}: {reason}{check}"
