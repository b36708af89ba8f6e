"""The stack's two tokens, each `LT_<NAME>_TOKEN` or a random one kept in `$LT_HOME/<name>-token`
(readable by its owner only), made by whichever process needs it first: every process of one
stack shares `LT_HOME`, so they all hold the same ones. Neither is ever logged.

- The operator token authorises what changes something: the dashboard's actions and the
  agencies' admin commands.
- The submitter token lets a client submit for many citizens at once without the portal's
  per-client rate limit (runtime/edges.py): the national portal's gateway in production; here the
  workload, the load tests and the benchmarks. It authorises nothing else, so a gateway holding
  it cannot acknowledge an alert or redrive."""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path
from urllib.parse import quote

from runtime.settings import PlatformSettings


def token_path(settings: PlatformSettings, name: str = "operator") -> Path:
    return settings.home.resolve() / f"{name}-token"


def operator_token(settings: PlatformSettings) -> str:
    return settings.operator_token or _kept(token_path(settings, "operator"))


def submitter_token(settings: PlatformSettings) -> str:
    return settings.submitter_token or _kept(token_path(settings, "submitter"))


def submitter_headers(settings: PlatformSettings) -> dict[str, str]:
    """What a bulk submitter (the workload, a load test) sends the portal."""
    return {"Authorization": f"Bearer {submitter_token(settings)}"}


def operator_headers(settings: PlatformSettings, officer: str | None = None) -> dict[str, str]:
    """What a caller that reads personal data in full sends the portal (the console, an
    auditor's script): the operator token, and the officer it reads for (percent-encoded)."""
    headers = {"Authorization": f"Bearer {operator_token(settings)}"}
    if officer:
        headers["X-Operator"] = quote(officer)
    return headers


def _kept(path: Path) -> str:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written aside, then linked into place: processes starting together never see a half
        # written file, and the first link wins.
        aside = path.with_name(f".{path.name}.{os.getpid()}")
        fd = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(24))
        with contextlib.suppress(FileExistsError):
            os.link(aside, path)
        aside.unlink()
    return path.read_text().strip()
