"""`lienthong compose check` on a file that would not come up as written: exit 2, the refusal
naming the service and the key, and nothing started (no work folder filled, no process)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from lienthong.cli import main

ROOT = Path(__file__).resolve().parents[3]


def _copy(tmp_path: Path, old: str, new: str) -> Path:
    deploy = tmp_path / "deploy"
    deploy.mkdir()
    for name in ("Dockerfile", "nginx.conf"):
        shutil.copy(ROOT / "deploy" / name, deploy / name)
    text = (ROOT / "deploy" / "compose.yaml").read_text(encoding="utf-8")
    assert old in text
    (deploy / "compose.yaml").write_text(text.replace(old, new), encoding="utf-8")
    return deploy / "compose.yaml"


def test_an_address_to_no_service_exits_2_naming_it_and_starts_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    compose = _copy(tmp_path, "LT_KAFKA_BOOTSTRAP: kafka-1:9092,", "LT_KAFKA_BOOTSTRAP: kafka-9:9092,")
    workdir = tmp_path / "work"
    assert main(["compose", "check", "--file", str(compose), "--workdir", str(workdir)]) == 2
    out = capsys.readouterr()
    assert "LT_KAFKA_BOOTSTRAP: kafka-9:9092 names no service of the file" in out.out
    assert "nothing was started" in out.out
    assert not (workdir / "containers").exists()


def test_a_missing_dockerfile_exits_2_naming_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    compose = _copy(tmp_path, "name: lienthong", "name: lienthong")
    (compose.parent / "Dockerfile").unlink()
    assert main(["compose", "check", "--file", str(compose), "--workdir", str(tmp_path / "work")]) == 2
    assert "our image builds from" in capsys.readouterr().out
