"""The personal-data check of a whole run: every log line every process wrote, every metric label
every process serves and every dead letter on the topic, searched for an unmasked personal ID
number or a full name of the run's citizens (read from the portal's dossiers, as an auditor).

Logs are JSON or console lines; a JSON line is decoded first, so a name written with `\\u`
escapes is found too. A name is searched as a run of words (three or four, as the generator
makes them), after NFC normalisation."""

from __future__ import annotations

import asyncio
import json
import re
import unicodedata
import urllib.request
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import asyncpg

ID = re.compile(r"(?<!\d)\d{12}(?!\d)")
WORD = re.compile(r"[^\W\d_]+")
NAME_KEYS = ("full_name",)


async def citizens(url: str) -> tuple[set[str], set[str]]:
    """Every personal ID number and full name in the run's accepted dossiers."""
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch("SELECT data FROM portal.dossiers")
    finally:
        await conn.close()
    ids: set[str] = set()
    names: set[str] = set()
    for r in rows:
        for key, value in _leaves(json.loads(r["data"])):
            if isinstance(value, str):
                ids.update(ID.findall(value))
                if key in NAME_KEYS:
                    names.add(unicodedata.normalize("NFC", value))
    return ids, names


def _leaves(doc: Any, key: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield from _leaves(v, str(k))
    elif isinstance(doc, list):
        for v in doc:
            yield from _leaves(v, key)
    else:
        yield key, doc


def _texts(line: str) -> Iterator[str]:
    """The line, and every string inside it when it is JSON (escapes decoded)."""
    yield line
    if line.startswith("{"):
        try:
            doc = json.loads(line)
        except ValueError:
            return
        for _, v in _leaves(doc):
            if isinstance(v, str):
                yield v


def leaks(texts: Iterable[tuple[str, str]], ids: set[str], names: set[str]) -> list[str]:
    """`where: what` for each unmasked ID number (any valid-looking one, the run's or not) or
    known full name found in (where, text) pairs."""
    found: list[str] = []
    for where, line in texts:
        for text in _texts(line):
            for m in ID.findall(text):
                if m in ids:
                    found.append(f"{where}: ID number {m[:3]}…")
            words = WORD.findall(unicodedata.normalize("NFC", text))
            for n in (3, 4):
                for i in range(len(words) - n + 1):
                    if " ".join(words[i : i + n]) in names:
                        found.append(f"{where}: full name {words[i][0]}. …")
    return list(dict.fromkeys(found))  # a line and the JSON strings inside it say the same once


def logs(home: Path) -> Iterator[tuple[str, str]]:
    for path in sorted((home / "logs").glob("*.log")):
        with path.open(encoding="utf-8", errors="replace") as f:
            for n, line in enumerate(f, 1):
                yield f"{path.name}:{n}", line.rstrip("\n")


def metrics(ports: Iterable[int]) -> Iterator[tuple[str, str]]:
    for port in ports:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
            for n, line in enumerate(r.read().decode().splitlines(), 1):
                if not line.startswith("#"):
                    yield f"metrics :{port} line {n}", line.rsplit(" ", 1)[0]  # the labels, not the value


def run_check(home: Path, url: str, ports: Iterable[int], letters: list[dict[str, Any]]) -> tuple[list[str], int, int]:
    """The leaks found, and how many ID numbers and names were looked for."""
    ids, names = asyncio.run(citizens(url))
    texts = [
        *logs(home),
        *metrics(ports),
        *((f"letter {i}", json.dumps(lt, ensure_ascii=False)) for i, lt in enumerate(letters)),
    ]
    return leaks(texts, ids, names), len(ids), len(names)


async def a_letter_with_personal_data(bootstrap: str, url: str, prefix: str = "lt") -> tuple[str, str]:
    """Send cutru a handoff it cannot take (a step it does not have) that carries a real citizen's
    name and ID number, so the letters searched are not empty; returns that (ID, name)."""
    from datetime import datetime

    from aiokafka import AIOKafkaProducer

    from contracts import topics
    from contracts.clock import VN_TZ
    from contracts.envelope import new_event
    from contracts.event_types import HANDOFF_SENT

    conn = await asyncpg.connect(url)
    try:
        data = json.loads(await conn.fetchval("SELECT data FROM portal.dossiers WHERE chain = 'birth' LIMIT 1"))
    finally:
        await conn.close()
    mother = data["mother"]
    event = new_event(
        HANDOFF_SENT,
        "hotich",
        datetime.now(VN_TZ),
        dossier_id="D-PERSONAL-DATA",
        chain="birth",
        payload={"to": "cutru", "to_step": "no_such_step", "dossier": data, "results": {}, "next": []},
    )
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(topics.work("cutru", prefix), event.to_json(), key=b"D-PERSONAL-DATA")
    finally:
        await producer.stop()
    return mother["personal_id"], mother["full_name"]
