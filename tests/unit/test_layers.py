"""The layers hold: contracts; the platform (runtime); the agencies and the monitor; the
simulation; the CLI and the dashboard. No module imports a layer above its own (import-linter,
configured in pyproject.toml), so the platform runs the same with or without the simulation."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_no_package_imports_a_layer_above_its_own() -> None:
    lint = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "2 kept, 0 broken" in result.stdout
