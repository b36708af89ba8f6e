"""Every topic the system uses, named in one place.

All lifecycle events go to one topic keyed by dossier id (the monitor's input); each agency
has its own work topic; malformed input goes to the dead-letter topic with its reason.
"""

from __future__ import annotations

AGENCIES: tuple[str, ...] = ("portal", "motcua", "hotich", "cutru", "bhxh", "btxh", "lltp", "dancu")
"""Systems that own a work topic. Codes follow docs/domain.md; `btxh` (bảo trợ xã hội) is
the social-protection desk that pays burial support, which the reports name without a code;
`dancu` is the national population database (CSDLQG về dân cư), which the others ask over HTTP
(services/dancu/) and which heartbeats like any agency, so the monitor hears it fall silent."""
AGENCY_VI: dict[str, str] = {
    "portal": "Cổng DVC",
    "motcua": "Một cửa",
    "hotich": "Hộ tịch",
    "cutru": "Cư trú",
    "bhxh": "BHXH",
    "btxh": "Bảo trợ xã hội",
    "lltp": "Lý lịch tư pháp",
    "dancu": "CSDLQG về dân cư",
    "monitor": "Giám sát",
    "dashboard": "Bảng điều hành",
}
"""What an officer calls each agency's system (and the product's own processes)."""

SIMULATED_AGENCIES: tuple[str, ...] = AGENCIES
"""Agencies `lienthong up` starts as processes, one each."""


def dossier_events(prefix: str = "lt") -> str:
    return f"{prefix}.dossier-events"


def work(agency: str, prefix: str = "lt") -> str:
    if agency not in AGENCIES:
        raise ValueError(f"unknown agency {agency!r}; known: {', '.join(AGENCIES)}")
    return f"{prefix}.work.{agency}"


def dead_letter(prefix: str = "lt") -> str:
    return f"{prefix}.dead-letter"


def alerts(prefix: str = "lt") -> str:
    return f"{prefix}.alerts"


def admin_replies(prefix: str = "lt") -> str:
    """Where agencies answer admin commands (contracts/commands.py)."""
    return f"{prefix}.admin-replies"


PRIMER_HEADER = "lienthong-primer"
"""Marks the message written at offset 0 of each partition when the topics are created
(runtime/kafka.py, `prime`); consumers skip it."""


def all_topics(prefix: str = "lt") -> list[str]:
    return [
        dossier_events(prefix),
        dead_letter(prefix),
        alerts(prefix),
        *(work(a, prefix) for a in AGENCIES),
        admin_replies(prefix),
    ]
