"""The operator token: what the dashboard's actions and the agencies' admin commands are
authorised by. `LT_OPERATOR_TOKEN`, or a random one kept in `$LT_HOME/operator-token` (readable
by its owner only), made by whichever process needs it first: every process of one stack shares
`LT_HOME`, so they all hold the same one. It is never logged."""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

from runtime.settings import Settings


def token_path(settings: Settings) -> Path:
    return settings.home.resolve() / "operator-token"


def operator_token(settings: Settings) -> str:
    if settings.operator_token:
        return settings.operator_token
    path = token_path(settings)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written aside, then linked into place: processes starting together never see a half
        # written file, and the first link wins.
        aside = path.with_name(f".operator-token.{os.getpid()}")
        fd = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(24))
        with contextlib.suppress(FileExistsError):
            os.link(aside, path)
        aside.unlink()
    return path.read_text().strip()
