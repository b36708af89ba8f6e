"""What the secured local Kafka cluster (`lienthong up --broker kafka`) refuses, tried from outside
the product on a stack that has just run: an agency's principal writing to a topic that is not its
to write (an authorization error, and the denial in the brokers' log), a client with a wrong
password, a client on TLS with no SASL at all, and a plain-text client. Each attempt is bounded
in time; a refusal is an error, never a hang."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError, TopicAuthorizationFailedError

from contracts.topics import PRIMER_HEADER
from runtime.kafkaaccess import KafkaAccess

ATTEMPT_S = 30.0
PRIMER = [(PRIMER_HEADER, b"1")]
"""Marked as a primer, so that a message that does get through is skipped by every consumer."""


def stack_access(home: Path, principal: str) -> tuple[str, KafkaAccess]:
    stack = json.loads((home / "stack.json").read_text(encoding="utf-8"))
    assert stack.get("kafka_security_protocol") == "SASL_SSL", "the stack's Kafka cluster is not secured"
    secrets = Path(stack["kafka_secrets_dir"])
    access = KafkaAccess(
        "SASL_SSL",
        username=principal,
        password=(secrets / f"{principal}.password").read_text(encoding="utf-8").strip(),
        ca_file=Path(stack["kafka_ca_file"]),
    )
    return stack["kafka_bootstrap"], access


async def _refused_at_start(bootstrap: str, **options: Any) -> str:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, request_timeout_ms=5000, **options)
    try:
        await asyncio.wait_for(producer.start(), ATTEMPT_S)
    except KafkaError as exc:
        return type(exc).__name__
    finally:
        await producer.stop()
    raise AssertionError(f"the cluster accepted a client with {sorted(options) or 'no security'}")


async def refusals(home: Path, prefix: str = "lt") -> dict[str, str]:
    """Each attempt's outcome; raises when one got through."""
    bootstrap, lltp = stack_access(home, "lltp")
    out: dict[str, str] = {}
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, request_timeout_ms=5000, **lltp.options())
    await asyncio.wait_for(producer.start(), ATTEMPT_S)
    try:
        # Its own work topic is its to write (a primer: nobody acts on it) ...
        await asyncio.wait_for(producer.send_and_wait(f"{prefix}.work.lltp", b"", headers=PRIMER), ATTEMPT_S)
        out["own topic"] = "written"
        # ... residence's is not: a forged handoff from the criminal-records system.
        try:
            await asyncio.wait_for(producer.send_and_wait(f"{prefix}.work.cutru", b"forged", headers=PRIMER), ATTEMPT_S)
        except TopicAuthorizationFailedError as exc:
            out["another agency's topic"] = type(exc).__name__
        else:
            raise AssertionError("lltp wrote to residence's work topic")
    finally:
        await producer.stop()
    wrong = KafkaAccess("SASL_SSL", username="lltp", password="not-the-password", ca_file=lltp.ca_file)
    out["wrong password"] = await _refused_at_start(bootstrap, **wrong.options())
    out["no credentials (TLS only)"] = await _refused_at_start(
        bootstrap, security_protocol="SSL", ssl_context=lltp.ssl_context()
    )
    out["plain text"] = await _refused_at_start(bootstrap)
    return out


def denials(home: Path, principal: str, topic: str) -> list[str]:
    """The brokers' log lines in which the authorizer denied `principal` a write to `topic`."""
    lines = []
    for log in sorted((home / "logs").glob("kafka-*.log")):
        for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
            if f"User:{principal} is Denied" in line and "WRITE" in line.upper() and topic in line:
                lines.append(line)
    return lines
