"""Workload profiles load from YAML; broken ones say why."""

from __future__ import annotations

import pytest

from lienthong.workload import profiles


def test_smoke_profile_is_1000_births_in_ha_tinh() -> None:
    p = profiles.load("smoke")
    assert (p.province, p.volumes, p.expected("birth"), p.expected("lltp")) == ("042", {"birth": 1000}, 1000, 0)


def test_unknown_profile_lists_what_exists() -> None:
    with pytest.raises(ValueError, match=r"available: .*smoke"):
        profiles.load("no-such-profile")


def test_profile_with_unknown_chain_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown chains"):
        profiles.parse({"province": "042", "period": {"start": "2024-01-01"}, "volumes": {"wedding": 3}}, "x")
