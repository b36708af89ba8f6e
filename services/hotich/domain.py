"""Civil-status decisions, pure: register or refuse, with the reason."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date

from contracts.identity import Sex, generate_personal_id, verify_identity
from contracts.payloads import DossierDoc


@dataclass(frozen=True)
class Registered:
    personal_id: str


@dataclass(frozen=True)
class Refused:
    reason: str
    code: str = "invalid_data"


def decide_birth(dossier: DossierDoc, today: date, rng: random.Random) -> Registered | Refused:
    """Register the birth and give the child a personal ID number, unless the data is wrong."""
    child = dossier.get("child", {})
    try:
        born = date.fromisoformat(child["birth_date"])
        sex = Sex(child["sex"])
    except (KeyError, ValueError):
        return Refused("child's birth date or sex missing or malformed")
    if born > today:
        return Refused("child's birth date is in the future")
    mother = dossier.get("mother", {})
    problem = verify_identity(mother.get("personal_id", ""), sex=Sex.FEMALE)
    if problem:
        return Refused(f"mother's identity does not match the population database: {problem[1]}", problem[0])
    father = dossier.get("father")
    if father and father.get("personal_id"):
        problem = verify_identity(father["personal_id"], sex=Sex.MALE)
        if problem:
            return Refused(f"father's identity does not match the population database: {problem[1]}", problem[0])
    province = dossier.get("area", {}).get("province", "")
    return Registered(generate_personal_id(province, sex, born.year, rng))


def decide_death(dossier: DossierDoc, today: date) -> Registered | Refused:
    """Register the death of the person the dossier names, unless the data is wrong."""
    d = dossier.get("deceased", {})
    try:
        died = date.fromisoformat(d["death_date"])
        sex = Sex(d["sex"])
        year = int(d["birth_year"])
    except (KeyError, ValueError, TypeError):
        return Refused("deceased's death date, sex or birth year missing or malformed")
    if died > today:
        return Refused("date of death is in the future")
    problem = verify_identity(d.get("personal_id", ""), sex=sex, birth_year=year)
    if problem:
        return Refused(f"deceased's identity does not match the population database: {problem[1]}", problem[0])
    return Registered(d["personal_id"])
