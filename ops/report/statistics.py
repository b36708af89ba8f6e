"""The periodic statistics report people now sum by hand, from the dossiers' lifecycle events.

Pure: `source.py` beside it reads each dossier's facts from the monitor's event log (read-only,
as an auditor) and `render.py` writes the rows; only the report uses this module.
Definitions (a dossier belongs to one flow and one area, its commune at submission):

- `received` — submitted inside the period; `received_online` / `received_in_person` — of those,
  submitted online / at the counter.
- `carried_over` — submitted before the period and not closed when it began (kỳ trước chuyển sang).
- `to_resolve` — received + carried over (tổng số hồ sơ phải giải quyết).
- `resolved` — closed inside the period (result returned or refused); `resolved_on_time` /
  `resolved_late` — on or before / after its appointment date (`due_at`; early counts as on
  time, as in the reports' "trước hạn và đúng hạn"); `resolved_early` / `resolved_on_due` — of the
  on-time ones, closed on a day before the appointment day / on that day (the form's "trước hạn",
  "đúng hạn"); `refused` — the refusals among them.
- `returned_by_post` — resolved inside the period with the result sent by post.
- `in_progress` / `overdue` — not closed at the period's end (or at the report's cut-off, the
  newest event the monitor has stored, when the period has not ended), before / past its
  appointment date then.
- `resolved_fee_bearing` / `resolved_free` — the resolved dossiers whose procedure bears a fee /
  is free or exempt: the split the provincial reports file.
- `received_fee_bearing` / `paid_online` — received inside the period for a fee-bearing
  procedure / of those, paid online (payment happens at submission, so it counts at receipt);
  `paid_online_national` — of those, paid through the National Public Service Portal, the only
  payments Decision 766's figures see (one paid on the province's own portal is not).

Rates, each under the formula officials use today (Decision 766/QĐ-TTg as implemented, docs/domain.md)
and the corrected one the reports ask for (divide only by what actually occurred):
- on time: official = on time ÷ (received + carried over); corrected = on time ÷ resolved.
- online: official = online ÷ received, averaged over every declared flow (a flow with no dossier
  counts as 0 %); corrected = online ÷ received, pooled over the dossiers that exist. Declared:
  the three flows every report counts (DECLARED), and the marriage liaison where the province
  runs it (its dossiers in the data): Tuyên Quang declared it but could not run it in 2024.
- online payment: official = paid through the national portal ÷ received (free dossiers
  included, the province's own portal's payments left out: Hà Tĩnh's 0 % of May 2024); corrected =
  paid online, on either portal ÷ fee-bearing received.
- returned by post: official = returned by post ÷ resolved (the reports' 231/435 = 53.1 %);
  corrected = returned by post ÷ resolved with a result (refusals have none to post).
A rate whose divisor is zero is None (no figure), never 0 %. On the total row of all flows the
official online-payment rate is left out, with the reason (`Row.notes`): it would divide by the
free birth and death dossiers too, a figure that means nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from contracts import adminunits
from contracts.clock import VN_TZ
from ops.report.periods import Period

FORMULAS_VI = {
    "on_time_rate": (
        "đúng hạn ÷ (tiếp nhận + kỳ trước chuyển sang)",
        "đúng hạn ÷ đã giải quyết",
    ),
    "online_rate": (
        "trung bình tỷ lệ trực tuyến của từng nhóm thủ tục (nhóm không có hồ sơ tính 0 %)",
        "trực tuyến ÷ tiếp nhận, gộp mọi hồ sơ",
    ),
    "online_payment_rate": (
        "thanh toán qua Cổng Dịch vụ công quốc gia ÷ tiếp nhận "
        "(kể cả hồ sơ miễn phí, không tính thanh toán qua Cổng dịch vụ công tỉnh)",
        "thanh toán trực tuyến ÷ tiếp nhận có thu phí",
    ),
    "post_rate": (
        "trả qua bưu chính ÷ đã giải quyết",
        "trả qua bưu chính ÷ đã giải quyết có kết quả (trừ từ chối)",
    ),
}
"""Each rate's (official, corrected) formula, written under the table."""
PAYMENT_ON_ALL_FLOWS_VI = (
    "Không tính: tổng chung chia cả cho hồ sơ khai sinh, khai tử miễn phí, con số không có ý nghĩa; "
    "xem tỷ lệ của từng nhóm thủ tục."
)

