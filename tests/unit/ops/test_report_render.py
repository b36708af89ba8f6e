import csv
import json
from datetime import date, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook

from contracts.clock import VN_TZ
from ops.report.form import default_form
from ops.report.periods import parse_period
from ops.report.render import write
from ops.report.sheet import FIRST_DATA_ROW, GROUP_ROW
from ops.report.statistics import DossierFacts, tabulate

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


def _table(ws) -> list[tuple]:  # type: ignore[no-untyped-def]
    """The form's data rows: from under the column numbers to the first empty row."""
    out = []
    for r in ws.iter_rows(min_row=FIRST_DATA_ROW, values_only=True):
        if r[1] is None:
            break
        out.append(r)
    return out


def test_xlsx_has_a_sheet_per_flow_with_vietnamese_headings_and_charts(rows, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = write("xlsx", rows, H1, "district", None, tmp_path)
    wb = load_workbook(path)
    assert wb.sheetnames == ["Khai sinh", "Khai tử", "Lý lịch tư pháp", "Tổng hợp", "Biểu đồ"]
    ws = wb["Lý lịch tư pháp"]
    groups = [c.value for c in ws[GROUP_ROW] if c.value]
    assert groups[:5] == [
        "STT",
        "Địa bàn",
        "Số hồ sơ phải giải quyết",
        "Số hồ sơ đã giải quyết",
        "Số hồ sơ đang giải quyết",
    ]
    headings = [c.value for c in ws[GROUP_ROW + 1]]
    assert headings[2:7] == [
        "Tổng số",
        "Tiếp nhận trong kỳ",
        "Trong đó: trực tuyến",
        "Trong đó: trực tiếp",
        "Kỳ trước chuyển sang",
    ]
    assert headings[7:11] == ["Tổng số", "Trước hạn", "Đúng hạn", "Quá hạn"]
    numbers = [c.value for c in ws[GROUP_ROW + 2]]
    assert numbers == [f"({i})" for i in range(1, len(numbers) + 1)]
    table = _table(ws)
    total = [r for r in table if r[1] == "Tổng cộng"]
    assert total[0][0] in ("", None)  # the total row has no STT
    assert [r[0] for r in table if r[1] != "Tổng cộng"] == list(range(1, len(table)))
    assert total[0][3] == 10  # ten LLTP dossiers received in the half-year
    assert total[0][8] + total[0][9] + total[0][10] == total[0][7]  # early + on the day + late = resolved
    # Native Excel charts: outcomes, the rates of all flows, the rates of each of the three flows.
    assert len(wb["Biểu đồ"]._charts) == 5
    # The formulas under the table, and on the all-flows sheet why a rate is left out.
    notes = [
        r[0] for r in ws.iter_rows(min_row=FIRST_DATA_ROW, values_only=True) if r[0] and str(r[0]).startswith("Tỷ lệ")
    ]
    assert any("đúng hạn ÷ (tiếp nhận + kỳ trước chuyển sang)" in n for n in notes)
    all_flows = wb["Tổng hợp"]
    everything = next(r for r in _table(all_flows) if r[1] == "Tổng cộng")
    official_payment = [c.value for c in all_flows[GROUP_ROW]].index("Tỷ lệ thanh toán trực tuyến (%)")
    assert everything[official_payment] is None
    assert everything[official_payment + 1] is not None
    assert any("Không tính" in str(r[0]) for r in all_flows.iter_rows(min_row=FIRST_DATA_ROW, values_only=True))


def test_the_sheet_is_the_official_form_heading_to_signatures(rows, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    form = default_form(["Tỉnh Hà Tĩnh", "Tỉnh Hà Tĩnh", "Tỉnh Nghệ An"], None, signed_on=date(2024, 7, 5))
    ws = load_workbook(write("xlsx", rows, H1, "district", None, tmp_path, form))["Khai sinh"]
    texts = [str(c.value) for line in ws.iter_rows() for c in line if c.value is not None]
    for expected in (
        "ỦY BAN NHÂN DÂN TỈNH HÀ TĨNH",
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "Hà Tĩnh, ngày 05 tháng 07 năm 2024",
        "Biểu số 01/LTTK",
        "Kính gửi: Văn phòng Ủy ban nhân dân tỉnh Hà Tĩnh",
        "Đơn vị tính: hồ sơ; tỷ lệ: %",
        "NGƯỜI LẬP BIỂU",
        "THỦ TRƯỞNG ĐƠN VỊ",
        "(Ký tên, đóng dấu)",
        "Nơi nhận:",
    ):
        assert expected in texts, expected
    assert texts.index("Nơi nhận:") > texts.index("Tổng cộng")  # the signatures close the sheet
    assert any(t.startswith("Kỳ báo cáo 6 tháng đầu năm 2024") for t in texts), texts[:12]
    assert all("2024-H1" not in t for t in texts)  # periods read in words, never ISO
    html = write("html", rows, H1, "district", None, tmp_path, form).read_text(encoding="utf-8")
    for expected in (
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Biểu số 01/LTTK",
        "THỦ TRƯỞNG ĐƠN VỊ",
        'colspan="8"',
        "(27)",
    ):
        assert expected in html, expected


def test_html_is_self_contained_with_tables_and_charts(rows, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = write("html", rows, H1, "district", None, tmp_path)
    text = path.read_text(encoding="utf-8")
    assert "BÁO CÁO TÌNH HÌNH GIẢI QUYẾT HỒ SƠ THỦ TỤC HÀNH CHÍNH LIÊN THÔNG" in text
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
    assert "số liệu đến 17:00 ngày 30/06/2024" in text


def test_a_rate_left_out_on_purpose_is_never_drawn_as_zero(tmp_path: Path) -> None:
    """Regression: a deliberately null rate (the all-flows official payment rate, a rate with
    nothing to divide by) was drawn as a 0.0 % bar (`or 0.0`). Now it is no bar: an empty cell in
    the workbook's chart data (a gap, not 0), "không áp dụng" beside it and in the HTML."""
    from ops.report import charts

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
    areas = [r[1] for r in _table(ws)]
    assert areas == ["Tổng cộng"]
    assert "; theo tỉnh (Hà Tĩnh)" in ws["A7"].value
    doc = json.loads(write("json", rows, H1, "province", None, tmp_path).read_text(encoding="utf-8"))
    assert [r["area"] for r in doc["rows"] if r["flow"] == "lltp"] == ["Hà Tĩnh", "Tổng cộng"]
