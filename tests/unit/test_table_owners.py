"""Each table is read through its owner: SQL naming the monitor's tables is written only in
`streams/`, and SQL naming the portal's tables only in `services/portal/`. Everyone else calls
their read APIs (streams/queries.py, services/portal/queries.py), so a table can change without a
hunt through the console, the operator's tools and the harness.

The scan reads every string literal of the product's modules (f-strings included); a scan that
found nothing would prove nothing, so it is also held to the reads it must find."""

from __future__ import annotations

import re
from pathlib import Path

from tests.unit.product_scan import ROOT, product_modules, strings

OWNERS: dict[str, tuple[str, Path]] = {
    # schema: (the package that owns it, the file that creates its tables)
    "monitor": ("streams/", ROOT / "streams" / "schema.sql"),
    "portal": ("services/portal/", ROOT / "services" / "portal" / "schema.sql"),
}

AUDITS = {
    # The harness's after-run cross-check of every database against the portal (`lienthong
    # verify`): joining the agencies' tables to the portal's is the check itself.
    "simulation/scoring/verify.py",
}


def tables(schema_file: Path) -> set[str]:
    return set(re.findall(r"CREATE TABLE IF NOT EXISTS (?:\{s\}|\w+)\.(\w+)", schema_file.read_text()))


def foreign_reads(source: str, schema: str, names: set[str]) -> list[str]:
    """The `schema.table` names in `source`'s string literals."""
    pattern = re.compile(rf"(?<![\w.]){schema}\.({'|'.join(sorted(names))})\b")
    return [m.group(0) for text in strings(source) for m in pattern.finditer(text)]


def test_the_scan_knows_the_owned_tables() -> None:
    assert tables(OWNERS["monitor"][1]) >= {"events", "alerts"}
    assert tables(OWNERS["portal"][1]) >= {"dossiers", "results", "timeline"}


def test_the_scan_finds_a_read_in_sql_and_in_an_f_string() -> None:
    source = "\n".join(
        [
            'A = "SELECT 1 FROM monitor.alerts"',
            'B = f"SELECT * FROM monitor.events WHERE x = {y}"',
            'C = "monitor.log"',
            'D = "the group lt.monitor.events"',
        ]
    )
    assert foreign_reads(source, "monitor", {"events", "alerts"}) == ["monitor.alerts", "monitor.events"]


def test_only_the_owner_writes_sql_on_its_tables() -> None:
    offenders: list[str] = []
    found_in_owner = dict.fromkeys(OWNERS, 0)
    for path in product_modules():
        rel = path.relative_to(ROOT).as_posix()
        source = path.read_text()
        for schema, (owner, schema_file) in OWNERS.items():
            reads = foreign_reads(source, schema, tables(schema_file))
            if rel.startswith(owner):
                found_in_owner[schema] += len(reads)
            elif reads and rel not in AUDITS:
                offenders.append(f"{rel}: {sorted(set(reads))}")
    assert offenders == [], "read these through the owner's read API:\n" + "\n".join(offenders)
    # The owners' own queries are where the scan must find them.
    assert all(n > 0 for n in found_in_owner.values()), found_in_owner
