"""Dead letters: what a consumer could not take, published on the dead-letter topic with the
reason, and never with personal data.

A letter carries where the message came from (topic, partition, offset, key), why it was
refused, its size and a digest, and a copy of its content with every personal ID number and
name masked (`value`; None when it was not JSON, since names cannot be told apart in free
bytes). The original stays with the consumer that refused it, in its own database: an agency
replays it from there when asked (`lienthong dlq replay`, the admin command `replay`). The
monitor keeps nothing: a letter it wrote is fixed by its producer publishing again
(`replayable: false`)."""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from contracts.errors import parse_model
from contracts.identity import mask_ids_in_text, mask_name

NAME_KEYS = ("name",)
"""A key that contains one of these holds a person's name (`full_name`, `father_name`, ...)."""


class Letter(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    letter_id: str = Field(default_factory=lambda: str(uuid.uuid4()))
    agency: str
    """Who refused it: an agency, or `monitor`."""
    topic: str
    partition: int | None
    offset: int | None
    key: str | None
    reason: str
    size: int
    sha256: str
    """The first 16 hex digits of the original's SHA-256: tells two letters of the same bytes apart."""
    value: Any = None
    """The content, masked; None when it was not JSON."""
    replayable: bool = True

    def to_json(self) -> bytes:
        return self.model_dump_json().encode()


def mask(doc: Any, key: str = "") -> Any:
    """A JSON document with every 12-digit ID number masked and every value under a name key
    reduced to initials."""
    if isinstance(doc, dict):
        return {k: mask(v, str(k)) for k, v in doc.items()}
    if isinstance(doc, list):
        return [mask(v, key) for v in doc]
    if isinstance(doc, str):
        if any(n in key.lower() for n in NAME_KEYS):
            return mask_name(doc)
        return mask_ids_in_text(doc)
    return doc


def letter(  # noqa: PLR0913 (a letter's coordinates and fields; the flags keyword-only)
    agency: str,
    topic: str,
    partition: int | None,
    offset: int | None,
    key: bytes | None,
    value: bytes | None,
    reason: str,
    *,
    replayable: bool = True,
    letter_id: str | None = None,
) -> Letter:
    raw = value or b""
    try:
        content: Any = mask(json.loads(raw)) if raw else None
    except (UnicodeDecodeError, json.JSONDecodeError):
        content = None
    return Letter(
        letter_id=letter_id or str(uuid.uuid4()),
        agency=agency,
        topic=topic,
        partition=partition,
        offset=offset,
        key=mask_ids_in_text(key.decode(errors="replace")) if key else None,
        reason=mask_ids_in_text(reason),
        size=len(raw),
        sha256=hashlib.sha256(raw).hexdigest()[:16],
        value=content,
        replayable=replayable,
    )


def parse_letter(raw: bytes) -> Letter:
    return parse_model(Letter, raw)
