"""Synthetic citizens and the dossiers they submit: Vietnamese names (NFC), well-formed
personal ID numbers, communes of the profile's province. Seeded: the same seed, the same people."""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from contracts.identity import Sex, generate_personal_id

AREAS_DIR = Path(__file__).resolve().parents[2] / "scenarios" / "areas"

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


@cache
def areas(province: str) -> dict[str, list[str]]:
    """District → communes of a province, from scenarios/areas/<code>.yaml."""
    path = AREAS_DIR / f"{province}.yaml"
    if not path.exists():
        raise ValueError(f"no area list for province {province} (add {path})")
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    return {str(k): [str(c) for c in v] for k, v in doc["districts"].items()}


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
        self.districts = areas(province)

    def name(self, sex: Sex, surname: str | None = None) -> str:
        r = self.rng
        parts = [surname or r.choice(SURNAMES), r.choice(MIDDLE[sex]), r.choice(GIVEN[sex])]
        return unicodedata.normalize("NFC", " ".join(parts))

    def person(self, sex: Sex, born_between: tuple[int, int], surname: str | None = None) -> Person:
        year = self.rng.randint(*born_between)
        born = date(year, 1, 1) + timedelta(days=self.rng.randrange(365))
        return Person(self.name(sex, surname), sex, born, generate_personal_id(self.province, sex, born.year, self.rng))

    def area(self) -> dict[str, str]:
        district = self.rng.choice(sorted(self.districts))
        return {"province": self.province, "district": district, "commune": self.rng.choice(self.districts[district])}

    def birth_dossier(self, today: date, channel: str = "online", return_by_post: bool = False) -> dict[str, Any]:
        r = self.rng
        father = self.person(Sex.MALE, (today.year - 40, today.year - 20))
        mother = self.person(Sex.FEMALE, (today.year - 38, today.year - 19))
        sex = r.choice([Sex.MALE, Sex.FEMALE])
        surname = father.full_name.split()[0]
        area = self.area()
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
            "residence": {"address": f"Thôn {r.randint(1, 12)}, {area['commune']}, {area['district']}"},
            "fee": {"bearing": False, "paid_online": False},
            "return_by_post": return_by_post,
        }
