"""`lienthong status`: each component of the stack (each Kafka node, each replica with the
partitions it owns) with its address, pid, restarts and health."""

from __future__ import annotations

import asyncio
import contextlib
from typing import TypedDict

import aiohttp
import asyncpg

from deploy import kafka_cluster
from deploy.embedded import pid_alive, port_open
from deploy.processes import PROCESSES, process_of
from deploy.state import BrokerRecord, StackState
from runtime import kafkaaccess
from runtime.settings import PlatformSettings


class Component(TypedDict, total=False):
    component: str
    address: str | None
    pid: int | None
    restarts: int
    healthy: bool | None
    partitions: str | None


def status(settings: PlatformSettings) -> list[Component]:
    state = StackState(settings.home.resolve())
    stack = state.stack()
    rows: list[Component] = []
    bootstrap = settings.kafka_bootstrap or stack.get("kafka_bootstrap")
    broker = stack.get("broker", {})
    rows.append(
        {
            "component": "broker" if broker.get("kind") != "kafka" else _cluster(broker),
            "address": bootstrap,
            "pid": broker.get("pid"),
            "healthy": asyncio.run(_broker_ok(bootstrap)) if bootstrap else False,
        }
    )
    for node in broker.get("nodes", []):
        rows.append(
            {
                "component": f"kafka-{node['node_id']}",
                "address": f"127.0.0.1:{node['port']} (controller :{node['controller_port']})",
                "pid": node.get("pid"),
                "healthy": kafka_cluster.node_alive(node),
            }
        )
    url = settings.database_url or stack.get("database_url")
    rows.append(
        {
            "component": "database",
            "address": _safe_url(url),
            "pid": stack.get("postgres", {}).get("pid"),
            "healthy": asyncio.run(_db_ok(url)) if url else False,
        }
    )
    sup = state.supervisor()
    services = state.services()
    names = list(services.get("services", {})) or list(PROCESSES)
    for name in PROCESSES:
        if name in services.get("external", []):
            rows.append({"component": name, "address": "external", "pid": None, "healthy": None})
            continue
        for replica in [n for n in names if process_of(n) == name]:
            child = sup.get("services", {}).get(replica, {})
            port = child.get("port") or services.get("services", {}).get(replica)
            health = asyncio.run(_health(port)) if port else None
            rows.append(
                {
                    "component": replica,
                    "address": f"http://127.0.0.1:{port}" if port else None,
                    "pid": child.get("pid"),
                    "restarts": child.get("restarts", 0),
                    "healthy": health is not None,
                    "partitions": _partitions(health),
                }
            )
    alerting = stack.get("alerting", {})
    for name, one in (
        ("alertmanager", alerting.get("alertmanager", {})),
        ("prometheus", alerting.get("prometheus", {})),
    ):
        port = one.get("port")
        if port:
            rows.append(
                {
                    "component": name,
                    "address": f"http://127.0.0.1:{port}",
                    "pid": one.get("pid"),
                    "healthy": port_open(port) and pid_alive(one.get("pid")),
                }
            )
    return rows


def _partitions(health: dict[str, object] | None) -> str | None:
    """The partitions a process owns, as its /healthz reports them (`0,2`): of its work topic,
    or of the event topic for the monitor."""
    owned = (health or {}).get("partitions")
    if not isinstance(owned, list):
        return None
    return ",".join(str(p) for p in owned) or "none"


async def _health(port: int) -> dict[str, object] | None:
    """The /healthz body of a process that answers healthy; None otherwise."""
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as http:
        try:
            async with http.get(f"http://127.0.0.1:{port}/healthz") as r:
                if r.status != 200:
                    return None
                body = await r.json(content_type=None)
                return body if isinstance(body, dict) else {}
        except (TimeoutError, aiohttp.ClientError, OSError, ValueError):
            return None


async def _broker_ok(bootstrap: str) -> bool:
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=3000, **kafkaaccess.options())
    try:
        await asyncio.wait_for(admin.start(), 5)
        await asyncio.wait_for(admin.list_topics(), 5)
        return True
    except Exception:
        return False
    finally:
        with contextlib.suppress(Exception):
            await admin.close()


async def _db_ok(url: str) -> bool:
    try:
        conn = await asyncpg.connect(url, timeout=3)
        await conn.close()
        return True
    except Exception:
        return False


def _safe_url(url: str | None) -> str | None:
    """A database URL without its password."""
    if not url or "@" not in url:
        return url
    scheme, rest = url.split("://", 1)
    creds, host = rest.rsplit("@", 1)
    return f"{scheme}://{creds.split(':', 1)[0]}@{host}"


def _cluster(broker: BrokerRecord) -> str:
    how = "secured" if broker.get("secured") else "plain text"
    return f"kafka ({len(broker.get('nodes', []))} nodes, {how})"
