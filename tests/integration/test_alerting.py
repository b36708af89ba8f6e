"""Notifications through the real parts: Debian's Alertmanager on the configuration `up --alerting`
writes from the shipped route (deploy/alerting.py), a webhook receiver and an SMTP sink
(aiosmtpd), all on 127.0.0.1. An agency outage with twenty dossiers waiting at it is one
notification, the outage's: its per-dossier alerts are inhibited. A dossier overdue elsewhere is
notified on both channels, by its code, commune, place and lateness in Vietnamese, with the
console's link."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from deploy import alerting
from deploy.embedded import free_port
from tests import debian
from tests.receivers import Receivers, receivers

pytestmark = pytest.mark.integration


def _alert(name: str, labels: dict[str, str], summary: str) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {
        "labels": {"alertname": name, **labels},
        "annotations": {"summary": summary},
        "startsAt": now.isoformat(),
        "endsAt": (now + timedelta(minutes=10)).isoformat(),
    }


def _dossier(n: int, agency: str, code: str) -> dict[str, Any]:
    labels = {
        "dossier": f"d-{agency}-{n}",
        "code": code,
        "commune": "Xã Tùng Lộc",
        "place": "Công an xã – Đăng ký thường trú" if agency == "cutru" else "UBND xã – Đăng ký khai sinh",
        "kind": "stuck",
        "kind_vi": "Ùn tắc, quá hạn",
        "severity": "high",
        "agency": agency,
        "flow": "birth",
    }
    summary = f"Hồ sơ {code} (Xã Tùng Lộc): Ùn tắc, quá hạn tại {labels['place']}, quá hạn 4 ngày làm việc"
    return _alert("LienthongDossierOverdue", labels, summary)


async def test_an_outage_is_one_notification_and_a_dossier_elsewhere_reaches_webhook_and_mail(tmp_path: Path) -> None:
    debian.ensure_alerting()
    with receivers() as got:
        await _outage_and_one_dossier(tmp_path, got)


async def _outage_and_one_dossier(tmp_path: Path, got: Receivers) -> None:
    received, box = got.posted, got.mailbox
    plan = alerting.Plan(
        interval_s=1, group_wait_s=1, webhook_url=got.webhook_url, smtp=got.smtp, console_url="http://127.0.0.1:8490"
    )
    started = await asyncio.to_thread(alerting.start, tmp_path, {"monitor": free_port()}, plan)
    try:
        api = f"http://127.0.0.1:{started['alertmanager']['port']}/api/v2/alerts"
        outage = _alert(
            "LienthongAgencySilent",
            {"agency": "cutru", "severity": "critical"},
            "Hệ thống cutru không còn gửi tín hiệu hoạt động",
        )
        waiting = [_dossier(n, "cutru", f"000.00.11.H27-240109-{n:04d}") for n in range(20)]
        elsewhere = _dossier(99, "hotich", "000.00.11.H27-240110-0099")
        async with aiohttp.ClientSession() as http:
            for batch in ([outage], [*waiting, elsewhere]):
                async with http.post(api, json=batch) as r:
                    assert r.status == 200, await r.text()

            # No wait for notifications that should not come: Alertmanager's own word that the
            # twenty waiting dossiers are inhibited by the outage is why none can come.
            for _ in range(150):  # at most 30 s
                async with http.get(api) as r:
                    held = [
                        a for a in await r.json() if a["labels"].get("agency") == "cutru" and "dossier" in a["labels"]
                    ]
                inhibited = [a for a in held if a["status"]["inhibitedBy"]]
                if len(received) >= 2 and len(box.messages) >= 2 and len(inhibited) == len(waiting):
                    break
                await asyncio.sleep(0.2)
        assert len(inhibited) == len(waiting), held[:2]

        names = [(n["groupLabels"], [a["labels"]["alertname"] for a in n["alerts"]]) for n in received]
        assert len(received) == 2, json.dumps(names, ensure_ascii=False)
        by_agency = {n["groupLabels"]["agency"]: n for n in received}
        assert [a["labels"]["alertname"] for a in by_agency["cutru"]["alerts"]] == ["LienthongAgencySilent"]
        (dossier,) = by_agency["hotich"]["alerts"]
        summary = dossier["annotations"]["summary"]
        assert summary == (
            "Hồ sơ 000.00.11.H27-240110-0099 (Xã Tùng Lộc): Ùn tắc, quá hạn tại UBND xã – Đăng ký khai sinh, "
            "quá hạn 4 ngày làm việc"
        )
        mails = box.texts()
        assert len(mails) == 2, [m["Subject"] for m in box.messages]
        assert sum("000.00.11.H27-240110-0099" in m for m in mails) == 1
        assert not any("000.00.11.H27-240109-" in m for m in mails)  # the outage's dossiers: inhibited
        assert any("quá hạn 4 ngày làm việc" in m for m in mails)
    finally:
        await asyncio.to_thread(alerting.stop, started)
