"""The console's scripts are classic scripts sharing one global scope: a top-level name declared
in two of them is a SyntaxError that stops the second one entirely (the subscriptions section
declared app.js's `FLOW_VI` again, and its buttons did nothing)."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

STATIC = Path(__file__).resolve().parents[3] / "dashboard" / "static"
TOP_LEVEL = re.compile(r"^(?:const|let|class|(?:async\s+)?function)\s+([A-Za-z_$][\w$]*)", re.MULTILINE)


def test_no_top_level_name_is_declared_in_two_of_the_consoles_scripts() -> None:
    scripts = sorted(p for p in STATIC.glob("*.js"))
    assert len(scripts) >= 4, scripts
    names = Counter(name for p in scripts for name in set(TOP_LEVEL.findall(p.read_text(encoding="utf-8"))))
    twice = {name: n for name, n in names.items() if n > 1}
    assert twice == {}, twice


def test_every_script_the_page_loads_exists() -> None:
    page = (STATIC / "index.html").read_text(encoding="utf-8")
    for src in re.findall(r'<script src="/static/([^"]+)"', page):
        assert (STATIC / src).exists(), src
