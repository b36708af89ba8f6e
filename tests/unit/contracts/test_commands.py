"""Admin commands: exactly one selector, nothing unknown, and a refusal that says why."""

from __future__ import annotations

import pytest

from contracts.commands import MAX_MESSAGES, Done, Republish, Selected, chunks, parse_command, parse_done
from contracts.errors import ContractError


def test_a_command_and_its_answer_survive_the_wire() -> None:
    command = Republish(agency="motcua", messages=(Selected(event_id="e1", topic="lt.work.hotich"),))
    assert parse_command(command.to_json()) == command
    since = Republish(agency="motcua", sent_since=1.5, topics=("lt.dead-letters",))
    assert parse_command(since.to_json()) == since
    done = Done(command_id=command.command_id, agency="motcua", queued=1, missing=("e2",))
    assert parse_done(done.to_json()) == done


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"not json", "Invalid JSON"),
        (b'{"agency": "motcua"}', "exactly one of messages, dossier_id, sent_since (got none)"),
        (b'{"agency": "motcua", "dossier_id": "D", "sent_since": 1.0}', "got ['dossier_id', 'sent_since']"),
        (b'{"agency": "motcua", "dossier_id": "D", "drop": true}', "Extra inputs are not permitted"),
        (b'{"command": "delete", "agency": "motcua", "dossier_id": "D"}', "Input should be 'republish'"),
        (b'{"agency": "motcua", "dossier_id": "D", "topics": ["lt.dlq"]}', "topics narrows sent_since only"),
        (b'{"agency": "motcua", "sent_since": 1.0, "topics": []}', "at least 1 item"),
    ],
)
def test_a_bad_command_is_refused_with_its_reason(raw: bytes, reason: str) -> None:
    with pytest.raises(ContractError) as refused:
        parse_command(raw)
    assert reason in str(refused.value)


def test_many_messages_are_split_into_commands_within_the_limit() -> None:
    selected = [Selected(event_id=str(i)) for i in range(MAX_MESSAGES * 2 + 1)]
    commands = chunks("hotich", selected)
    assert [len(c.messages or ()) for c in commands] == [MAX_MESSAGES, MAX_MESSAGES, 1]
    assert [m for c in commands for m in c.messages or ()] == selected
    assert len({c.command_id for c in commands}) == 3
