import csv
import json
from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook

from contracts.clock import VN_TZ
from lienthong.report.periods import parse_period
from lienthong.report.render import write
from lienthong.report.statistics import DossierFacts, tabulate

H1 = parse_period("2024-H1")


def facts() -> list[DossierFacts]:
    out = []
    for i in range(30):
        flow = ("birth", "death", "lltp")[i % 3]
        submitted = datetime(2024, 1 + i % 6, 3 + i % 20, 9, tzinfo=VN_TZ)
        out.append(
            DossierFacts(
                dossier_id=f"D{i}",
                flow=flow,
                province="Hà Tĩnh",
                district=["Huyện Can Lộc", "Huyện Đức Thọ"][i % 2],
                commune="Xã Tùng Lộc",
                online=i % 4 != 0,
                fee_bearing=flow == "lltp",
                paid_online=flow == "lltp" and i % 2 == 0,
                return_by_post=flow == "lltp",
                submitted_at=submitted,
                due_at=submitted.replace(day=submitted.day + 5),
                closed_at=None if i % 7 == 0 else submitted.replace(day=submitted.day + 1 + i % 9),
                outcome=None if i % 7 == 0 else ("rejected" if i % 11 == 0 else "completed"),
            )
        )
    return out


@pytest.fixture
def rows():  # type: ignore[no-untyped-def]
    return tabulate(facts(), H1, "district")


