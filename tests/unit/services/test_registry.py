"""Every agency the supervisor starts has a spec in the registry, named after it; an unknown name
is refused with the known ones."""

from __future__ import annotations

import pytest

from contracts.topics import SIMULATED_AGENCIES
from services.registry import agency_spec


def test_every_agency_has_its_spec() -> None:
    for name in SIMULATED_AGENCIES:
        spec = agency_spec(name)
        assert spec.agency == name
        # Every agency runs chain steps, but the population database, which answers questions.
        assert spec.handlers or (name == "dancu" and spec.extra_routes)
        assert "CREATE" in spec.ddl.upper()


def test_an_unknown_agency_is_refused_naming_the_known_ones() -> None:
    with pytest.raises(ValueError, match="no agency 'xyz'; known: portal, dancu, motcua"):
        agency_spec("xyz")
