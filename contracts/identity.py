"""Personal ID numbers (số định danh cá nhân) and the masking of personal data.

Structure (docs/domain.md, "Codes"): 12 digits, no checksum; digits 1–3 the province of birth registration,
digit 4 century and sex (1900s: 0 male / 1 female; 2000s: 2 / 3; 2100s: 4 / 5), digits 5–6 the
last two digits of the birth year, digits 7–12 random.
"""

from __future__ import annotations

import random
import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum

# The 63 province codes in use before the 2025 merger (GSO codes, as on ID numbers issued so far).
PROVINCE_CODES: frozenset[str] = frozenset(
    [
        "001",
        "002",
        "004",
        "006",
        "008",
        "010",
        "011",
        "012",
        "014",
        "015",
        "017",
        "019",
        "020",
        "022",
        "024",
        "025",
        "026",
        "027",
        "030",
        "031",
        "033",
        "034",
        "035",
        "036",
        "037",
        "038",
        "040",
        "042",
        "044",
        "045",
        "046",
        "048",
        "049",
        "051",
        "052",
        "054",
        "056",
        "058",
        "060",
        "062",
        "064",
        "066",
        "067",
        "068",
        "070",
        "072",
        "074",
        "075",
        "077",
        "079",
        "080",
        "082",
        "083",
        "084",
        "086",
        "087",
        "089",
        "091",
        "092",
        "093",
        "094",
        "095",
        "096",
    ]
)

PROVINCE_NAMES: dict[str, str] = {
    "001": "Hà Nội",
    "002": "Hà Giang",
    "008": "Tuyên Quang",
    "042": "Hà Tĩnh",
    "068": "Lâm Đồng",
    "079": "TP. Hồ Chí Minh",
    "096": "Cà Mau",
}


class Sex(StrEnum):
    MALE = "male"
    FEMALE = "female"


_CENTURIES = {1900: 0, 2000: 2, 2100: 4}
_ID_RE = re.compile(r"^\d{12}$")


@dataclass(frozen=True)
class PersonalId:
    province: str
    sex: Sex
    birth_year: int
    serial: str

    def __str__(self) -> str:
        century = (self.birth_year // 100) * 100
        digit = _CENTURIES[century] + (1 if self.sex is Sex.FEMALE else 0)
        return f"{self.province}{digit}{self.birth_year % 100:02d}{self.serial}"


def in_population_register(serial: str) -> bool:
    """Whether the simulated national population database knows an ID number's serial.

    The simulator has no population database to query, so it answers by rule: serials that are
    multiples of 97 (about 1 %) are unknown. Generated citizens are always known; the bad-data
    kind `identity_mismatch` draws an unknown serial, which the agencies refuse as failing
    verification against the population database.
    """
    return int(serial) % 97 != 0


def generate_personal_id(
    province: str, sex: Sex, birth_year: int, rng: random.Random, *, registered: bool = True
) -> str:
    """A well-formed ID number for a person born in `birth_year`, registered in `province`
    (or, with `registered=False`, one the population database does not know)."""
    if province not in PROVINCE_CODES:
        raise ValueError(f"unknown province code {province!r}")
    if (birth_year // 100) * 100 not in _CENTURIES:
        raise ValueError(f"birth year {birth_year} outside 1900–2199")
    if not registered:
        return str(PersonalId(province, sex, birth_year, f"{97 * rng.randrange(1_000_000 // 97 + 1):06d}"))
    while True:
        serial = f"{rng.randrange(1_000_000):06d}"
        if in_population_register(serial):
            return str(PersonalId(province, sex, birth_year, serial))


def parse_personal_id(value: str) -> PersonalId:
    """Decode an ID number; ValueError names what is wrong."""
    if not isinstance(value, str) or not _ID_RE.match(value):
        raise ValueError("personal ID number must be exactly 12 digits")
    province, digit, yy, serial = value[:3], int(value[3]), int(value[4:6]), value[6:]
    if province not in PROVINCE_CODES:
        raise ValueError(f"personal ID number has unknown province code {province}")
    if digit > 5:
        raise ValueError(f"personal ID number has invalid century/sex digit {digit}")
    century = 1900 + 100 * (digit // 2)
    return PersonalId(province, Sex.FEMALE if digit % 2 else Sex.MALE, century + yy, serial)


def check_identity(value: str, sex: Sex | None = None, birth_year: int | None = None) -> str | None:
    """Why `value` cannot be this person's ID number, or None when it can."""
    try:
        pid = parse_personal_id(value)
    except ValueError as exc:
        return str(exc)
    if sex is not None and pid.sex is not sex:
        return f"personal ID number encodes sex {pid.sex.value}, dossier says {sex.value}"
    if birth_year is not None and pid.birth_year != birth_year:
        return f"personal ID number encodes birth year {pid.birth_year}, dossier says {birth_year}"
    return None


class IdentityProblem(StrEnum):
    """Why an agency refuses a person's identity: the data-quality kinds of docs/domain.md."""

    MALFORMED = "malformed_id"
    WRONG_SEX_OR_YEAR = "wrong_sex_or_year"
    MISMATCH = "identity_mismatch"


def verify_identity(
    value: str, sex: Sex | None = None, birth_year: int | None = None
) -> tuple[IdentityProblem, str] | None:
    """An agency's check against the population database: (kind, reason), or None when it passes."""
    reason = check_identity(value, sex, birth_year)
    if reason:
        kind = IdentityProblem.MALFORMED if value_malformed(value) else IdentityProblem.WRONG_SEX_OR_YEAR
        return kind, reason
    if not in_population_register(value[6:]):
        return IdentityProblem.MISMATCH, "personal ID number not found in the national population database"
    return None


def value_malformed(value: str) -> bool:
    try:
        parse_personal_id(value)
    except ValueError:
        return True
    return False


def mask_personal_id(value: str) -> str:
    """Keep the province prefix and the last two digits, as officials read them aloud."""
    if len(value) < 6:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 5) + value[-2:]


def mask_name(value: str) -> str:
    """Initials only: "Nguyễn Văn An" → "N. V. A."."""
    parts = unicodedata.normalize("NFC", value).split()
    return " ".join(f"{p[0]}." for p in parts) if parts else ""


_ANY_ID = re.compile(r"(?<!\d)\d{12}(?!\d)")


def mask_ids_in_text(text: str) -> str:
    """Mask every 12-digit run in free text (log messages, error reasons)."""
    return _ANY_ID.sub(lambda m: mask_personal_id(m.group(0)), text)
