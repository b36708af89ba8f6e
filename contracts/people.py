"""Who a dossier names: each person of a submission (applicant, child, mother, father,
deceased, …) with the ID number and full name it gives, in full or masked. Pure: the portal
answers with it, the dashboard shows the masked form until an operator opens the dossier."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypedDict

from contracts.identity import mask_ids_in_text, mask_name, mask_personal_id

NAME_KEYS = frozenset({"full_name", "name", "child_name", "applicant_name", "deceased_name"})
"""Keys whose string value is a person's full name."""
ID_KEYS = frozenset({"personal_id", "id_number", "so_dinh_danh"})
"""Keys whose string value is a personal ID number (and any key ending in `personal_id`)."""
FREE_TEXT_KEYS = frozenset({"reason", "error", "detail", "message"})
"""Keys whose free text may quote an ID number (a refusal's reason)."""

ROLE_VI = {
    "applicant": "Người nộp hồ sơ",
    "child": "Trẻ được đăng ký khai sinh",
    "mother": "Mẹ",
    "father": "Cha",
    "deceased": "Người chết",
}


class PersonView(TypedDict):
    """A person as the read APIs show them (masked unless the caller may see them whole)."""

    role: str
    role_vi: str
    full_name: str | None
    personal_id: str | None


@dataclass(frozen=True)
class Person:
    role: str
    """Where the submission names the person (`applicant`, `mother`, …)."""
    role_vi: str
    full_name: str | None
    personal_id: str | None

    def masked(self) -> Person:
        return Person(
            self.role,
            self.role_vi,
            mask_name(self.full_name) if self.full_name else None,
            mask_personal_id(self.personal_id) if self.personal_id else None,
        )

    def as_dict(self) -> PersonView:
        return {
            "role": self.role,
            "role_vi": self.role_vi,
            "full_name": self.full_name,
            "personal_id": self.personal_id,
        }


def people(data: Mapping[str, Any]) -> list[Person]:
    """Every top-level object of the submission that names someone, in the submission's order."""
    found = []
    for role, value in data.items():
        if not isinstance(value, Mapping):
            continue
        name, number = value.get("full_name"), value.get("personal_id")
        if isinstance(name, str) or isinstance(number, str):
            found.append(
                Person(
                    role,
                    ROLE_VI.get(role, role),
                    name if isinstance(name, str) else None,
                    number if isinstance(number, str) else None,
                )
            )
    return found


def mask_document(value: Any, key: str | None = None) -> Any:
    """A JSON document with every personal ID number and full name masked, by key, and ID
    numbers masked inside free text (a refusal's reason); everything else as it was. Only keys
    are trusted: an event id or a dossier id is never touched, even when part of it is twelve
    digits."""
    if isinstance(value, Mapping):
        return {k: mask_document(v, k) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [mask_document(v, key) for v in value]
    if isinstance(value, str) and key is not None:
        if key in NAME_KEYS:
            return mask_name(value)
        if key in ID_KEYS or key.endswith("personal_id"):
            return mask_personal_id(value)
        if key in FREE_TEXT_KEYS:
            return mask_ids_in_text(value)
    return value
