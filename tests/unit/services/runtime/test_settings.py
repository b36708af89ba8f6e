"""The one settings object: `LT_*` parsed by type, a bad value refused naming its variable, and
nothing read from the environment unless asked."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from contracts.clock import VN_TZ
from runtime.settings import Settings, clock_env


def test_variables_are_parsed_by_their_type(tmp_path: Path) -> None:
    s = Settings.from_env(
        {"LT_HOME": str(tmp_path), "LT_PARTITIONS": "6", "LT_SIM_SPEED": "15000", "LT_BROKER": "kafka", "LT_SEED": ""}
    )
    assert (s.home, s.partitions, s.sim_speed, s.broker) == (tmp_path, 6, 15000.0, "kafka")
    assert s.seed == Settings().seed  # an empty variable is not set


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"LT_PARTITIONS": "four"}, "LT_PARTITIONS='four': Input should be a valid integer"),
        ({"LT_SIM_SPEED": "fast"}, "LT_SIM_SPEED='fast': Input should be a valid number"),
        ({"LT_BROKER": "redpanda"}, "LT_BROKER='redpanda': Input should be '', 'tansu' or 'kafka'"),
        ({"LT_BROKERS": "0"}, "LT_BROKERS=0: a cluster needs at least 1 broker"),
    ],
)
def test_a_bad_value_is_refused_naming_its_variable(env: dict[str, str], message: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"^LT_") as refused:
        Settings.from_env({"LT_HOME": str(tmp_path), **env})
    assert message in str(refused.value)


def test_a_settings_object_built_in_code_ignores_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LT_TOPIC_PREFIX", "from-env")
    assert Settings().topic_prefix == "lt"
    assert Settings.from_env().topic_prefix == "from-env"


def test_replace_validates_and_refuses_unknown_names() -> None:
    s = Settings(partitions=4)
    assert s.replace(partitions=8).partitions == 8
    assert s.partitions == 4
    with pytest.raises(ValueError, match="LT_PARTITIONS"):
        s.replace(partitions="many")
    with pytest.raises(ValueError, match="LT_NO_SUCH"):
        s.replace(no_such=1)


def test_an_agency_beats_as_much_more_often_as_its_governed_clock_may_run_past_its_speed() -> None:
    """At 4× the run's speed a beat a second would be four of the monitor's intervals apart in sim
    time, past its three-beat silence limit: the agencies beat four times a second instead."""
    env = clock_env(datetime(2024, 1, 1, tzinfo=VN_TZ), 0.0, 15000.0, 5.0, None, 60000.0)
    assert Settings.from_env({**env, "LT_HEARTBEAT_S": "1"}).beat_interval_s() == 0.25
    steady = clock_env(datetime(2024, 1, 1, tzinfo=VN_TZ), 0.0, 15000.0, 5.0)
    assert Settings.from_env({**steady, "LT_HEARTBEAT_S": "1"}).beat_interval_s() == 1.0