def test_xlsx_has_a_sheet_per_flow_with_vietnamese_headings_and_charts(rows, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = write("xlsx", rows, H1, "district", None, tmp_path)
    wb = load_workbook(path)
    assert wb.sheetnames == ["Khai sinh", "Khai tử", "Lý lịch tư pháp", "Tổng hợp", "Biểu đồ"]
    ws = wb["Lý lịch tư pháp"]
    headings = [c.value for c in ws[3]]
    assert headings[:6] == [
        "Địa bàn",
        "Tiếp nhận trong kỳ",
        "Trong đó: trực tuyến",
        "Trong đó: trực tiếp",
        "Kỳ trước chuyển sang",
        "Tổng số phải giải quyết",
    ]
    assert "Tỷ lệ thanh toán trực tuyến (cách tính hiệu chỉnh)" in headings
    total = [r for r in ws.iter_rows(min_row=4, values_only=True) if r[0] == "Tổng cộng"]
    assert total[0][1] == 10  # ten LLTP dossiers received in the half-year
    # Native Excel charts: outcomes, the rates of all flows, the rates of each of the three flows.
    assert len(wb["Biểu đồ"]._charts) == 5
    # The formulas under the table, and on the all-flows sheet why a rate is left out.
    notes = [r[0] for r in ws.iter_rows(min_row=4, values_only=True) if r[0] and str(r[0]).startswith("Tỷ lệ")]
    assert any("đúng hạn ÷ (tiếp nhận + kỳ trước chuyển sang)" in n for n in notes)
    everything = next(r for r in wb["Tổng hợp"].iter_rows(min_row=4, values_only=True) if r[0] == "Tổng cộng")
    assert everything[headings.index("Tỷ lệ thanh toán trực tuyến (cách tính hiện hành)")] is None
    assert any("Không tính" in str(r[0]) for r in wb["Tổng hợp"].iter_rows(min_row=4, values_only=True))


def test_html_is_self_contained_with_tables_and_charts(rows, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = write("html", rows, H1, "district", None, tmp_path)
    text = path.read_text(encoding="utf-8")
    assert "Báo cáo thống kê hồ sơ liên thông" in text
    assert "Kỳ trước chuyển sang" in text
    assert text.count('<figure class="chart">') == 5
    assert "<img" not in text
    assert "http://" not in text
    assert "https://" not in text


def test_csv_and_json_carry_the_documented_keys(rows, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    keys = {"received", "received_online", "carried_over", "resolved_on_time", "resolved_late", "in_progress"}
    keys |= {"overdue", "returned_by_post", "resolved_fee_bearing", "resolved_free", "paid_online", "to_resolve"}
    with write("csv", rows, H1, "district", None, tmp_path).open(encoding="utf-8-sig") as f:
        head, vi = list(csv.reader(f))[:2]
    assert keys <= set(head)
    assert {"online_payment_rate_official", "post_rate_official", "post_rate_corrected"} <= set(head)
    assert "Đang giải quyết quá hạn" in vi
    doc = json.loads(write("json", rows, H1, "district", None, tmp_path).read_text(encoding="utf-8"))
    assert doc["period"] == "2024-H1"
    row = doc["rows"][0]
    assert keys <= set(row)
    assert set(row["on_time_rate"]) == {"official", "corrected"}


def test_an_unknown_format_is_refused(rows, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match="--format"):
        write("pdf", rows, H1, "district", None, tmp_path)


def test_the_data_cutoff_is_printed_in_vietnam_time_not_utc(rows, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Regression: "số liệu đến" printed the newest event's UTC time as if it were local."""
    from datetime import UTC

    cutoff = datetime(2024, 6, 30, 10, 0, tzinfo=UTC)  # 17:00 in Hà Tĩnh
    text = write("html", rows, H1, "district", cutoff, tmp_path).read_text(encoding="utf-8")
    assert "số liệu đến 30/06/2024 17:00" in text


def test_a_rate_left_out_on_purpose_is_never_drawn_as_zero(tmp_path: Path) -> None:
    """Regression: a deliberately null rate (the all-flows official payment rate, a rate with
    nothing to divide by) was drawn as a 0.0 % bar (`or 0.0`). Now it is no bar: an empty cell in
    the workbook's chart data (a gap, not 0), "không áp dụng" beside it and in the HTML."""
    from lienthong.report import charts

    rows = tabulate(facts(), H1, "district")
    (total,) = charts.rates(rows, H1)
    nulls = [(i, key) for key, _, values in total.series for i, v in enumerate(values) if v is None]
    assert nulls  # the all-flows official payment rate, at least
    drawn = charts.html_bars(total)
    for i, key in nulls:
        bar = next(b for b in drawn["groups"][i]["bars"] if b["key"] == key)
        assert (bar["width"], bar["text"], bar["none"]) == (0.0, charts.NOT_APPLICABLE, True)
    ws = load_workbook(write("xlsx", rows, H1, "district", None, tmp_path))["Biểu đồ"]
    # The first table with the payment rate: the all-flows rates.
    payment = next(r for r in ws.iter_rows(values_only=True) if r[0] == "Tỷ lệ thanh toán trực tuyến")
    assert payment[1] is None  # official: empty, a gap in the chart
    assert payment[2] is not None
    assert payment[3] == "không áp dụng: cách tính hiện hành"


def test_by_province_the_province_is_not_repeated_as_a_row_beside_its_total(tmp_path: Path) -> None:
    """Regression: `--by province` printed the one province's row and the total row, the same;
    now the total alone, with the province named in the heading (the JSON keeps both)."""
    rows = tabulate(facts(), H1, "province")
    assert [r.area for r in rows if r.flow == "lltp"] == ["Hà Tĩnh", "Tổng cộng"]
    ws = load_workbook(write("xlsx", rows, H1, "province", None, tmp_path))["Lý lịch tư pháp"]
    areas = [r[0] for r in ws.iter_rows(min_row=4, values_only=True) if r[0] and not str(r[0]).startswith("Tỷ lệ")]
    assert areas[0] == "Tổng cộng"
    assert "Hà Tĩnh" not in areas
    assert ws["A2"].value.endswith("theo tỉnh (Hà Tĩnh)")
    doc = json.loads(write("json", rows, H1, "province", None, tmp_path).read_text(encoding="utf-8"))
    assert [r["area"] for r in doc["rows"] if r["flow"] == "lltp"] == ["Hà Tĩnh", "Tổng cộng"]
