"""The work queue: most overdue first, every column sorts, filters count, the agency filter finds
dossier-level incidents where the dossier waits, the commune filter ignores diacritics."""

from datetime import datetime
from typing import Any

import pytest

from contracts.calendar import WorkingCalendar
from contracts.chains import load_chains
from dashboard import workqueue
from dashboard.wording import Words
from streams.rows import IncidentRow
from tests.unit.dashboard.rows import incident_row

NOW = datetime.fromisoformat("2024-01-25T10:00:00+07:00")
WORDS = Words(load_chains())


def incident(id: int, kind: str, subject: str, due: str | None, **extra: Any) -> IncidentRow:
    base = {
        "id": id,
        "kind": kind,
        "subject": subject,
        "severity": "high" if kind in ("lost", "link") else "medium",
        "dossier_id": f"{id:08x}-0000-0000-0000-000000000000",
        "due_at": due,
        "opened_at": due or "2024-01-20T10:00:00+07:00",
        "flow": "birth",
        "commune": "Xã Việt Tiến",
        "findings": 1,
    }
    return incident_row(**{**base, **extra})


ROWS = [
    workqueue.row(WORDS, WorkingCalendar(), r, NOW)
    for r in (
        incident(1, "stuck", "step:hotich/register_birth", "2024-01-22T17:00:00+07:00", code="H42-240122-00000001"),
        incident(2, "lost", "link:motcua->hotich", "2024-01-16T10:00:00+07:00", sender="motcua", to_agency="hotich"),
        incident(3, "stuck", "dossier", "2024-01-24T17:00:00+07:00", at_agency="cutru", at_step="register_residence"),
        incident(4, "link", "link:hotich->cutru", None, dossier_id=None, flow=None, commune=None),
        incident(
            5,
            "stuck",
            "step:cutru/register_residence",
            "2024-01-23T17:00:00+07:00",
            commune="Phường Bắc Hà",
            resolved_at="2024-01-24T09:00:00+07:00",
            resolved_how="step.completed",
        ),
    )
]


def test_the_most_overdue_incident_comes_first() -> None:
    page = workqueue.select(ROWS, workqueue.Query())
    assert [r["id"] for r in page["rows"]] == [2, 1, 3, 4]  # 7, 2 and 0 working days; then no deadline
    assert page["rows"][0]["overdue_vi"] == "quá hạn 7 ngày làm việc"
    assert page["total"] == 4
    assert page["counts"]["state"] == {"open": 4, "resolved": 1, "all": 5}


def test_every_column_sorts_both_ways() -> None:
    for key in workqueue.SORTS:
        down = workqueue.select(ROWS, workqueue.Query(sort=key, state="all"))["rows"]
        up = workqueue.select(ROWS, workqueue.Query(sort=key, state="all", descending=False))["rows"]
        assert len(down) == len(up) == 5
        assert {r["id"] for r in down} == {r["id"] for r in up}
    by_code = workqueue.select(ROWS, workqueue.Query(sort="code", descending=False))["rows"]
    # A link has no dossier; a dossier without a receipt code yet shows its id's first group.
    assert [r["code"] for r in by_code] == [None, "00000002", "00000003", "H42-240122-00000001"]
    by_code_down = workqueue.select(ROWS, workqueue.Query(sort="code"))["rows"]
    assert by_code_down == by_code[::-1]


def test_the_agency_filter_finds_dossier_level_incidents_and_both_ends_of_a_link() -> None:
    cutru = workqueue.select(ROWS, workqueue.Query(agency="cutru"))["rows"]
    assert {r["id"] for r in cutru} == {3, 4}  # the dossier waits at cutru; the link ends there
    hotich = workqueue.select(ROWS, workqueue.Query(agency="hotich"))
    assert {r["id"] for r in hotich["rows"]} == {1, 2, 4}
    assert hotich["counts"]["agency"]["hotich"] == 3


def test_the_commune_filter_ignores_case_and_diacritics() -> None:
    rows = workqueue.select(ROWS, workqueue.Query(commune="xa viet tien", state="all"))["rows"]
    assert {r["id"] for r in rows} == {1, 2, 3}
    assert workqueue.fold("Phường Đông Hà") == "phuong dong ha"


def test_pages_cut_the_sorted_list_and_say_how_many() -> None:
    page = workqueue.select(ROWS, workqueue.Query(size=10, page=1, state="all"))
    assert (page["pages"], len(page["rows"])) == (1, 5)
    assert workqueue.select(ROWS, workqueue.Query(size=10, page=2))["rows"] == []


@pytest.mark.parametrize(
    ("query", "named"),
    [({"state": "x"}, "state"), ({"sort": "x"}, "sort"), ({"kind": "x"}, "kind"), ({"size": "7"}, "size")],
)
def test_a_bad_query_is_refused_naming_the_parameter(query: dict[str, str], named: str) -> None:
    with pytest.raises(ValueError, match=named):
        workqueue.Query.parse(query)
