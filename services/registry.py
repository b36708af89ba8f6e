"""Every agency's spec by name: the services floor says what each agency runs, so the platform
(runtime/service.py) is handed a spec and never imports an agency's package by its name."""

from __future__ import annotations

from importlib import resources
from types import ModuleType

from runtime.service import AgencySpec
from services.bhxh import handlers as bhxh
from services.btxh import handlers as btxh
from services.cutru import handlers as cutru
from services.dancu import app as dancu
from services.hotich import handlers as hotich
from services.lltp import handlers as lltp
from services.motcua import handlers as motcua
from services.portal import app as portal

PLAIN: dict[str, ModuleType] = {
    "motcua": motcua,
    "hotich": hotich,
    "cutru": cutru,
    "bhxh": bhxh,
    "btxh": btxh,
    "lltp": lltp,
}
"""Agencies that are their handlers and their schema; the portal and the population database
(dancu) add their HTTP APIs."""


def agency_spec(name: str) -> AgencySpec:
    """The spec of agency `name`; a name no agency has is refused with the known ones."""
    if name == "portal":
        return portal.spec()
    if name == "dancu":
        return dancu.spec()
    if name not in PLAIN:
        raise ValueError(f"no agency {name!r}; known: portal, dancu, {', '.join(PLAIN)}")
    schema = resources.files(f"services.{name}").joinpath("schema.sql").read_text()
    return AgencySpec(name, PLAIN[name].HANDLERS, schema)
