"""The report as the official form a provincial unit files: the national heading and motto, the
reporting unit and the recipient, the form number, "Đơn vị tính", an STT column, grouped headings
with a row of column numbers, and the signature block with place and date.

The form number is this product's own ("Biểu số 01/LTTK"): no circular prescribes a form for
linked-procedure statistics, so the layout follows the provincial reports' appendix tables
(docs/report.md). Pure: texts and layout in, nothing written here (render.py and sheet.py write)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from contracts.clock import VN_TZ
from ops.report.statistics import HEADINGS_VI, RATES

NATION = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
MOTTO = "Độc lập - Tự do - Hạnh phúc"
NUMBER = "Biểu số 01/LTTK"
UNIT_OF_COUNT = "Đơn vị tính: hồ sơ; tỷ lệ: %"
TITLE = "BÁO CÁO TÌNH HÌNH GIẢI QUYẾT HỒ SƠ THỦ TỤC HÀNH CHÍNH LIÊN THÔNG"

SHORT_VI = {
    "to_resolve": "Tổng số",
    "received": "Tiếp nhận trong kỳ",
    "received_online": "Trong đó: trực tuyến",
    "received_in_person": "Trong đó: trực tiếp",
    "carried_over": "Kỳ trước chuyển sang",
    "resolved": "Tổng số",
    "resolved_early": "Trước hạn",
    "resolved_on_due": "Đúng hạn",
    "resolved_late": "Quá hạn",
    "refused": "Trong đó: từ chối",
    "returned_by_post": "Trả qua bưu chính",
    "resolved_fee_bearing": "Có thu phí, lệ phí",
    "resolved_free": "Miễn phí, lệ phí",
    "in_progress": "Trong hạn",
    "overdue": "Quá hạn",
    "received_fee_bearing": "Tiếp nhận có thu phí",
    "paid_online": "Thanh toán trực tuyến",
    "paid_online_national": "Trong đó: qua Cổng DVCQG",
    "taken_up": "Số hồ sơ",
    "wait_mean_minutes": "Bình quân",
    "wait_max_minutes": "Lâu nhất",
    "official": "Cách tính hiện hành",
    "corrected": "Cách tính hiệu chỉnh",
}
"""A column's heading under its group (the group says the rest)."""

GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Số hồ sơ phải giải quyết", ("to_resolve", "received", "received_online", "received_in_person", "carried_over")),
    (
        "Số hồ sơ đã giải quyết",
        (
            "resolved",
            "resolved_early",
            "resolved_on_due",
            "resolved_late",
            "refused",
            "returned_by_post",
            "resolved_fee_bearing",
            "resolved_free",
        ),
    ),
    ("Số hồ sơ đang giải quyết", ("in_progress", "overdue")),
    ("Phí, lệ phí", ("received_fee_bearing", "paid_online", "paid_online_national")),
    ("Chờ cán bộ tiếp nhận (phút làm việc)", ("taken_up", "wait_mean_minutes", "wait_max_minutes")),
    *((f"{HEADINGS_VI[k]} (%)", (f"{k}_official", f"{k}_corrected")) for k in RATES),
)
"""The grouped headings over the counts and rates, in the form's column order."""


def form_columns() -> list[str]:
    """The data columns in the form's order (after STT and Địa bàn)."""
    return [c for _, cols in GROUPS for c in cols]


def short(col: str) -> str:
    return SHORT_VI.get(col) or SHORT_VI[col.rsplit("_", 1)[1]]


@dataclass(frozen=True)
class Form:
    """Who files the report, to whom, where and when it is signed."""

    unit: str
    """The reporting unit, as its heading reads ("ỦY BAN NHÂN DÂN TỈNH HÀ TĨNH")."""
    recipient: str
    place: str
    """The place before the date ("Hà Tĩnh, ngày … tháng … năm …")."""
    signed_on: date

    @property
    def place_and_date(self) -> str:
        d = self.signed_on
        return f"{self.place}, ngày {d.day:02d} tháng {d.month:02d} năm {d.year}"


SIGNERS = (("NGƯỜI LẬP BIỂU", "(Ký, ghi rõ họ tên)"), ("THỦ TRƯỞNG ĐƠN VỊ", "(Ký tên, đóng dấu)"))
RECIPIENTS_VI = ("Nơi nhận:", "- Như trên;", "- Lưu: VT.")


def default_form(
    provinces: list[str],
    cutoff: datetime | None,
    *,
    unit: str | None = None,
    recipient: str | None = None,
    place: str | None = None,
    signed_on: date | None = None,
) -> Form:
    """The form for a province's report: what is not given is taken from the province the data
    covers (the most frequent one), and it is signed on the day the data ends (the newest stored
    event, in Vietnam's time), or today when there is no data."""
    province = max(set(provinces), key=provinces.count) if provinces else "Tỉnh"
    bare = province.removeprefix("Tỉnh ").removeprefix("Thành phố ")
    local = province[:1].lower() + province[1:]
    day = signed_on or (cutoff.astimezone(VN_TZ).date() if cutoff else datetime.now(VN_TZ).date())
    return Form(
        unit=unit or f"ỦY BAN NHÂN DÂN {province.upper()}",
        recipient=recipient or f"Văn phòng Ủy ban nhân dân {local}",
        place=place or bare,
        signed_on=day,
    )
