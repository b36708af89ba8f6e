"""Bad broker settings are refused with one clear line and nothing starts: an unknown
LT_BROKER, `--brokers 0`, `--brokers` with the embedded broker, an unknown Kafka security
protocol, a security bench of the monitor, and Java or Maven missing."""

from __future__ import annotations

from pathlib import Path

import pytest

from deploy import kafka_cluster
from lienthong.cli import main


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("LT_BROKER", "LT_BROKERS", "LT_KAFKA_BOOTSTRAP", "LT_DATABASE_URL", "LT_KAFKA_SECURITY_PROTOCOL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LT_HOME", str(tmp_path))
    return tmp_path


@pytest.mark.parametrize(
    ("argv", "env", "message"),
    [
        (["up"], {"LT_BROKER": "rabbitmq"}, "LT_BROKER='rabbitmq': Input should be '', 'tansu' or 'kafka'"),
        (["up"], {"LT_BROKERS": "0"}, "LT_BROKERS=0: a cluster needs at least 1 broker"),
        (["up", "--broker", "kafka", "--brokers", "0"], {}, "--brokers 0: a cluster needs at least 1 broker"),
        (["up", "--broker", "tansu", "--brokers", "3"], {}, "--brokers sizes an Apache Kafka cluster"),
        (["up", "--replicas", "police=2"], {}, "--replicas names 'police'"),
        (["bench", "--broker", "security", "--only", "monitor"], {}, "--broker security compares the secured"),
        (["up"], {"LT_KAFKA_SECURITY_PROTOCOL": "TLS"}, "LT_KAFKA_SECURITY_PROTOCOL='TLS': Input should be"),
    ],
)
def test_a_bad_broker_setting_is_refused_and_nothing_starts(
    home: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    env: dict[str, str],
    message: str,
) -> None:
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err
    assert not (home / "stack.json").exists()
    assert not (home / "logs").exists()


@pytest.mark.parametrize(("tool", "package"), [("java", "openjdk-17-jre-headless"), ("mvn", "maven")])
def test_java_or_maven_missing_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, tool: str, package: str
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))  # no cached jars: Maven would be needed
    monkeypatch.setattr(kafka_cluster.shutil, "which", lambda name: None if name == tool else f"/usr/bin/{name}")
    with pytest.raises(kafka_cluster.ToolMissing, match=f"`{tool}` is not installed.*apt-get install {package}"):
        kafka_cluster.ensure_jars()
