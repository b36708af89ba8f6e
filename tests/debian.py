"""Debian's packages a test needs (Chromium, promtool, amtool), installed with apt when missing, as
root or with passwordless sudo: the suite sets up what it needs on a fresh machine, and nothing
comes from outside Debian's archive."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest


def ensure(binary: Path, package: str) -> Path:
    """`binary`, after `apt-get install package` if it is missing."""
    if binary.exists():
        return binary
    apt = shutil.which("apt-get")
    if apt is None:
        pytest.fail(f"{binary} is missing and apt-get is not available to install {package}")
    sudo = [] if os.geteuid() == 0 else ["sudo", "-n"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for step in ([apt, "update", "-qq"], [apt, "install", "-y", "-qq", "--no-install-recommends", package]):
        done = subprocess.run([*sudo, *step], env=env, capture_output=True, text=True, timeout=900, check=False)
        if done.returncode != 0:
            pytest.fail(f"could not install {package} ({' '.join(step)}): {done.stderr[-2000:]}")
    assert binary.exists(), f"{package} installed no {binary}"
    return binary


def ensure_alerting() -> None:
    """Prometheus and Alertmanager, for a test whose stack runs with `--alerting`."""
    ensure(Path("/usr/bin/prometheus-alertmanager"), "prometheus-alertmanager")
    ensure(Path("/usr/bin/prometheus"), "prometheus")
