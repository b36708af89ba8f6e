"""Synthetic citizens and the dossiers they submit: Vietnamese names (NFC), well-formed
personal ID numbers, communes of the profile's province as they were on the day of submission
(contracts/adminunits.py: the official lists, with districts before 1 July 2025 and without
after). Seeded: the same seed, the same people."""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from contracts import adminunits
from contracts.identity import PROVINCE_NAMES, Sex, generate_personal_id

SURNAMES = [
    "Nguyễn",
    "Trần",
    "Lê",
    "Phạm",
    "Hoàng",
    "Huỳnh",
    "Phan",
    "Vũ",
    "Võ",
    "Đặng",
    "Bùi",
    "Đỗ",
    "Hồ",
    "Ngô",
    "Dương",
    "Lý",
]
MIDDLE = {
    Sex.MALE: ["Văn", "Đức", "Minh", "Quang", "Hữu", "Thành", "Xuân", "Đình"],
    Sex.FEMALE: ["Thị", "Ngọc", "Thu", "Thanh", "Minh", "Phương", "Hồng", "Kim"],
}
GIVEN = {
    Sex.MALE: [
        "An",
        "Bình",
        "Cường",
        "Dũng",
        "Đạt",
        "Hải",
        "Hiếu",
        "Hùng",
        "Khánh",
        "Long",
        "Nam",
        "Phúc",
        "Quân",
        "Sơn",
        "Thắng",
        "Trung",
        "Tuấn",
        "Việt",
    ],
    Sex.FEMALE: [
        "Anh",
        "Châu",
        "Giang",
        "Hà",
        "Hạnh",
        "Hoa",
        "Hương",
        "Lan",
        "Linh",
        "Mai",
        "Nga",
        "Nhung",
        "Phương",
        "Thảo",
        "Trang",
        "Tuyết",
        "Vy",
        "Yến",
    ],
}


def _places(area: dict[str, str]) -> list[str]:
    """Commune, then district where there still was one."""
    return [area["commune"], *([area["district"]] if "district" in area else [])]


@dataclass
class Person:
    full_name: str
    sex: Sex
    birth_date: date
    personal_id: str


