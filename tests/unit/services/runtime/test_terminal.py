"""Terminal tables line up whatever the script: Vietnamese text with combining marks included."""

from __future__ import annotations

import unicodedata

from runtime.terminal import table


def test_vietnamese_cells_line_up_in_nfc() -> None:
    """Padding by `len` misaligned a column after a decomposed (NFD) Vietnamese cell: each
    combining mark counted as a column the terminal does not show."""
    decomposed = unicodedata.normalize("NFD", "Nguyễn Thị Hà Tĩnh")
    text = table([{"name": decomposed, "n": 1}, {"name": "An", "n": 22}], ["name", "n"])
    lines = text.splitlines()
    assert unicodedata.is_normalized("NFC", text)
    assert "Nguyễn Thị Hà Tĩnh" in text
    # The second column starts at the same terminal column on every row.
    starts = {line.rstrip().rfind(" ") for line in (lines[0], lines[2], lines[3])}
    assert len(starts) == 1, text
