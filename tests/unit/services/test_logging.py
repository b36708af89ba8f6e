"""Personal data never reaches a log line unmasked."""

from __future__ import annotations

import json

import pytest
import structlog

from runtime.logging import configure


@pytest.fixture
def json_logs(capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    configure("test", "json", "info", cache=False)
    yield lambda: [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.strip()]
    structlog.reset_defaults()


def test_ids_and_names_are_masked_everywhere(json_logs) -> None:  # type: ignore[no-untyped-def]
    log = structlog.get_logger()
    log.info(
        "submitted 042200123456",
        personal_id="042200123456",
        full_name="Nguyễn Văn An",
        dossier={"mother": {"full_name": "Trần Thị Hoa", "personal_id": "042185000777"}},
        note="mother 042185000777 called",
    )
    raw = json.dumps(json_logs(), ensure_ascii=False)
    for secret in ("042200123456", "042185000777", "Nguyễn Văn An", "Trần Thị Hoa"):
        assert secret not in raw
    assert "042*******56" in raw
    assert "N. V. A." in raw
    assert "T. T. H." in raw


def test_exception_text_is_masked(json_logs) -> None:  # type: ignore[no-untyped-def]
    try:
        raise ValueError("duplicate key 042200123456")
    except ValueError:
        structlog.get_logger().exception("failed")
    raw = json.dumps(json_logs())
    assert "042200123456" not in raw
    assert "042*******56" in raw


def test_bound_context_is_kept(json_logs) -> None:  # type: ignore[no-untyped-def]
    with structlog.contextvars.bound_contextvars(dossier_id="d-9", trace_id="t-9"):
        structlog.get_logger().info("step done")
    [line] = json_logs()
    assert (line["dossier_id"], line["trace_id"], line["service"]) == ("d-9", "t-9", "test")