FLOWS = ("birth", "death", "lltp", "marriage")
DECLARED = ("birth", "death", "lltp")
"""The flows every province of the reports declares and counts; another flow is declared where
the data has its dossiers."""
FLOW_TITLES = {
    "birth": "Liên thông khai sinh – thường trú – BHYT",
    "death": "Liên thông khai tử – xóa thường trú – mai táng phí",
    "lltp": "Cấp Phiếu lý lịch tư pháp",
    "marriage": "Liên thông xác nhận tình trạng hôn nhân – đăng ký kết hôn",
}
LEVELS = ("province", "district", "commune")

COUNTS = (
    "received",
    "received_online",
    "received_in_person",
    "carried_over",
    "to_resolve",
    "resolved",
    "resolved_on_time",
    "resolved_early",
    "resolved_on_due",
    "resolved_late",
    "refused",
    "returned_by_post",
    "in_progress",
    "overdue",
    "resolved_fee_bearing",
    "resolved_free",
    "received_fee_bearing",
    "paid_online",
    "paid_online_national",
    "taken_up",
    "wait_mean_minutes",
    "wait_max_minutes",
)
"""The official table's columns, in its order (the provincial appendix tables), then the officers'
queue: the dossiers received in the period an officer took up at the one-stop desk, and how long
they waited for it in office minutes (mean and longest)."""
RATES = ("on_time_rate", "online_rate", "online_payment_rate", "post_rate")

HEADINGS_VI = {
    "flow": "Nhóm thủ tục",
    "area": "Địa bàn",
    "received": "Tiếp nhận trong kỳ",
    "received_online": "Trong đó: trực tuyến",
    "received_in_person": "Trong đó: trực tiếp",
    "carried_over": "Kỳ trước chuyển sang",
    "to_resolve": "Tổng số phải giải quyết",
    "resolved": "Đã giải quyết",
    "resolved_on_time": "Trong đó: trước hạn và đúng hạn",
    "resolved_early": "Trong đó: trước hạn",
    "resolved_on_due": "Trong đó: đúng hạn",
    "resolved_late": "Trong đó: quá hạn",
    "refused": "Trong đó: từ chối",
    "returned_by_post": "Trả kết quả qua bưu chính",
    "in_progress": "Đang giải quyết trong hạn",
    "overdue": "Đang giải quyết quá hạn",
    "resolved_fee_bearing": "Đã giải quyết: có thu phí, lệ phí",
    "resolved_free": "Đã giải quyết: miễn phí, lệ phí",
    "received_fee_bearing": "Tiếp nhận có thu phí, lệ phí",
    "paid_online": "Thanh toán trực tuyến",
    "paid_online_national": "Trong đó: qua Cổng Dịch vụ công quốc gia",
    "taken_up": "Số hồ sơ cán bộ đã tiếp nhận",
    "wait_mean_minutes": "Thời gian chờ tiếp nhận bình quân (phút làm việc)",
    "wait_max_minutes": "Thời gian chờ tiếp nhận lâu nhất (phút làm việc)",
    "on_time_rate": "Tỷ lệ đúng hạn",
    "online_rate": "Tỷ lệ trực tuyến",
    "online_payment_rate": "Tỷ lệ thanh toán trực tuyến",
    "post_rate": "Tỷ lệ trả kết quả qua bưu chính",
    "official": "cách tính hiện hành",
    "corrected": "cách tính hiệu chỉnh",
}


@dataclass(frozen=True, slots=True)
class DossierFacts:
    """What the report needs of one dossier, from its dossier.submitted and dossier.closed."""

    dossier_id: str
    flow: str
    province: str
    district: str | None
    """None for a dossier submitted from 1 July 2025 (no districts)."""
    commune: str
    online: bool
    fee_bearing: bool
    paid_online: bool
    return_by_post: bool
    submitted_at: datetime
    due_at: datetime
    closed_at: datetime | None = None
    """When it was resolved: its closing, or for a result sent by post, when it was made (the
    certificate issued; the post's delivery is not the office's time)."""
    outcome: str | None = None
    commune_code: str | None = None
    """The official code, by which a pre-reform commune is mapped to its 2025 commune or ward."""
    paid_on_national: bool = True
    """A fee paid online was paid through the national portal (not the province's own)."""
    exempt_reason: str | None = None
    """Why it bears no fee for a fee-bearing procedure, when it says (contracts/dossiers.py)."""
    taken_at: datetime | None = None
    """When an officer of the one-stop desk took it up (its first step started); None: not yet."""
    waited_minutes: int | None = None
    """Office minutes from its receipt at the one-stop desk to `taken_at`; None without both."""

    def area(self, level: str) -> str:
        return {"province": self.province, "district": self.district or "?", "commune": self.commune}[level]

    def with_queue(self, *, taken_at: datetime | None, waited_minutes: int | None) -> DossierFacts:
        """These facts with when an officer took the dossier up, and how long it waited."""
        return replace(self, taken_at=taken_at, waited_minutes=waited_minutes)


