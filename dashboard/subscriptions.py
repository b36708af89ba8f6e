"""An officer's own notifications: overdue dossiers of the communes and flows they follow, by mail
or to their webhook. Pure: the subscription as data, and the Alertmanager routes and receivers it
becomes (deploy/alerting.py writes them beside the shipped route and asks Alertmanager to reload).

Decisions: a subscription follows the console's series `LienthongDossierOverdue` only (one
dossier overdue, labelled with its commune and flow), not the agency-wide pages, which stay the
duty officers'; no commune (or no flow) means all of them; each subscription's route comes first
and `continue`s, so the shipped route still pages the duty officers; an outage's inhibition
applies to it as to every other route."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from contracts.jsontypes import JsonObject, JsonValue, arr, obj

FLOWS = ("birth", "death", "lltp", "marriage")
SERIES = "LienthongDossierOverdue"
MAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]


class Subscription(BaseModel):
    """What an officer asks for (the body of `POST /api/v1/subscriptions`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    officer: Text
    channel: Literal["email", "webhook"]
    address: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=300)]
    communes: list[Text] = Field(default_factory=list, max_length=100)
    flows: list[Literal["birth", "death", "lltp", "marriage"]] = Field(default_factory=list)

    @field_validator("address")
    @classmethod
    def _address(cls, value: str, info: Any) -> str:
        channel = info.data.get("channel")
        if channel == "email" and not MAIL.match(value):
            raise ValueError("địa chỉ thư không hợp lệ")
        if channel == "webhook" and not re.match(r"^https?://[^\s]+$", value):
            raise ValueError("địa chỉ webhook phải bắt đầu bằng http:// hoặc https://")
        return value


SPECIAL = set("\\.+*?()|[]{}^$")


def _literal(value: str) -> str:
    """`value` as an RE2 literal inside a double-quoted matcher: Python's `re.escape` would also
    escape spaces, which RE2 (Alertmanager's regex engine) refuses."""
    quoted = "".join(f"\\{c}" if c in SPECIAL else c for c in value)
    return quoted.replace('"', '\\"')


def _any_of(values: list[str]) -> str:
    """A regex matching exactly one of `values` (Alertmanager anchors it)."""
    return "|".join(_literal(v) for v in sorted(set(values)))


def receiver_name(sub_id: int) -> str:
    return f"officer-{sub_id}"


def route(sub_id: int, sub: Subscription) -> JsonObject:
    """The Alertmanager route of one subscription: its series, its communes and flows, its receiver."""
    matchers: list[JsonValue] = [f'alertname="{SERIES}"']
    if sub.communes:
        matchers.append(f'commune=~"{_any_of(sub.communes)}"')
    if sub.flows:
        matchers.append(f'flow=~"{_any_of(list(sub.flows))}"')
    return {"matchers": matchers, "receiver": receiver_name(sub_id), "group_by": ["dossier"], "continue": True}


def receiver(sub_id: int, sub: Subscription) -> JsonObject:
    if sub.channel == "email":
        subject = "[Liên thông] Hồ sơ quá hạn {{ .CommonLabels.code }} ({{ .CommonLabels.commune }})"
        config: JsonObject = {"to": sub.address, "send_resolved": False, "headers": {"Subject": subject}}
        return {"name": receiver_name(sub_id), "email_configs": [config]}
    return {"name": receiver_name(sub_id), "webhook_configs": [{"url": sub.address, "send_resolved": False}]}


def with_subscriptions(config: JsonObject, subs: list[tuple[int, Subscription]]) -> JsonObject:
    """The Alertmanager configuration with each subscription's route first and its receiver."""
    relay = obj(config.get("global") or {}).get("smtp_smarthost")
    if any(s.channel == "email" for _, s in subs) and not relay:
        raise ValueError("no mail relay is configured (LT_ALERT_SMTP): an e-mail subscription cannot be delivered")
    shipped = obj(config["route"])
    routes: list[JsonValue] = [*(route(i, s) for i, s in subs), *arr(shipped.get("routes", []))]
    receivers: list[JsonValue] = [*arr(config["receivers"]), *(receiver(i, s) for i, s in subs)]
    return {**config, "route": {**shipped, "routes": routes}, "receivers": receivers}
