"""The console's Vietnamese: agency and step names, event kinds as sentences, the one-line verdict
of an incident, what to do about it, and lateness in working days. Pure: the rows come from the
monitor's queries (streams/console.py) and the times are read on the VN working calendar, so an
officer reads "quá hạn 3 ngày làm việc", never a code identifier or a UUID alone."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from contracts.calendar import WorkingCalendar
from contracts.chains import Chain
from contracts.clock import VN_TZ
from contracts.states import LABELS_VI, DossierState
from contracts.topics import AGENCY_VI
from streams.rows import EventRow, IncidentRow

KIND_VI = {
    "lost": "Thất lạc",
    "stuck": "Ùn tắc, quá hạn",
    "link": "Lỗi kết nối",
    "agency": "Hệ thống im lặng",
    "duplicate": "Trùng lặp",
    "data_quality": "Chất lượng dữ liệu",
    "contract": "Sai quy ước liên thông",
    "infrastructure": "Sự cố hạ tầng",
}
FLOW_VI = {"birth": "Khai sinh", "death": "Khai tử", "lltp": "Lý lịch tư pháp", "marriage": "Kết hôn"}
SEVERITY_VI = {"high": "Cao", "medium": "Trung bình", "low": "Thấp"}
SEVERITY_RANK = {"high": 2, "medium": 1, "low": 0}
CHANNEL_VI = {"online": "trực tuyến", "vneid": "qua ứng dụng VNeID", "in_person": "trực tiếp", "post": "qua bưu chính"}
OUTCOME_VI = {"completed": "đã trả kết quả", "refused": "từ chối", "rejected": "từ chối"}
REFUSAL_VI = {
    "identity_mismatch": "thông tin định danh không khớp Cơ sở dữ liệu quốc gia về dân cư",
    "wrong_sex_or_year": "giới tính hoặc năm sinh không khớp số định danh cá nhân",
    "married": "một bên đang có vợ hoặc chồng theo Cơ sở dữ liệu hộ tịch",
    "not_eligible": "không đủ điều kiện đăng ký kết hôn",
}
RESOLVED_VI = {
    "step.completed": "bước đã hoàn thành",
    "step.rejected": "bước đã có kết quả từ chối",
    "dossier.closed": "hồ sơ đã kết thúc",
    "dossier settled": "hồ sơ đã kết thúc",
    "handoff.received": "hồ sơ đã đến nơi nhận",
    "heartbeats again": "hệ thống hoạt động trở lại",
    "no failed transfer for a whole window": "kết nối ổn định trở lại",
    "transfers succeed again": "kết nối ổn định trở lại",
    "acknowledged": "cán bộ đã xác nhận",
}
EXTRA_STEPS = {("portal", "result"): "Trả kết quả cho công dân"}
LINK = re.compile(r"^link:(?P<a>[a-z_]+)->(?P<b>[a-z_]+)$")
STEP = re.compile(r"^step:(?P<agency>[a-z_]+)/(?P<step>[a-z_]+)$")
WORK = re.compile(r"^work:(?P<agency>[a-z_]+)/(?P<partition>\d+)$")
BEHIND = re.compile(r"are (?P<n>\d+) messages behind")
HOLDING = re.compile(r"holding (?P<n>\d+) dossiers")
FLOWED = re.compile(r"^flowed again: (?P<n>\d+) dossiers$")
FAILED = re.compile(r"(?P<n>\d+) of (?P<total>\d+) transfers failed")


def agency_vi(name: str | None) -> str:
    return AGENCY_VI.get(name or "", name or "—")


def at(moment: datetime | str | None) -> str:
    """Local time as an officer writes it: 08:10 17/01/2024."""
    if moment is None:
        return "—"
    t = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
    return t.astimezone(VN_TZ).strftime("%H:%M %d/%m/%Y")


@dataclass(frozen=True)
class Lateness:
    working_days: int
    """Working days after the one the deadline fell on, up to the moment judged."""
    seconds: float
    """Real-calendar seconds past the deadline (the tiebreak, and the text below a day)."""

    @property
    def text(self) -> str:
        if self.seconds <= 0:
            return "chưa quá hạn"
        if self.working_days == 0:
            hours = self.seconds / 3600
            return f"quá hạn {hours:.0f} giờ" if hours >= 1 else "quá hạn dưới 1 giờ"
        return f"quá hạn {self.working_days} ngày làm việc"


def lateness(calendar: WorkingCalendar, due: datetime, until: datetime) -> Lateness:
    """How far past `due` the moment `until` is, in working days on the VN calendar: a deadline
    ends at office close, so a dossier due on Monday and still waiting on Thursday morning is 3
    working days overdue (Tuesday, Wednesday, Thursday), and 0 over a weekend and Tết."""
    return Lateness(calendar.working_days_overdue(due, until), (until - due).total_seconds())


class Words:
    """Names of the steps of these chains, and the sentences built from them."""

    def __init__(self, chains: dict[str, Chain]) -> None:
        self.steps: dict[tuple[str, str], str] = dict(EXTRA_STEPS)
        self.sla: dict[tuple[str, str], float] = {}
        for chain in chains.values():
            for s in chain.steps:
                self.steps.setdefault((s.agency, s.name), s.label_vi)
                self.sla.setdefault((s.agency, s.name), s.sla_working_days)

    def step(self, agency: str | None, step: str | None) -> str:
        if not agency:
            return "—"
        name = self.steps.get((agency, step or ""))
        return f"{agency_vi(agency)} – {name}" if name else agency_vi(agency)

    def where(self, row: IncidentRow) -> tuple[str | None, str]:
        """(agency, Vietnamese place) an incident waits at."""
        subject = row["subject"]
        if row["kind"] == "lost" and row["to_agency"]:
            return row["to_agency"], self.step(row["to_agency"], row["to_step"])
        if m := STEP.match(subject):
            return m["agency"], self.step(m["agency"], m["step"])
        if m := LINK.match(subject):
            return m["a"], f"Kết nối {agency_vi(m['a'])} → {agency_vi(m['b'])}"
        if subject.startswith("agency:"):
            name = subject.removeprefix("agency:")
            return name, f"Hệ thống {agency_vi(name)}"
        if m := WORK.match(subject):
            return m["agency"], f"Hàng đợi của {agency_vi(m['agency'])} (phân vùng {m['partition']})"
        if row["at_agency"]:
            return row["at_agency"], self.step(row["at_agency"], row["at_step"])
        return None, "—"

    def verdict(self, row: IncidentRow, late: Lateness | None) -> str:
        """The incident in one Vietnamese line (what, where, since when, how late)."""
        kind = row["kind"]
        subject = row["subject"]
        overdue = f", {late.text}" if late is not None and late.seconds > 0 else ""
        if kind == "stuck" and (m := STEP.match(subject)):
            sla = self.sla.get((m["agency"], m["step"]))
            limit = f" (hạn {sla:g} ngày làm việc)" if sla else ""
            since = f" từ {at(row['since'])}" if row["since"] else ""
            what = "Kẹt tại" if "SLA" in row["detail"] else "Dừng quá lâu ở một trạng thái tại"
            return f"{what} {self.step(m['agency'], m['step'])}{since}{overdue}{limit}"
        if kind == "stuck":
            return f"Chưa trả kết quả đúng hẹn (hẹn {at(row['due_at'])}){overdue}"
        if kind == "lost":
            sender = agency_vi(row["sender"])
            return (
                f"Thất lạc khi {sender} chuyển sang {self.step(row['to_agency'], row['to_step'])}"
                f" lúc {at(row['sent_at'])}: nơi nhận chưa xác nhận{overdue}"
            )
        if kind == "link" and (m := LINK.match(subject)):
            failed = FAILED.search(row["detail"])
            share = f": {failed['n']}/{failed['total']} lần chuyển bị lỗi" if failed else ""
            return f"Kết nối {agency_vi(m['a'])} → {agency_vi(m['b'])} lỗi từ {at(row['opened_at'])}{share}"
        if kind == "agency":
            name = subject.removeprefix("agency:")
            return f"Hệ thống {agency_vi(name)} không gửi tín hiệu hoạt động từ {at(row['opened_at'])}"
        if kind == "infrastructure" and (m := WORK.match(subject)):
            return infrastructure(m["agency"], m["partition"], row["detail"], row["opened_at"])
        if kind == "data_quality":
            return f"Hồ sơ bị từ chối do dữ liệu: {self.refusal(row['detail'])}"
        if kind == "contract":
            agency, _, step = row["detail"].partition(":")[0].partition("/")
            return f"{self.step(agency, step)} báo xong nhưng thiếu dữ liệu kết quả bắt buộc"
        if kind == "duplicate":
            return f"Thông điệp bị gửi trùng (lúc {at(row['opened_at'])}), hồ sơ không bị xử lý hai lần"
        return KIND_VI.get(kind, kind)

    @staticmethod
    def refusal(detail: object) -> str:
        code = str(detail or "").split(":", 1)[0]
        return REFUSAL_VI.get(code, "thông tin không hợp lệ")

    def action(self, row: IncidentRow) -> str:
        """What an officer should do next."""
        kind = row["kind"]
        if row["resolved_at"]:
            return "Không cần xử lý thêm"
        if kind == "lost":
            return f"Gửi lại hồ sơ từ {agency_vi(row['sender'])}; nếu vẫn thất lạc, báo quản trị kết nối"
        if kind == "stuck":
            agency, _ = self.where(row)
            return f"Đôn đốc {agency_vi(agency)} xử lý, báo công dân nếu phải hẹn lại"
        if kind == "link":
            return "Kiểm tra kết nối với đơn vị quản trị, sau đó gửi lại các hồ sơ thất lạc"
        if kind == "agency":
            return "Liên hệ quản trị hệ thống của cơ quan"
        if kind == "infrastructure":
            return (
                "Kiểm tra hệ thống của cơ quan nhận và cụm Kafka; hồ sơ tự đi tiếp khi hàng đợi chạy lại, không gửi lại"
            )
        if kind == "data_quality":
            return "Liên hệ công dân để bổ sung, sửa thông tin"
        if kind == "contract":
            return "Báo đơn vị tích hợp sửa hệ thống; hồ sơ vẫn đi tiếp, cần kiểm tra kết quả"
        return "Kiểm tra và xác nhận"

    def resolved(self, how: str | None) -> str:
        if not how:
            return ""
        if m := FLOWED.match(how):
            return f"hàng đợi chạy lại, {m['n']} hồ sơ đã đi tiếp"
        late = how.endswith(" (late)")
        base = RESOLVED_VI.get(how.removesuffix(" (late)"), how)
        return f"{base} (muộn)" if late else base

    def event(self, e: EventRow) -> str:
        """A lifecycle event as a sentence."""
        p = e["payload"]
        who = agency_vi(e["agency"])
        step = self.steps.get((e["agency"], e["step"] or ""), e["step"] or "")
        match e["type"]:
            case "dossier.submitted":
                return f"Công dân nộp hồ sơ {CHANNEL_VI.get(str(p.get('channel')), '')}".strip()
            case "handoff.sent":
                return f"{who} chuyển hồ sơ sang {self.step(text(p.get('to')), text(p.get('to_step')))}"
            case "handoff.received":
                return f"{who} nhận hồ sơ từ {agency_vi(text(p.get('from')))}"
            case "step.started":
                deadline = text(p.get("deadline"))
                due = f" (hạn {at(deadline)})" if deadline else ""
                return f"{who} bắt đầu xử lý: {step}{due}"
            case "step.state":
                state = str(p.get("state"))
                known = state in DossierState._value2member_map_
                return f"{who}: {LABELS_VI[DossierState(state)] if known else state}"
            case "step.completed":
                return f"{who} hoàn thành: {step}"
            case "step.rejected":
                return f"{who} từ chối: {step} – {self.refusal(p.get('code'))}"
            case "link.error":
                return f"Lỗi khi {who} chuyển sang {agency_vi(text(p.get('to')))}"
            case "result.synced":
                return "Cổng DVC cập nhật kết quả cho công dân"
            case "dossier.closed":
                outcome = str(p.get("outcome") or "")
                return f"Hồ sơ kết thúc: {OUTCOME_VI.get(outcome, outcome)}"
        return e["type"]

    def state(self, events: Sequence[EventRow]) -> str:
        """The dossier's state in the portal's Vietnamese labels, from its newest events."""
        for e in events:
            if e["type"] == "dossier.closed":
                done = e["payload"].get("outcome") == "completed"
                return LABELS_VI[DossierState.RESULT_RETURNED if done else DossierState.REFUSED]
        for e in reversed(events):
            t, state = e["type"], text(e["payload"].get("state"))
            if t == "step.state" and state is not None and state in DossierState._value2member_map_:
                return LABELS_VI[DossierState(state)]
            if t in ("step.started", "handoff.received", "step.completed", "handoff.sent") and e["step"]:
                return LABELS_VI[DossierState.IN_PROGRESS]
        return LABELS_VI[DossierState.RECEIVED]


def text(value: object) -> str | None:
    """A payload field that should be text, or None (a payload is JSON of any shape)."""
    return value if isinstance(value, str) else None


def infrastructure(agency: str, partition: str, detail: str, opened: str | None) -> str:
    """An infrastructure incident (streams/backlog.py) in one line: whose queue, why it holds."""
    if "has no leader" in detail:
        why = "không có máy chủ Kafka phụ trách"
    elif "no consumer group" in detail:
        why = "chưa có hệ thống nào đọc"
    elif m := BEHIND.search(detail):
        why = f"hệ thống nhận chậm {m['n']} thông điệp"
    else:
        why = "không được đọc tiếp"
    held = HOLDING.search(detail)
    count = f", giữ {held['n']} hồ sơ" if held else ""
    return f"Hàng đợi của {agency_vi(agency)} (phân vùng {partition}) {why} từ {at(opened)}{count}"
