"""What a citizen submits for each flow, and the checks the portal makes at the edge.

Field specs are data: one table per chain. A failed check becomes a Problem naming the field;
the portal answers those with HTTP 422 and nothing is stored.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from contracts.errors import ContractError, Problem
from contracts.identity import PROVINCE_CODES, Sex, check_identity

CHANNELS = ("online", "vneid", "in_person")
"""How a dossier was submitted: on the portal, through the VNeID app (the citizen's electronic
identity; Lâm Đồng issues judicial-record certificates that way from 1 November 2024), or at the
counter."""
ONLINE_CHANNELS = frozenset({"online", "vneid"})
"""The channels the statistics count as online submission."""
DEATH_PROCEDURES = ("death_registration", "residence_removal", "burial_allowance", "survivor_benefit")
"""What the applicant may choose: the first two always, then 2, 3 or 4 procedures in all."""
PAYMENT_PORTALS = ("national", "provincial")
"""Where a fee paid online was paid: the National Public Service Portal (Cổng Dịch vụ công quốc
gia), whose payments Decision 766's figures count, or the province's own portal, whose they do
not (Hà Tĩnh, May 2024: "tỷ lệ hồ sơ thanh toán trực tuyến 0%" by Decision 766, 619 of 3,268 paid
online by its own portal's count)."""
EXEMPT_REASONS: dict[str, str] = {
    "merit": "Người có công với cách mạng",
    "martyr_relative": "Thân nhân liệt sĩ",
    "poor_household": "Người thuộc hộ nghèo",
    "ethnic_minority": "Đồng bào dân tộc thiểu số ở xã có điều kiện kinh tế - xã hội đặc biệt khó khăn",
    "child": "Trẻ em",
    "elderly": "Người cao tuổi",
    "disabled": "Người khuyết tật",
}
"""Why a citizen bears no fee for a fee-bearing procedure: the cases of the fee exemption rules
(people with merit, poor households, and so on); the Vietnamese is how the report names them.
No report splits its free dossiers by reason (Tuyên Quang: "130 hồ sơ miễn phí"), so a profile
that draws them says what it assumes."""
BURIAL_PAYERS = ("bhxh", "social_protection")
INSURED_TYPES = ("pensioner", "monthly_allowance", "voluntary_insured", "insured")
"""Beneficiaries whose burial allowance and survivor benefit social security pays."""
SOCIAL_PROTECTION_TYPES = ("social_protection", "merit")
"""Beneficiaries whose burial support the social-protection desk pays."""
BENEFICIARY_TYPES = (*INSURED_TYPES, *SOCIAL_PROTECTION_TYPES, "none")
BURIAL_STEP_BY_PAYER = {"bhxh": "burial_allowance", "social_protection": "burial_support"}

Check = Callable[[Any, date], str | None]


def _name(value: Any, _today: date) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return "full name must be a non-empty string"
    if unicodedata.normalize("NFC", value) != value:
        return "full name must be Unicode NFC"
    return None


def _personal_id(value: Any, _today: date) -> str | None:
    return check_identity(value) if isinstance(value, str) else "personal ID number must be a string"


def _past_date(value: Any, today: date) -> str | None:
    try:
        d = date.fromisoformat(value)
    except (TypeError, ValueError):
        return "must be a date YYYY-MM-DD"
    return "must not be in the future" if d > today else None


def _year(value: Any, today: date) -> str | None:
    ok = isinstance(value, int) and not isinstance(value, bool) and 1900 <= value <= today.year
    return None if ok else f"must be a year between 1900 and {today.year}"


def _one_of(*options: str) -> Check:
    def check(value: Any, _today: date) -> str | None:
        return None if value in options else f"must be one of {', '.join(options)}"

    return check


def _text(value: Any, _today: date) -> str | None:
    return None if isinstance(value, str) and value.strip() else "must be a non-empty string"


def _bool(value: Any, _today: date) -> str | None:
    return None if isinstance(value, bool) else "must be true or false"


def _province(value: Any, _today: date) -> str | None:
    return None if value in PROVINCE_CODES else "must be a known 3-digit province code"


_SEX = _one_of(*(s.value for s in Sex))

# (dotted path, check, required)
COMMON: list[tuple[str, Check, bool]] = [
    ("channel", _one_of(*CHANNELS), True),
    ("area.province", _province, True),
    ("area.district", _text, False),  # no districts from 1 July 2025 (contracts/adminunits.py)
    ("area.commune", _text, True),
    ("applicant.full_name", _name, True),
    ("applicant.personal_id", _personal_id, True),
    ("fee.bearing", _bool, False),
    ("fee.paid_online", _bool, False),
    ("fee.paid_on", _one_of(*PAYMENT_PORTALS), False),
    ("fee.exempt_reason", _one_of(*EXEMPT_REASONS), False),
    ("return_by_post", _bool, False),
    ("needs_verification", _bool, False),
]
FIELDS: dict[str, list[tuple[str, Check, bool]]] = {
    "birth": [
        ("child.full_name", _name, True),
        ("child.sex", _SEX, True),
        ("child.birth_date", _past_date, True),
        ("child.birth_place", _text, True),
        ("mother.full_name", _name, True),
        ("mother.personal_id", _personal_id, True),
        ("father.full_name", _name, False),
        ("father.personal_id", _personal_id, False),
        ("residence.address", _text, True),
        ("linked", _bool, False),
    ],
    "death": [
        ("deceased.full_name", _name, True),
        ("deceased.personal_id", _personal_id, True),
        ("deceased.sex", _SEX, True),
        ("deceased.birth_year", _year, True),
        ("deceased.death_date", _past_date, True),
        ("deceased.cause", _text, True),
        ("deceased.place", _text, True),
        ("payer", _one_of(*BURIAL_PAYERS), False),
        ("beneficiary_type", _one_of(*BENEFICIARY_TYPES), False),
        ("linked", _bool, False),
    ],
    # The applicant registers in their commune (`area`); the partner's marital status is confirmed
    # where the partner lives (`partner.residence`), another commune or another province.
    "marriage": [
        ("applicant.sex", _SEX, True),
        ("applicant.birth_year", _year, True),
        ("partner.full_name", _name, True),
        ("partner.personal_id", _personal_id, True),
        ("partner.sex", _SEX, True),
        ("partner.birth_year", _year, True),
        ("partner.residence.province", _province, True),
        ("partner.residence.district", _text, False),
        ("partner.residence.commune", _text, True),
    ],
    "lltp": [
        ("applicant.sex", _SEX, True),
        ("applicant.birth_year", _year, True),
        ("purpose", _text, True),
        ("lived_in_several_places", _bool, False),
        ("foreigner", _bool, False),
        ("needs_expungement_check", _bool, False),
    ],
}


POSTAL_PROCEDURE = "return_by_post"
"""The procedure a dossier whose result is returned by post carries."""
STANDALONE_PROCEDURE = "standalone"
"""What a birth or death registration made outside the linked procedure carries (`"linked":
false`): the civil-status registration alone, with no residence, health-insurance or burial step
after it (contracts/chains.yaml, `skipped_by`). Hà Tĩnh registers "trên 90 %" of its births and
"gần 60 %" of its deaths through the linked procedure."""


@dataclass(frozen=True)
class Submission:
    chain: str
    channel: str
    procedures: tuple[str, ...]
    area: dict[str, str]
    fee_bearing: bool
    paid_online: bool
    return_by_post: bool
    paid_on: str
    """PAYMENT_PORTALS: where a fee paid online was paid (the national portal unless said)."""
    exempt_reason: str | None
    """EXEMPT_REASONS: why a dossier of a fee-bearing procedure bears no fee, when it says."""
    needs_verification: bool
    """The longer SLA applies (residence verification; LLTP for people who lived in several
    places, foreigners, or when expungement must be verified)."""
    subject_key: str
    """Who or what the dossier is about, hashed: two open dossiers about the same subject are
    a duplicate submission."""
    data: dict[str, Any]
    """The whole validated body, carried to the agencies."""


def _get(doc: Any, path: str) -> tuple[bool, Any]:
    for part in path.split("."):
        if not isinstance(doc, dict) or part not in doc:
            return False, None
        doc = doc[part]
    return True, doc


def parse_submission(body: Any, today: date) -> Submission:
    """Validate a portal submission; ContractError lists every problem found."""
    if not isinstance(body, dict):
        raise ContractError([Problem("$", "body must be a JSON object")])
    chain = body.get("chain")
    if not isinstance(chain, str) or chain not in FIELDS:
        raise ContractError([Problem("chain", f"must be one of {', '.join(FIELDS)}")])
    problems: list[Problem] = []
    for path, check, required in COMMON + FIELDS[chain]:
        present, value = _get(body, path)
        if not present:
            if required:
                problems.append(Problem(path, "is required"))
            continue
        reason = check(value, today)
        if reason:
            problems.append(Problem(path, reason))
    procedures = _procedures(chain, body.get("procedures"), body.get("linked") is not False, problems)
    if chain == "death" and not problems and "burial_allowance" in procedures:
        payer = burial_payer(body)
        if payer is None:
            problems.append(Problem("payer", "is required when burial_allowance is chosen (or give beneficiary_type)"))
        else:
            procedures = tuple(BURIAL_STEP_BY_PAYER[payer] if p == "burial_allowance" else p for p in procedures)
    given = body.get("fee")
    fee: dict[str, Any] = given if isinstance(given, dict) else {}
    bearing = bool(fee.get("bearing", chain == "lltp"))
    if not problems and fee.get("exempt_reason") is not None and bearing:
        problems.append(Problem("fee.exempt_reason", "only for a dossier that bears no fee (fee.bearing: false)"))
    if problems:
        raise ContractError(problems)
    if body.get("return_by_post") is True:
        # The result's postal leg is a procedure the citizen chose: the chain's step for it, if
        # it has one, runs after the result is made (contracts/chains.yaml).
        procedures = (*procedures, POSTAL_PROCEDURE)
    return Submission(
        chain=chain,
        channel=body["channel"],
        procedures=procedures,
        area=dict(body["area"]),
        fee_bearing=bool(fee.get("bearing", chain == "lltp")),
        paid_online=bool(fee.get("paid_online", False)),
        paid_on=str(fee.get("paid_on", PAYMENT_PORTALS[0])),
        exempt_reason=fee.get("exempt_reason"),
        return_by_post=bool(body.get("return_by_post", False)),
        needs_verification=needs_verification(chain, body),
        subject_key=subject_key(chain, body),
        data=body,
    )


def burial_payer(body: dict[str, Any]) -> str | None:
    """Who pays for the burial: the applicant's choice, else the one the beneficiary type implies."""
    if body.get("payer") in BURIAL_PAYERS:
        return str(body["payer"])
    kind = body.get("beneficiary_type")
    if kind in INSURED_TYPES:
        return "bhxh"
    if kind in SOCIAL_PROTECTION_TYPES:
        return "social_protection"
    return None


def needs_verification(chain: str, body: dict[str, Any]) -> bool:
    if chain == "lltp":
        flags = ("lived_in_several_places", "foreigner", "needs_expungement_check")
        return any(bool(body.get(f)) for f in flags) or bool(body.get("needs_verification"))
    return bool(body.get("needs_verification"))


_SUBJECT: dict[str, tuple[str, ...]] = {
    "birth": ("mother.personal_id", "child.birth_date", "child.full_name"),
    "death": ("deceased.personal_id",),
    "lltp": ("applicant.personal_id", "purpose"),
    "marriage": ("applicant.personal_id", "partner.personal_id"),
}


def subject_key(chain: str, body: dict[str, Any]) -> str:
    parts = [chain, *(str(_get(body, path)[1]) for path in _SUBJECT[chain])]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:32]


def _procedures(chain: str, raw: Any, linked: bool, problems: list[Problem]) -> tuple[str, ...]:
    if not linked and chain in ("birth", "death"):
        if chain == "death" and raw not in (None, [DEATH_PROCEDURES[0]]):
            problems.append(
                Problem("procedures", f"a standalone registration (linked: false) is {DEATH_PROCEDURES[0]} alone")
            )
        return (DEATH_PROCEDURES[0], STANDALONE_PROCEDURE) if chain == "death" else (STANDALONE_PROCEDURE,)
    if chain != "death":
        return ()
    if raw is None:
        return DEATH_PROCEDURES[:2]
    # The applicant chooses 2, 3 or 4 procedures; death registration and residence removal
    # always come together (docs/domain.md).
    if not isinstance(raw, list) or not set(DEATH_PROCEDURES[:2]) <= set(raw) or not set(raw) <= set(DEATH_PROCEDURES):
        problems.append(
            Problem(
                "procedures",
                f"must include death_registration and residence_removal, and only {', '.join(DEATH_PROCEDURES)}",
            )
        )
        return ()
    return tuple(p for p in DEATH_PROCEDURES if p in raw)
