"""Personal ID numbers: structure, round trip, century/sex rule; masking."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contracts.identity import (
    PROVINCE_CODES,
    Sex,
    check_identity,
    generate_personal_id,
    mask_ids_in_text,
    mask_name,
    mask_personal_id,
    parse_personal_id,
)


@given(
    province=st.sampled_from(sorted(PROVINCE_CODES)),
    sex=st.sampled_from(list(Sex)),
    year=st.integers(1900, 2199),
    seed=st.integers(0, 2**32),
)
def test_generated_ids_parse_back_to_what_went_in(province: str, sex: Sex, year: int, seed: int) -> None:
    value = generate_personal_id(province, sex, year, random.Random(seed))
    assert len(value) == 12
    assert value.isdigit()
    pid = parse_personal_id(value)
    assert (pid.province, pid.sex, pid.birth_year) == (province, sex, year)


@pytest.mark.parametrize(
    ("year", "sex", "digit"),
    [
        (1985, Sex.MALE, "0"),
        (1985, Sex.FEMALE, "1"),
        (2024, Sex.MALE, "2"),
        (2024, Sex.FEMALE, "3"),
        (2100, Sex.MALE, "4"),
        (2100, Sex.FEMALE, "5"),
    ],
)
def test_fourth_digit_encodes_century_and_sex(year: int, sex: Sex, digit: str) -> None:
    assert generate_personal_id("042", sex, year, random.Random(1))[3] == digit


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("04220012345", "12 digits"),
        ("04220012345x", "12 digits"),
        ("999200123456", "province"),
        ("042900123456", "century/sex"),
    ],
)
def test_malformed_ids_are_refused_with_a_reason(value: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_personal_id(value)


def test_identity_mismatch_is_named() -> None:
    female_2024 = "042324000001"
    assert check_identity(female_2024, sex=Sex.FEMALE, birth_year=2024) is None
    assert "sex" in (check_identity(female_2024, sex=Sex.MALE) or "")
    assert "birth year" in (check_identity(female_2024, birth_year=2023) or "")


def test_masking_keeps_province_and_last_two_digits_only() -> None:
    assert mask_personal_id("042200123456") == "042*******56"
    assert mask_name("Nguyễn Văn An") == "N. V. A."
    assert mask_ids_in_text("ID 042200123456, phone 0912345678") == "ID 042*******56, phone 0912345678"
