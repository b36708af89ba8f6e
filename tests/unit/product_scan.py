"""What the structural scans read: the product's and the harness's modules, and the string
literals in a module's source (f-strings included). Shared by the owner scans
(tests/unit/test_table_owners.py, tests/unit/deploy/test_state.py)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRODUCT = (
    "contracts",
    "runtime",
    "services",
    "streams",
    "ops",
    "deploy",
    "dashboard",
    "simulation",
    "lienthong",
    "loadtests",
)


def strings(source: str) -> list[str]:
    return [n.value for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Constant) and isinstance(n.value, str)]


def product_modules() -> list[Path]:
    return sorted(p for package in PRODUCT for p in (ROOT / package).rglob("*.py"))
