from datetime import datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contracts.clock import VN_TZ
from ops.report.periods import parse_period, parse_range
from ops.report.statistics import ALL_FLOWS, TOTAL, DossierFacts, Row, check, tabulate

JAN = parse_period("2024-01")


def at(day: int, month: int = 1, hour: int = 9) -> datetime:
    return datetime(2024, month, day, hour, tzinfo=VN_TZ)


def dossier(n: int, **kw: object) -> DossierFacts:
    base: dict[str, object] = {
        "dossier_id": f"D{n}",
        "flow": "lltp",
        "province": "Hà Tĩnh",
        "district": "Huyện Can Lộc",
        "commune": "Xã Tùng Lộc",
        "online": True,
        "fee_bearing": True,
        "paid_online": True,
        "return_by_post": True,
        "submitted_at": at(10),
        "due_at": at(24),
        "closed_at": None,
        "outcome": None,
    }
    base.update(kw)
    return DossierFacts(**base)  # type: ignore[arg-type]


def total(rows: list[Row], flow: str = "lltp") -> Row:
    return next(r for r in rows if r.flow == flow and r.area == TOTAL)


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("2024-01", (2024, 1, 1), (2024, 2, 1)),
        ("2024-12", (2024, 12, 1), (2025, 1, 1)),
        ("2024-Q1", (2024, 1, 1), (2024, 4, 1)),
        ("2024-q4", (2024, 10, 1), (2025, 1, 1)),
        ("2024-H1", (2024, 1, 1), (2024, 7, 1)),
        ("2024-H2", (2024, 7, 1), (2025, 1, 1)),
        ("2024", (2024, 1, 1), (2025, 1, 1)),
        ("2024-W01", (2024, 1, 1), (2024, 1, 8)),
    ],
)
def test_periods_are_calendar_periods_in_vietnam_time(text: str, start: tuple[int, ...], end: tuple[int, ...]) -> None:
    p = parse_period(text)
    assert p.start == datetime(*start, tzinfo=VN_TZ)
    assert p.end == datetime(*end, tzinfo=VN_TZ)


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("2024-01", (2023, 12, 15), (2024, 1, 15)),  # Decree 09/2019: 15th of the month before to the 14th
        ("2024-03", (2024, 2, 15), (2024, 3, 15)),
        ("2024-Q1", (2023, 12, 15), (2024, 3, 15)),
        ("2024", (2023, 12, 15), (2024, 12, 15)),
    ],
)
def test_a_cutoff_day_closes_the_period_on_that_day(text: str, start: tuple[int, ...], end: tuple[int, ...]) -> None:
    p = parse_period(text, cutoff=14)
    assert (p.start, p.end) == (datetime(*start, tzinfo=VN_TZ), datetime(*end, tzinfo=VN_TZ))
    assert p.label == f"{text}-cutoff14"
    assert "chốt số liệu ngày 14" in p.title_vi


def test_an_explicit_range_includes_both_days() -> None:
    p = parse_range("2023-12-14", "2024-01-13")
    assert (p.start, p.end) == (datetime(2023, 12, 14, tzinfo=VN_TZ), datetime(2024, 1, 14, tzinfo=VN_TZ))
    assert p.title_vi == "Kỳ báo cáo từ 14/12/2023 đến 13/01/2024"
    with pytest.raises(ValueError, match="before"):
        parse_range("2024-01-13", "2023-12-14")
    with pytest.raises(ValueError, match="weeks"):
        parse_period("2024-W05", cutoff=14)
    with pytest.raises(ValueError, match="1–28"):
        parse_period("2024-01", cutoff=30)


@pytest.mark.parametrize("text", ["2024-13", "24-01", "2024-Q5", "2024-H3", "2024-W54", "last month"])
def test_a_malformed_period_is_refused_with_the_expected_forms(text: str) -> None:
    with pytest.raises(ValueError, match=r"period"):
        parse_period(text)


def test_each_dossier_lands_in_exactly_one_column() -> None:
    facts = [
        dossier(1, closed_at=at(12), outcome="completed"),  # on time, by post
        dossier(2, due_at=at(11), closed_at=at(15), outcome="completed"),  # late
        dossier(3, closed_at=at(12), outcome="rejected"),  # refused on time: not returned by post
        dossier(4),  # in progress, within its date at the month's end? due 24 Jan: overdue on 1 Feb
        dossier(5, due_at=at(5, 2)),  # in progress within its date
        dossier(6, submitted_at=at(28, 12, 9).replace(year=2023), due_at=at(8), closed_at=at(3), outcome="completed"),
        dossier(7, submitted_at=at(20, 12).replace(year=2023), closed_at=at(22, 12).replace(year=2023)),  # not ours
        dossier(8, online=False, fee_bearing=False, paid_online=False, submitted_at=at(3, 2)),  # next month
    ]
    rows = tabulate(facts, JAN, "district")
    c = total(rows).counts
    assert c["received"] == 5
    assert c["carried_over"] == 1
    assert (c["resolved_on_time"], c["resolved_late"], c["refused"]) == (3, 1, 1)
    assert (c["in_progress"], c["overdue"]) == (1, 1)
    assert c["returned_by_post"] == 3
    assert check(rows) == []


def test_in_progress_is_taken_at_the_cutoff_when_the_period_has_not_ended() -> None:
    facts = [dossier(1, due_at=at(24)), dossier(2, submitted_at=at(20), due_at=at(30))]
    rows = tabulate(facts, JAN, "district", cutoff=at(25))
    c = total(rows).counts
    assert (c["received"], c["in_progress"], c["overdue"]) == (2, 1, 1)