def after_reform(period: Period) -> bool:
    """Whether the period reaches 1 July 2025: its report speaks of the units of 2025."""
    return period.end > datetime.combine(adminunits.REFORM, datetime.min.time(), VN_TZ)


def default_level(period: Period) -> str:
    """The reports group by district before the reform and by commune or ward after it."""
    return "commune" if after_reform(period) else "district"


def in_units_of(facts: Iterable[DossierFacts], period: Period) -> list[DossierFacts]:
    """The facts with each dossier's area as the period's end names it: a period that reaches 1
    July 2025 counts a dossier submitted before, under the commune or ward (and the merged
    province) its commune became; an earlier period, under the units it was submitted in."""
    if not after_reform(period):
        return list(facts)
    out = []
    for f in facts:
        unit = adminunits.to_2025(f.commune_code) if f.district is not None and f.commune_code else None
        if unit is None:
            out.append(f)  # already a 2025 unit, or a code the dataset does not know
        else:
            out.append(
                replace(f, province=unit.province, district=None, commune=unit.commune, commune_code=unit.commune_code)
            )
    return out


@dataclass
class Row:
    flow: str
    area: str
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTS, 0))
    declared_flows: int = 1
    """How many flows the official online rate averages over (all three on a total row)."""
    waited_minutes: int = 0
    """The office minutes the dossiers taken up waited, summed (the mean's numerator)."""
    free_by_reason: dict[str, int] = field(default_factory=dict)
    """The resolved free dossiers that say why they bear no fee, by reason (the rest give none)."""
    online_by_flow: dict[str, tuple[int, int]] = field(default_factory=dict)

    @property
    def notes(self) -> dict[str, str]:
        """Rates left out of this row, with why (in Vietnamese, under the table)."""
        if self.flow == ALL_FLOWS:
            return {"online_payment_rate_official": PAYMENT_ON_ALL_FLOWS_VI}
        return {}

    def rates(self) -> dict[str, dict[str, float | None]]:
        c = self.counts
        resolved = c["resolved"]
        flow_rates = [_ratio(on, n) or 0.0 for on, n in self.online_by_flow.values()]
        flow_rates += [0.0] * (self.declared_flows - len(flow_rates))
        return {
            "on_time_rate": {
                "official": _ratio(c["resolved_on_time"], c["received"] + c["carried_over"]),
                "corrected": _ratio(c["resolved_on_time"], resolved),
            },
            "online_rate": {
                "official": round(sum(flow_rates) / len(flow_rates), 4) if flow_rates else None,
                "corrected": _ratio(c["received_online"], c["received"]),
            },
            "online_payment_rate": {
                "official": None if self.flow == ALL_FLOWS else _ratio(c["paid_online_national"], c["received"]),
                "corrected": _ratio(c["paid_online"], c["received_fee_bearing"]),
            },
            "post_rate": {
                "official": _ratio(c["returned_by_post"], resolved),
                "corrected": _ratio(c["returned_by_post"], resolved - c["refused"]),
            },
        }

    def as_dict(self) -> dict[str, object]:
        return {
            "flow": self.flow,
            "area": self.area,
            **self.counts,
            **self.rates(),
            "resolved_free_by_reason": dict(sorted(self.free_by_reason.items())),
            "notes": self.notes,
        }


def _ratio(n: int, d: int) -> float | None:
    return round(n / d, 4) if d else None


TOTAL = "Tổng cộng"
ALL_FLOWS = "all"


