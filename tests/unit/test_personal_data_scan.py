"""The personal-data search the faults e2e run relies on (tests/e2e/personal_data.py) finds what
it must: an unmasked ID number, a full name in plain text or behind JSON escapes; and lets
masked ones through. A search that could not fail would prove nothing."""

from __future__ import annotations

import json

from contracts.deadletters import mask
from tests.e2e.personal_data import leaks

IDS = {"042190001234"}
NAMES = {"Nguyễn Thị Hoa", "Trần Văn Bảo Long"}


def test_an_unmasked_id_or_name_is_found_wherever_it_hides() -> None:
    lines = [
        ("a.log:1", "dossier accepted personal_id=042190001234"),
        ("b.log:7", json.dumps({"event": "refused", "who": "Nguyễn Thị Hoa"})),  # \\u escapes in the file
        ("c.log:2", "applicant Trần Văn Bảo Long, born 1990"),
        ("letter 0", json.dumps({"value": {"mother": {"personal_id": "042190001234"}}})),
    ]
    found = leaks(lines, IDS, NAMES)
    assert [f.split(":")[0] for f in found] == ["a.log", "b.log", "c.log", "letter 0"]


def test_masked_ids_and_names_and_other_numbers_pass() -> None:
    masked = mask({"mother": {"personal_id": "042190001234", "full_name": "Nguyễn Thị Hoa"}})
    lines = [
        ("a.log:1", "dossier accepted personal_id=042*******34 mother=N. T. H."),
        ("b.log:1", json.dumps(masked, ensure_ascii=False)),
        ("c.log:1", "request took 1234567890123 ns, partition 042190001234567"),  # not 12 digits alone
        ("d.log:1", "Nguyễn Thị Lan lives here"),  # another name, not a citizen of the run
    ]
    assert leaks(lines, IDS, NAMES) == []