class CitizenFactory:
    def __init__(self, province: str, seed: int) -> None:
        self.province = province
        self.rng = random.Random(seed)
        if not adminunits.legacy(province) and not adminunits.current(province):
            raise ValueError(f"no administrative units for province {province}")

    def name(self, sex: Sex, surname: str | None = None) -> str:
        r = self.rng
        parts = [surname or r.choice(SURNAMES), r.choice(MIDDLE[sex]), r.choice(GIVEN[sex])]
        return unicodedata.normalize("NFC", " ".join(parts))

    def person(self, sex: Sex, born_between: tuple[int, int], surname: str | None = None) -> Person:
        year = self.rng.randint(*born_between)
        born = date(year, 1, 1) + timedelta(days=self.rng.randrange(365))
        return Person(self.name(sex, surname), sex, born, generate_personal_id(self.province, sex, born.year, self.rng))

    def area(self, today: date) -> dict[str, str]:
        """A commune of the province on `today`: before the 2025 reform, of any province it was
        formed from (with its district); from 1 July 2025, of the merged province."""
        return self.rng.choice(adminunits.in_force(self.province, today)).as_area()

    def birth_dossier(
        self, today: date, channel: str = "online", return_by_post: bool = False, needs_verification: bool = False
    ) -> dict[str, Any]:
        r = self.rng
        father = self.person(Sex.MALE, (today.year - 40, today.year - 20))
        mother = self.person(Sex.FEMALE, (today.year - 38, today.year - 19))
        sex = r.choice([Sex.MALE, Sex.FEMALE])
        surname = father.full_name.split()[0]
        area = self.area(today)
        return {
            "chain": "birth",
            "channel": channel,
            "area": area,
            "applicant": {"full_name": mother.full_name, "personal_id": mother.personal_id, "relationship": "mẹ"},
            "child": {
                "full_name": self.name(sex, surname),
                "sex": sex.value,
                "birth_date": (today - timedelta(days=r.randrange(1, 60))).isoformat(),
                "birth_place": f"Trạm Y tế {area['commune']}",
            },
            "mother": {"full_name": mother.full_name, "personal_id": mother.personal_id},
            "father": {"full_name": father.full_name, "personal_id": father.personal_id},
            "residence": {"address": ", ".join([f"Thôn {r.randint(1, 12)}", *_places(area)])},
            "fee": {"bearing": False, "paid_online": False},
            "return_by_post": return_by_post,
            "needs_verification": needs_verification,
        }

    def death_dossier(
        self,
        today: date,
        channel: str = "online",
        return_by_post: bool = False,
        *,
        procedures: int = 2,
        beneficiary: str = "none",
        needs_verification: bool = False,
    ) -> dict[str, Any]:
        """A relative reports a death; `procedures` is how many the applicant chose (2, 3 or 4)."""
        r = self.rng
        sex = r.choice([Sex.MALE, Sex.FEMALE])
        deceased = self.person(sex, (today.year - 95, today.year - 45))
        relative = self.person(Sex.FEMALE, (today.year - 60, today.year - 25), deceased.full_name.split()[0])
        area = self.area(today)
        chosen = ["death_registration", "residence_removal", "burial_allowance", "survivor_benefit"][:procedures]
        # Mostly reported within days; docs/domain.md notes deaths registered long after, so a few are late.
        days_ago = r.randrange(1, 15) if r.random() < 0.95 else r.randrange(15, 400)
        doc: dict[str, Any] = {
            "chain": "death",
            "channel": channel,
            "area": area,
            "applicant": {"full_name": relative.full_name, "personal_id": relative.personal_id, "relationship": "con"},
            "deceased": {
                "full_name": deceased.full_name,
                "personal_id": deceased.personal_id,
                "sex": sex.value,
                "birth_year": deceased.birth_date.year,
                "death_date": (today - timedelta(days=days_ago)).isoformat(),
                "cause": r.choice(
                    ["Bệnh già", "Bệnh tim mạch", "Tai biến mạch máu não", "Ung thư", "Tai nạn giao thông"]
                ),
                "place": r.choice(["Tại nhà", f"Trạm Y tế {area['commune']}", "Bệnh viện Đa khoa tỉnh"]),
            },
            "procedures": chosen,
            "beneficiary_type": beneficiary,
            "fee": {"bearing": False, "paid_online": False},
            "return_by_post": return_by_post,
            "needs_verification": needs_verification,
        }
        return doc

    def lltp_dossier(  # noqa: PLR0913 (what a request says of its fee and its post, keyword-only)
        self,
        today: date,
        channel: str = "online",
        return_by_post: bool = False,
        *,
        paid_online: bool = False,
        needs_verification: bool = False,
        fee_bearing: bool = True,
        paid_on: str = "national",
        exempt_reason: str | None = None,
    ) -> dict[str, Any]:
        """A citizen asks for a criminal-record certificate (Phiếu LLTP số 1); `fee_bearing`
        False for a citizen the fee rules exempt (`exempt_reason`: why, when known); `paid_on`:
        the portal a fee paid online went through (national, provincial)."""
        r = self.rng
        sex = r.choice([Sex.MALE, Sex.FEMALE])
        applicant = self.person(sex, (today.year - 60, today.year - 18))
        doc: dict[str, Any] = {
            "chain": "lltp",
            "channel": channel,
            "area": self.area(today),
            "applicant": {
                "full_name": applicant.full_name,
                "personal_id": applicant.personal_id,
                "sex": sex.value,
                "birth_year": applicant.birth_date.year,
            },
            "purpose": r.choice(
                ["Xin việc làm", "Xuất khẩu lao động", "Bổ sung hồ sơ đi học", "Kết hôn", "Thành lập doanh nghiệp"]
            ),
            "fee": {"bearing": fee_bearing, "paid_online": paid_online and fee_bearing}
            | ({"paid_on": paid_on} if paid_online and fee_bearing else {})
            | ({"exempt_reason": exempt_reason} if exempt_reason and not fee_bearing else {}),
            "return_by_post": return_by_post,
        }
        if needs_verification:
            doc[r.choice(["lived_in_several_places", "needs_expungement_check"])] = True
        return doc

    def marriage_dossier(
        self,
        today: date,
        channel: str = "online",
        partner_lives: str = "commune",
        *,
        needs_verification: bool = False,
        other_province: str | None = None,
    ) -> dict[str, Any]:
        """Two people marry in the applicant's commune; the partner lives in the same commune
        (`partner_lives="same"`), another commune of the province (`"commune"`) or another
        province (`"province"`, `other_province` or one drawn), whose commune confirms the
        partner's marital status. Marriage registration is free."""
        r = self.rng
        sex = r.choice([Sex.MALE, Sex.FEMALE])
        other_sex = Sex.FEMALE if sex is Sex.MALE else Sex.MALE
        applicant = self.person(sex, (today.year - 40, today.year - 22))
        area = self.area(today)
        if partner_lives == "same":
            residence = dict(area)
        elif partner_lives == "commune":
            residence = area
            while residence["commune"] == area["commune"]:
                residence = self.area(today)
        elif partner_lives == "province":
            known = [c for c in sorted(set(PROVINCE_NAMES) - {self.province}) if adminunits.in_force(c, today)]
            code = other_province or r.choice(known)
            residence = r.choice(adminunits.in_force(code, today)).as_area()
        else:
            raise ValueError(f"partner_lives: same, commune or province, got {partner_lives!r}")
        born = self.person(other_sex, (today.year - 40, today.year - 22))
        partner_id = generate_personal_id(residence["province"], other_sex, born.birth_date.year, r)
        doc: dict[str, Any] = {
            "chain": "marriage",
            "channel": channel,
            "area": area,
            "applicant": {
                "full_name": applicant.full_name,
                "personal_id": applicant.personal_id,
                "sex": sex.value,
                "birth_year": applicant.birth_date.year,
            },
            "partner": {
                "full_name": born.full_name,
                "personal_id": partner_id,
                "sex": other_sex.value,
                "birth_year": born.birth_date.year,
                "residence": residence,
            },
            "fee": {"bearing": False, "paid_online": False},
            "return_by_post": False,
        }
        if needs_verification:
            doc["needs_verification"] = True
        return doc
