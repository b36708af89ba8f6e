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
    assert len(wb["Biểu đồ"]._images) == 2
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
    assert text.count("data:image/png;base64,") == 2
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
