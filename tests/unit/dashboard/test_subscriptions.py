"""An officer's subscription as data, and the Alertmanager route and receiver it becomes."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from dashboard.subscribe import reason
from dashboard.subscriptions import Subscription, with_subscriptions

BASE = {
    "global": {"smtp_smarthost": "127.0.0.1:2525"},
    "route": {"receiver": "ops-webhook", "routes": [{"matchers": ['severity="critical"'], "receiver": "ops-page"}]},
    "receivers": [{"name": "ops-webhook"}, {"name": "ops-page"}],
}


def test_each_subscription_routes_its_communes_and_flows_first_and_lets_the_duty_route_continue() -> None:
    lan = Subscription(
        officer="Nguyễn Thị Lan",
        channel="webhook",
        address="https://x/lan",
        communes=["Xã Tùng Lộc", "Phường (Cũ)"],
        flows=["birth"],
    )
    minh = Subscription(officer="Trần Văn Minh", channel="email", address="minh@xa.gov.vn")
    config = with_subscriptions(BASE, [(7, lan), (9, minh)])
    first, second, duty = config["route"]["routes"]
    assert first == {
        "matchers": [
            'alertname="LienthongDossierOverdue"',
            r'commune=~"Phường \(Cũ\)|Xã Tùng Lộc"',
            'flow=~"birth"',
        ],
        "receiver": "officer-7",
        "group_by": ["dossier"],
        "continue": True,
    }
    assert second["matchers"] == ['alertname="LienthongDossierOverdue"']  # no commune, no flow: all
    assert duty == BASE["route"]["routes"][0]
    assert config["receivers"][-2]["webhook_configs"] == [{"url": "https://x/lan", "send_resolved": False}]
    assert config["receivers"][-1]["email_configs"][0]["to"] == "minh@xa.gov.vn"
    assert BASE["route"]["routes"] == [duty]  # the shipped configuration is not changed


def test_an_email_subscription_without_a_mail_relay_is_refused() -> None:
    minh = Subscription(officer="Trần Văn Minh", channel="email", address="minh@xa.gov.vn")
    with pytest.raises(ValueError, match="LT_ALERT_SMTP"):
        with_subscriptions({**BASE, "global": {}}, [(1, minh)])


@pytest.mark.parametrize(
    ("body", "said"),
    [
        ({"channel": "pager"}, "channel: giá trị không hợp lệ"),
        ({"address": "not-a-mail"}, "address: địa chỉ thư không hợp lệ"),
        (
            {"channel": "webhook", "address": "ftp://x"},
            "address: địa chỉ webhook phải bắt đầu bằng http:// hoặc https://",
        ),
        ({"flows": ["adoption"]}, "flows.0: giá trị không hợp lệ"),
        ({"officer": " "}, "officer: không được để trống"),
        ({"pager": 1}, "pager: trường này không có trong đăng ký"),
    ],
)
def test_a_bad_subscription_is_refused_naming_the_field_in_vietnamese(body: dict[str, object], said: str) -> None:
    good = {"officer": "Trần Văn Minh", "channel": "email", "address": "minh@xa.gov.vn"}
    with pytest.raises(ValidationError) as caught:
        Subscription.model_validate({**good, **body})
    assert reason(caught.value) == said
