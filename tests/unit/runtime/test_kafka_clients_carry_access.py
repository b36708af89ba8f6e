"""No Kafka client of the product is built with an address alone: every aiokafka producer,
consumer and admin client takes this process's access (`**kafkaaccess.options()`), and the
monitor's faust app its credentials, so on a secured cluster nothing connects in plain text.
(The agencies' end-offset reader was one: every agency's /progress answered "no answer from the
broker" on the secured cluster, and sim time never moved.) Scanned from the source, so a client
added later without it fails here."""

from __future__ import annotations

import ast

from tests.unit.product_scan import ROOT, product_modules

CLIENTS = {"AIOKafkaProducer", "AIOKafkaConsumer", "AIOKafkaAdminClient"}


def _name(func: ast.expr) -> str:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def _carries_access(call: ast.Call) -> bool:
    for keyword in call.keywords:
        if keyword.arg is None and "kafkaaccess.options" in ast.unparse(keyword.value):
            return True
        if keyword.arg == "broker_credentials":
            return True
    return False


def _builds_kafka(call: ast.Call) -> bool:
    """A client constructor, a factory called with a bootstrap address, or a faust app."""
    name = _name(call.func)
    if name in CLIENTS or (name == "App" and "faust" in ast.unparse(call.func)):
        return True
    return any(k.arg == "bootstrap_servers" for k in call.keywords)


def test_every_kafka_client_of_the_product_takes_the_process_s_access() -> None:
    bare: list[str] = []
    found = 0
    for path in product_modules():
        if path.name == "bare_agent.py":  # the benchmark's faust baseline: plain text by design
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and _builds_kafka(node):
                found += 1
                if not _carries_access(node):
                    bare.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert found >= 15, found  # the scan sees the clients (a broken scan finds none)
    assert bare == [], bare
