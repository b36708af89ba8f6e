"""The CLI's exit codes are the same for every command (lienthong/exits.py): a dependency that
cannot be reached is one line naming it and the setting to check, exit 3, never a traceback;
bad input is exit 2; Ctrl-C stops cleanly with 130; `--version` answers."""

from __future__ import annotations

import socket

import pytest

from lienthong import cli, exits
from lienthong.commands import stack


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_version_answers(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        cli.main(["--version"])
    assert stop.value.code == 0
    assert capsys.readouterr().out.startswith("lienthong ")


def test_a_database_that_cannot_be_reached_is_one_line_and_exit_3(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Regression: `alerts` with the database down ended in a ConnectionRefusedError traceback
    and exit 1, the code of a failed check."""
    monkeypatch.setenv("LT_KAFKA_BOOTSTRAP", f"127.0.0.1:{closed_port()}")
    monkeypatch.setenv("LT_DATABASE_URL", f"postgresql://u:p@127.0.0.1:{closed_port()}/db")
    assert cli.main(["alerts", "--open"]) == exits.UNREACHABLE
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith("lienthong: cannot reach PostgreSQL: ")
    assert "LT_DATABASE_URL" in err[0]


def test_no_stack_at_all_says_to_start_it(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("LT_KAFKA_BOOTSTRAP", raising=False)
    monkeypatch.delenv("LT_DATABASE_URL", raising=False)
    monkeypatch.setenv("LT_HOME", "/nonexistent-lienthong-home")
    assert cli.main(["alerts", "--open"]) == exits.UNREACHABLE
    assert "lienthong up" in capsys.readouterr().err


def test_bad_input_is_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["run", "--profile", "no-such-profile"]) == exits.BAD_INPUT
    assert "no profile 'no-such-profile'" in capsys.readouterr().err
    with pytest.raises(SystemExit) as stop:
        cli.main(["run", "--no-such-flag"])
    assert stop.value.code == exits.BAD_INPUT


def test_ctrl_c_stops_cleanly_with_130(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    def interrupted(*_: object) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr(stack, "cmd_status", interrupted)  # read when the parser is built, in main
    assert cli.main(["status"]) == exits.INTERRUPTED
    assert capsys.readouterr().err.strip() == "lienthong: interrupted"


def test_an_unknown_failure_is_not_disguised_as_a_dependency() -> None:
    assert exits.unreachable(ZeroDivisionError("x")) is None
    assert exits.unreachable(KeyError("x")) is None