def test_the_official_payment_rate_divides_by_free_dossiers_too() -> None:
    # The reports' example: 619 of 3,268 fee-bearing paid online showed as a tiny share of all.
    paid = [dossier(i, paid_online=True) for i in range(3)]
    unpaid = [dossier(10 + i, paid_online=False) for i in range(1)]
    free = [dossier(20 + i, fee_bearing=False, paid_online=False) for i in range(6)]
    rates = total(tabulate([*paid, *unpaid, *free], JAN, "province")).rates()
    assert rates["online_payment_rate"] == {"official": 0.3, "corrected": 0.75}


def test_the_official_online_rate_averages_over_every_declared_flow() -> None:
    facts = [dossier(1, flow="birth", online=True), dossier(2, flow="birth", online=False)]
    rows = tabulate(facts, JAN, "province")
    everything = next(r for r in rows if r.flow == ALL_FLOWS)
    # birth 50 %, death and lltp declared but empty count as 0 %: (0.5 + 0 + 0) / 3.
    assert everything.rates()["online_rate"] == {"official": 0.1667, "corrected": 0.5}
    # A province that runs the marriage liaison declares it too: (0.5 + 0 + 0 + 1) / 4.
    facts.append(dossier(3, flow="marriage", online=True))
    everything = next(r for r in tabulate(facts, JAN, "province") if r.flow == ALL_FLOWS)
    assert everything.rates()["online_rate"] == {"official": 0.375, "corrected": 0.6667}


def test_on_time_rate_official_divides_by_everything_received_corrected_by_what_finished() -> None:
    facts = [dossier(1, closed_at=at(12), outcome="completed"), dossier(2), dossier(3), dossier(4)]
    rates = total(tabulate(facts, JAN, "district")).rates()
    assert rates["on_time_rate"] == {"official": 0.25, "corrected": 1.0}


def test_a_rate_with_nothing_to_divide_by_is_no_figure() -> None:
    rates = total(tabulate([dossier(1, fee_bearing=False, paid_online=False)], JAN, "district")).rates()
    assert rates["online_payment_rate"]["corrected"] is None
    assert rates["on_time_rate"]["corrected"] is None


def test_rows_per_area_then_flow_totals_then_all_flows() -> None:
    facts = [
        dossier(1, commune="Xã B"),
        dossier(2, commune="Xã A"),
        dossier(3, flow="birth", commune="Xã A"),
    ]
    rows = tabulate(facts, JAN, "commune")
    assert [(r.flow, r.area) for r in rows] == [
        ("birth", "Xã A"),
        ("birth", TOTAL),
        ("lltp", "Xã A"),
        ("lltp", "Xã B"),
        ("lltp", TOTAL),
        (ALL_FLOWS, TOTAL),
    ]


def test_an_unknown_level_is_refused() -> None:
    with pytest.raises(ValueError, match="--by"):
        tabulate([], JAN, "village")


times = st.integers(min_value=-40 * 24, max_value=60 * 24).map(lambda h: at(1, hour=0) + timedelta(hours=h))


@given(
    st.lists(
        st.tuples(times, st.integers(0, 30 * 24), st.one_of(st.none(), st.integers(0, 40 * 24)), st.booleans()),
        max_size=40,
    )
)
def test_received_plus_carried_over_always_equals_resolved_plus_in_progress(
    rows: list[tuple[datetime, int, int | None, bool]],
) -> None:
    facts = [
        dossier(
            i,
            submitted_at=s,
            due_at=s + timedelta(hours=due),
            closed_at=None if took is None else s + timedelta(hours=took),
            outcome=None if took is None else ("rejected" if refused else "completed"),
        )
        for i, (s, due, took, refused) in enumerate(rows)
    ]
    assert check(tabulate(facts, JAN, "commune")) == []
    assert check(tabulate(facts, JAN, "commune", cutoff=at(15))) == []


def test_a_dossier_closed_by_the_newest_event_is_resolved_not_in_progress() -> None:
    last = dossier(1, closed_at=at(20), outcome="completed")
    c = total(tabulate([last], JAN, "district", cutoff=at(20))).counts
    assert (c["resolved_on_time"], c["in_progress"], c["overdue"]) == (1, 0, 0)


@pytest.mark.parametrize(
    ("text", "cutoff", "name"),
    [
        ("2024-01", None, "tháng 01/2024"),
        ("2024-Q3", None, "quý III/2024"),
        ("2024-H1", None, "6 tháng đầu năm 2024"),
        ("2024-H2", None, "6 tháng cuối năm 2024"),
        ("2024-W05", None, "tuần 05/2024"),
        ("2024", None, "năm 2024"),
        ("2024-01", 14, "tháng 01/2024, chốt số liệu ngày 14"),
    ],
)
def test_a_period_is_named_as_a_vietnamese_report_names_it_never_iso(text: str, cutoff: int | None, name: str) -> None:
    period = parse_period(text, cutoff)
    assert period.name_vi == name
    assert text == "2024" or text not in period.title_vi  # "2024" is every name's year


def test_free_dossiers_are_counted_by_the_reason_they_give_and_those_without_one_are_not() -> None:
    closed = {"closed_at": at(12), "outcome": "completed", "fee_bearing": False, "paid_online": False}
    facts = [
        dossier(1, exempt_reason="merit", **closed),
        dossier(2, exempt_reason="merit", **closed),
        dossier(3, exempt_reason="poor_household", **closed),
        dossier(4, **closed),  # free, no reason given: counted free, under no reason
        dossier(5, exempt_reason="child"),  # not resolved yet: not among the resolved free
    ]
    row = total(tabulate(facts, JAN, "district"))
    assert row.counts["resolved_free"] == 4
    assert row.as_dict()["resolved_free_by_reason"] == {"merit": 2, "poor_household": 1}