def tabulate(facts: Iterable[DossierFacts], period: Period, by: str, cutoff: datetime | None = None) -> list[Row]:
    """Rows per flow and area (areas sorted), then a total row per flow, then the totals of all
    flows. `cutoff` is when the data ends (the newest stored event): in-progress counts are taken
    at min(period end, cutoff)."""
    if by not in LEVELS:
        raise ValueError(f"--by {by!r}: expected one of {', '.join(LEVELS)}")
    if by == "district" and after_reform(period):
        raise ValueError(
            "--by district: there are no districts from 1 July 2025; a period that reaches it groups by "
            "commune (the default) or province"
        )
    # The cut-off is the newest stored event: what happened at it has happened (the last dossier
    # closed may be that very event), so the state is taken just after it.
    at = min(period.end, cutoff + timedelta(microseconds=1)) if cutoff else period.end
    rows: dict[tuple[str, str], Row] = {}
    declared = len(set(DECLARED) | {f.flow for f in facts if f.flow in FLOWS})
    for f in facts:
        if f.submitted_at >= at:
            continue
        keys = [(f.flow, f.area(by)), (f.flow, TOTAL), (ALL_FLOWS, TOTAL)]
        for flow, area in keys:
            row = rows.get((flow, area))
            if row is None:
                row = rows[(flow, area)] = Row(flow, area, declared_flows=declared if flow == ALL_FLOWS else 1)
            _count(row, f, period, at)
    for row in rows.values():
        taken = row.counts["taken_up"]
        # Half a minute up: a mean of 52.5 minutes reads 53, as officials round.
        row.counts["wait_mean_minutes"] = (2 * row.waited_minutes + taken) // (2 * taken) if taken else 0
    flows = {f: i for i, f in enumerate((*FLOWS, ALL_FLOWS))}
    return sorted(
        (r for r in rows.values() if any(r.counts.values())),
        key=lambda r: (flows.get(r.flow, len(flows)), r.area == TOTAL, r.area),
    )


def _count(row: Row, f: DossierFacts, period: Period, at: datetime) -> None:
    c = row.counts
    taken = f.taken_at is not None and f.taken_at < at
    if f.waited_minutes is not None and taken and period.start <= f.submitted_at:
        c["taken_up"] += 1
        row.waited_minutes += f.waited_minutes
        c["wait_max_minutes"] = max(c["wait_max_minutes"], f.waited_minutes)

    def closed_by(t: datetime) -> bool:
        return f.closed_at is not None and f.closed_at < t

    if f.submitted_at >= period.start:
        c["received"] += 1
        c["received_online"] += f.online
        c["received_in_person"] += not f.online
        c["received_fee_bearing"] += f.fee_bearing
        c["paid_online"] += f.fee_bearing and f.paid_online
        c["paid_online_national"] += f.fee_bearing and f.paid_online and f.paid_on_national
        on, n = row.online_by_flow.get(f.flow, (0, 0))
        row.online_by_flow[f.flow] = (on + f.online, n + 1)
    elif not closed_by(period.start):
        c["carried_over"] += 1
    else:
        return  # closed before the period: not part of it
    c["to_resolve"] += 1
    if closed_by(at):
        assert f.closed_at is not None
        c["resolved"] += 1
        on_time = f.closed_at <= f.due_at
        c["resolved_on_time" if on_time else "resolved_late"] += 1
        if on_time:
            early = f.closed_at.astimezone(VN_TZ).date() < f.due_at.astimezone(VN_TZ).date()
            c["resolved_early" if early else "resolved_on_due"] += 1
        c["refused"] += f.outcome == "rejected"
        c["returned_by_post"] += f.return_by_post and f.outcome == "completed"
        c["resolved_fee_bearing" if f.fee_bearing else "resolved_free"] += 1
        if not f.fee_bearing and f.exempt_reason:
            row.free_by_reason[f.exempt_reason] = row.free_by_reason.get(f.exempt_reason, 0) + 1
    else:
        c["overdue" if f.due_at < at else "in_progress"] += 1


def check(rows: Sequence[Row]) -> list[str]:
    """Identities every row must satisfy; a report that breaks one is wrong, whatever its source."""
    problems = []
    for r in rows:
        c = r.counts
        start = c["received"] + c["carried_over"]
        end = c["resolved_on_time"] + c["resolved_late"] + c["in_progress"] + c["overdue"]
        if start != end:
            problems.append(f"{r.flow}/{r.area}: received + carried over {start} ≠ resolved + in progress {end}")
        if start != c["to_resolve"] or c["received_online"] + c["received_in_person"] != c["received"]:
            problems.append(f"{r.flow}/{r.area}: a total is not the sum of its parts")
        if c["resolved_early"] + c["resolved_on_due"] != c["resolved_on_time"]:
            problems.append(f"{r.flow}/{r.area}: on time {c['resolved_on_time']} ≠ early + on the due day")
        if c["resolved_on_time"] + c["resolved_late"] != c["resolved"]:
            problems.append(f"{r.flow}/{r.area}: resolved {c['resolved']} ≠ on time + late")
        if c["resolved_fee_bearing"] + c["resolved_free"] != c["resolved"]:
            problems.append(f"{r.flow}/{r.area}: resolved {c['resolved']} ≠ fee-bearing + free")
        if (
            c["paid_online_national"] > c["paid_online"]
            or c["paid_online"] > c["received_fee_bearing"]
            or c["refused"] + c["returned_by_post"] > c["resolved"]
        ):
            problems.append(f"{r.flow}/{r.area}: a part exceeds its whole")
    return problems
