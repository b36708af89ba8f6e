"""Admin commands: how a tool asks an agency to act on its own outbox, and how the agency answers.

No process writes into another process's tables. When an operator redrives a lost dossier, or
the chaos harness replays what a crashed broker lost, it asks the agency that sent the messages:
a `republish` command goes on that agency's work topic, marked by the `COMMAND_HEADER` header;
the agency queues the selected messages of its own outbox again (its relay publishes them) and
answers with a `Done` on the `admin-replies` topic. Each receiver's inbox drops an event it
already applied, so republishing is always safe.

Exactly one selector per command:
- `messages`: these event ids (each optionally only its copy on one topic): a lost handoff;
- `dossier_id`: every work message the agency sent for the dossier;
- `sent_since`: every work message the broker acknowledged since that time (Unix seconds), or
  with `topics` every message on those topics (the chaos harness's replay of dead letters and
  replies after the embedded broker lost its log).

A message a fault never released is queued by `messages` and `dossier_id` (that is what a
redrive is for) but never by `sent_since`, which replays only what had been published.

An agency that does not implement commands (an integrator's system) ignores messages carrying
the header; the asker then reports that no answer came, and the owner must resend by its own means.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from contracts.errors import parse_model

COMMAND_HEADER = "lienthong-command"
"""Header that marks a message on a work topic as an admin command, not a handoff."""
SIGNATURE_HEADER = "lienthong-signature"
"""Header with the command's HMAC-SHA256 (hex) under the operator token: only whoever holds the
token can make an agency act."""


def sign(token: str, value: bytes) -> bytes:
    return hmac.new(token.encode(), value, hashlib.sha256).hexdigest().encode()


def signed(token: str, value: bytes, signature: bytes | None) -> bool:
    """Whether `signature` is the command's under `token`, compared in constant time."""
    return signature is not None and hmac.compare_digest(sign(token, value), signature)


MAX_MESSAGES = 2000
"""Event ids per command at most: a command stays far below the broker's 1 MB message limit."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class Selected(_Model):
    event_id: str
    topic: str | None = None
    """Only the copy on this topic (a handoff's work message, not its lifecycle copy)."""


class Republish(_Model):
    command: Literal["republish"] = "republish"
    command_id: str = Field(default_factory=lambda: str(uuid.uuid4()))
    agency: str
    """The agency that must act: the one whose outbox holds the messages."""
    messages: tuple[Selected, ...] | None = Field(default=None, max_length=MAX_MESSAGES)
    dossier_id: str | None = None
    sent_since: float | None = None
    topics: tuple[str, ...] | None = Field(default=None, min_length=1)
    """With `sent_since` only: the topics to replay instead of the agencies' work topics."""

    @model_validator(mode="after")
    def _one_selector(self) -> Republish:
        given = [n for n in ("messages", "dossier_id", "sent_since") if getattr(self, n) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of messages, dossier_id, sent_since (got {given or 'none'})")
        if self.topics is not None and self.sent_since is None:
            raise ValueError("topics narrows sent_since only")
        return self

    def to_json(self) -> bytes:
        return self.model_dump_json(exclude_none=True).encode()


class Replay(_Model):
    """Apply again dead letters this agency wrote (contracts/deadletters.py), from the originals it
    kept: each at most once, however often asked."""

    command: Literal["replay"] = "replay"
    command_id: str = Field(default_factory=lambda: str(uuid.uuid4()))
    agency: str
    letters: tuple[str, ...] = Field(min_length=1, max_length=MAX_MESSAGES)

    def to_json(self) -> bytes:
        return self.model_dump_json().encode()


Command = Republish | Replay


class Done(_Model):
    """The agency's answer: how many messages it queued (or letters it replayed), which selected
    ids it does not hold, and which letters it had replayed already."""

    command_id: str
    agency: str
    queued: int
    missing: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()

    def to_json(self) -> bytes:
        return self.model_dump_json().encode()


def parse_command(raw: bytes) -> Command:
    """Decode a command; ContractError says why it was refused."""
    try:
        kind = json.loads(raw).get("command", "republish")
    except (ValueError, AttributeError):
        kind = "republish"  # let the model say what is wrong
    return parse_model(Replay, raw) if kind == "replay" else parse_model(Republish, raw)


def parse_done(raw: bytes) -> Done:
    return parse_model(Done, raw)


def chunks(agency: str, selected: list[Selected]) -> list[Republish]:
    """Commands for `agency` that together select `selected`, each within MAX_MESSAGES."""
    return [
        Republish(agency=agency, messages=tuple(selected[i : i + MAX_MESSAGES]))
        for i in range(0, len(selected), MAX_MESSAGES)
    ]
