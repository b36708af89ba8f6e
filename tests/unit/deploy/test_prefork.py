"""A service started as a fork of the supervisor behaves as one started with its own interpreter:
`python -m MODULE` with the given environment, its output in its log, a session of its own, its
own title in ps, none of the supervisor's files open, and its exit code seen by the supervisor."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from deploy import prefork


def test_a_forked_child_runs_its_module_with_its_env_log_session_title_and_exit_code(tmp_path: Path) -> None:
    log = tmp_path / "child.log"
    held = (tmp_path / "held").open("w")  # a file of the supervisor's, which the child must not keep
    try:
        child = prefork.spawn("tests.unit.deploy.forked_child", {"LT_PREFORK_TEST": "yes", "PATH": "/usr/bin"}, log)
        deadline = time.monotonic() + 30
        while child.poll() is None:
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.05)
    finally:
        held.close()
    assert child.returncode == 3
    assert child.wait() == 3
    lines = log.read_text().splitlines()
    assert lines[0].endswith("env=yes sid=True"), lines
    assert lines[0].startswith("argv=")
    assert "forked_child" in lines[0]
    assert lines[1].endswith("-m tests.unit.deploy.forked_child"), lines
    assert lines[2] == "fds=[0, 1, 2, 3]", lines  # stdin, the log twice, and listdir's own


def test_a_child_that_raises_exits_1_with_its_traceback_in_its_log(tmp_path: Path) -> None:
    log = tmp_path / "child.log"
    child = prefork.spawn("tests.unit.deploy.no_such_module", {}, log)
    assert child.wait() == 1
    assert "No module named tests.unit.deploy.no_such_module" in log.read_text()


@pytest.mark.parametrize(("value", "expected"), [("0", False), ("1", True)])
def test_lt_prefork_0_starts_each_service_with_its_own_interpreter(
    monkeypatch: pytest.MonkeyPatch, value: str, expected: bool
) -> None:
    monkeypatch.setenv("LT_PREFORK", value)
    assert prefork.enabled() is expected
