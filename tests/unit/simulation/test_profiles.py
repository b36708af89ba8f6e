"""Workload profiles load from YAML, broken ones say why, and their arrivals match their volumes."""

from __future__ import annotations

import random
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import pytest
import yaml

from contracts.calendar import OFFICE_CLOSE, OFFICE_OPEN, WorkingCalendar
from contracts.clock import VN_TZ
from contracts.config import ConfigError
from services.lltp.domain import issuer_on, parse_issuers
from simulation.workload import profiles
from simulation.workload.arrivals import schedule, spread

cal = WorkingCalendar()


def test_smoke_profile_is_1000_births_in_ha_tinh() -> None:
    p = profiles.load("smoke")
    assert (p.province, p.volumes, p.expected("birth"), p.expected("lltp")) == ("042", {"birth": 1000}, 1000, 0)


@pytest.mark.parametrize("name", profiles.available())
def test_every_profile_loads_and_schedules_exactly_its_volume(name: str) -> None:
    p = profiles.load(name)
    arrivals = schedule(p, profiles.load_curve(p.arrival), cal, random.Random(7))
    expected = {c: n + p.carried_over.get(c, 0) for c, n in p.volumes.items()}
    assert Counter(a.chain for a in arrivals) == Counter({c: n for c, n in expected.items() if n})
    assert all(p.run_start <= a.at.date() < p.end for a in arrivals)
    assert arrivals == sorted(arrivals)


def test_calibrated_profiles_carry_the_reports_volumes() -> None:
    ht = profiles.load("ha-tinh-2024h1")
    assert ht.volumes == {"birth": 9600, "death": 3639, "lltp": 19694}
    assert ht.share("lltp").online == pytest.approx(11601 / 19694, abs=0.001)
    assert (ht.start.isoformat(), ht.days) == ("2024-01-01", 182)
    tq = profiles.load("tuyen-quang-2025")
    assert (tq.volumes, tq.province, tq.days) == ({"birth": 26638, "death": 6218}, "008", 365)
    # Lâm Đồng's report counts 29 months of registrations and 26 of certificates: a month at its pace.
    ld = profiles.load("lam-dong-2024-11")
    assert ld.volumes == {"birth": round(77513 / 29), "death": round(25966 / 29), "lltp": round(60710 / 26)}
    assert (ld.province, ld.start.isoformat(), ld.days) == ("068", "2024-11-01", 30)


def test_peak_day_brings_300_to_400_requests_with_the_counter_open_only_in_office_hours() -> None:
    p = profiles.load("lltp-peak-day")
    arrivals = schedule(p, profiles.load_curve(p.arrival), cal, random.Random(1))
    assert 300 <= len(arrivals) <= 400
    assert len({a.at.date() for a in arrivals}) == 1
    assert cal.is_working_day(arrivals[0].at.date())
    for a in arrivals:
        if a.channel == "in_person":
            assert OFFICE_OPEN <= a.at.timetz().replace(tzinfo=None) < OFFICE_CLOSE


def test_ha_tinh_peaks_at_300_to_400_lltp_requests_a_day_and_counters_close_for_tet() -> None:
    p = profiles.load("ha-tinh-2024h1")
    peaks = []
    for seed in range(10):
        arrivals = schedule(p, profiles.load_curve(p.arrival), cal, random.Random(seed))
        per_day = Counter(a.at.date() for a in arrivals if a.chain == "lltp")
        peaks.append(max(per_day.values()))
        working = [n for d, n in per_day.items() if cal.is_working_day(d)]
        assert 140 <= sum(working) / len(working) <= 210  # "~200 a day on average"
    assert 300 <= sorted(peaks)[len(peaks) // 2] <= 400  # "300–400 a day at peak"
    tet = [a for a in arrivals if not cal.is_working_day(a.at.date())]
    assert tet
    assert all(a.channel == "online" for a in tet)


def test_spread_is_exact_and_proportional() -> None:
    assert spread(10, [1, 1, 2]) == [3, 2, 5]  # 2.5, 2.5, 5: the first tie takes the spare one
    assert spread(7, [0, 1]) == [0, 7]
    with pytest.raises(ValueError, match="weight 0"):
        spread(3, [0, 0])


def test_unknown_profile_lists_what_exists() -> None:
    with pytest.raises(ValueError, match=r"available: .*smoke"):
        profiles.load("no-such-profile")


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ({"volumes": {"wedding": 3}}, r"volumes: .*unknown chains \['wedding'\] \(allowed: birth"),
        ({"shares": {"lltp": {"online": 1.5}}}, r"shares\.lltp\.online: .*less than or equal to 1"),
        ({"shares": {"lltp": {"onlin": 0.5}}}, r"shares\.lltp\.onlin: Extra inputs are not permitted"),
        (
            {"shares": {"lltp": {"fee_exempt": 0.3, "exempt_reasons": {"luck": 1}}}},
            r"shares\.lltp\.exempt_reasons: .*unknown exemption reasons \['luck'\]",
        ),
        ({"bad_data": {"typo": 0.1}}, r"bad_data: .*unknown bad-data kinds \['typo'\] \(allowed: missing_id"),
        ({"arrival": "lunar"}, r"arrival: no arrival curve 'lunar'"),
        ({"period": {"start": "2024-13-01"}}, r"period\.start: .*valid date"),
        ({"volume": {"lltp": 3}}, r"volume: Extra inputs are not permitted"),
        ({"province": "999"}, r"province: .*unknown province code '999'"),
        ({"lltp_issuer": "toa_an"}, r"lltp_issuer: .*unknown issuer 'toa_an' \(allowed: so_tu_phap, cong_an_tinh\)"),
        ({"stamping_bound_s": 0}, r"stamping_bound_s: .*greater than 0"),
        (
            {"lltp_issuer": {"2024-01-01": "so_tu_phap", "2024-03-01": "toa_an"}},
            r"lltp_issuer.*unknown issuer 'toa_an'",
        ),
        (
            {"lltp_issuer": {"2024-02-01": "cong_an_tinh"}},
            r".*lltp_issuer: the first issuer's day 2024-02-01 is after the period's start 2024-01-01",
        ),
    ],
)
def test_broken_profiles_say_which_key_is_wrong(patch: dict, message: str) -> None:  # type: ignore[type-arg]
    doc = {"province": "042", "period": {"start": "2024-01-01"}, "volumes": {"lltp": 3}, **patch}
    with pytest.raises(ConfigError, match=r"^profile x: " + message):
        profiles.parse(doc, "x")


def test_a_profile_file_with_an_unknown_key_is_refused_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text("province: '042'\nperiod: {start: 2024-01-01}\nvolumes: {lltp: 3}\nsped: 100\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=rf"^{path}: sped: Extra inputs are not permitted"):
        profiles.load(str(path))
    path.write_text("province: [\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=rf"^{path}: not valid YAML"):
        profiles.load(str(path))


def test_a_profile_may_raise_the_stamping_bound() -> None:
    assert profiles.load("ha-tinh-2024-01").stamping_bound_s is None
    doc = {"province": "042", "period": {"start": "2024-01-01"}, "volumes": {"birth": 1}}
    assert profiles.parse({**doc, "stamping_bound_s": 15}, "x").stamping_bound_s == 15.0


def test_the_lltp_issuer_changes_on_its_day_in_the_middle_of_a_period() -> None:
    """Tuyên Quang's provincial police took LLTP certificates over on 1 March 2025."""
    issuers = profiles.load("tuyen-quang-2025").lltp_issuer
    assert issuers == "2025-01-01=so_tu_phap,2025-03-01=cong_an_tinh"
    assert issuer_on(issuers, date(2025, 2, 28)) == "so_tu_phap"
    assert issuer_on(issuers, date(2025, 3, 1)) == "cong_an_tinh"
    assert issuer_on("cong_an_tinh", date(2020, 1, 1)) == "cong_an_tinh"
    # A profile runs across that day: Lâm Đồng's four weeks around it, certificates on both sides.
    ld = profiles.load("lam-dong-2025-03")
    assert issuer_on(ld.lltp_issuer, ld.start) == "so_tu_phap"
    assert issuer_on(ld.lltp_issuer, ld.end - timedelta(days=1)) == "cong_an_tinh"
    arrivals = schedule(ld, profiles.load_curve(ld.arrival), cal, random.Random(7))
    days = {issuer_on(ld.lltp_issuer, a.at.date()) for a in arrivals if a.chain == "lltp"}
    assert days == {"so_tu_phap", "cong_an_tinh"}
    with pytest.raises(ValueError, match="give each issuer's first day"):
        parse_issuers("so_tu_phap,2025-03-01=cong_an_tinh")


def test_tuyen_quangs_january_exempts_three_in_ten_lltp_requests_from_the_fee_as_its_report_counts() -> None:
    """The report's 130 free of 435 LLTP dossiers: an exempt request bears no fee and is never
    paid online; the others, all online there, are paid through the portal."""
    from simulation.workload.plan import plan

    p = profiles.load("tuyen-quang-2024-01")
    assert (p.volumes, p.province, p.start.isoformat(), p.days) == (
        {"birth": 937, "death": 308, "lltp": 491},
        "008",
        "2023-12-14",
        31,
    )
    assert p.share("lltp").fee_exempt == pytest.approx(130 / 435, abs=0.001)
    fees = [d.doc["fee"] for d in plan(p, seed=11) if d.chain == "lltp" and not d.copy]
    assert len(fees) == 491
    exempt = [f for f in fees if not f["bearing"]]
    assert 0.22 < len(exempt) / len(fees) < 0.38  # 29.9 % of 491 draws: 4 standard deviations
    assert not any(f["paid_online"] for f in exempt)
    assert all(f["paid_online"] for f in fees if f["bearing"])
    assert not any("exempt_reason" in f for f in fees)  # the report gives no reasons: none drawn


def test_exempt_requests_give_a_reason_where_the_profile_weighs_them_and_paying_ones_never(tmp_path: Path) -> None:
    from simulation.workload.plan import plan

    doc = yaml.safe_load((profiles.PROFILES_DIR / "tuyen-quang-2024-01.yaml").read_text(encoding="utf-8"))
    doc["shares"]["lltp"]["exempt_reasons"] = {"merit": 3, "poor_household": 1}
    path = tmp_path / "reasons.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    fees = [d.doc["fee"] for d in plan(profiles.load(str(path)), seed=11) if d.chain == "lltp" and not d.copy]
    reasons = [f.get("exempt_reason") for f in fees if not f["bearing"]]
    assert reasons
    assert set(reasons) == {"merit", "poor_household"}
    assert 0.6 < reasons.count("merit") / len(reasons) < 0.9  # 3 in 4, over about 147 draws
    assert not any("exempt_reason" in f for f in fees if f["bearing"])


def test_a_share_of_online_requests_comes_through_vneid_and_pays_online_like_the_portals() -> None:
    """Lâm Đồng issues certificates through the VNeID app from 1 November 2024: a profile's
    `vneid` share of its online requests is submitted on that channel, counted online, paid
    online at the same share."""
    from simulation.workload.plan import plan

    doc = {
        "province": "068",
        "period": {"start": "2024-11-04", "days": 5},
        "volumes": {"lltp": 400, "birth": 100},
        "shares": {"lltp": {"online": 0.5, "vneid": 0.4, "fee_paid_online": 1.0}, "birth": {"online": 1.0}},
    }
    planned = [d for d in plan(profiles.parse(doc, "vneid-test"), seed=5) if not d.copy]
    lltp = [d.doc for d in planned if d.chain == "lltp"]
    channels = Counter(d["channel"] for d in lltp)
    assert channels["in_person"] == 200  # the counter's half is untouched
    assert 0.3 < channels["vneid"] / 200 < 0.5  # 40 % of 200 online draws: 4 standard deviations
    assert all(d["fee"]["paid_online"] for d in lltp if d["channel"] == "vneid" and d["fee"]["bearing"])
    assert {d.doc["channel"] for d in planned if d.chain == "birth"} == {"online"}
    # No report gives the share: the one shipped profile that sets it says it assumes it.
    assumed = [n for n in profiles.available() if profiles.load(n).share("lltp").vneid > 0]
    assert assumed == ["lam-dong-2024-11"]
    assert "assumption" in (profiles.PROFILES_DIR / "lam-dong-2024-11.yaml").read_text(encoding="utf-8")


def test_no_request_comes_through_vneid_before_the_day_the_channel_opened() -> None:
    from simulation.workload.plan import plan

    doc = {
        "province": "068",
        "period": {"start": "2024-10-28", "days": 10},
        "volumes": {"lltp": 600},
        "shares": {"lltp": {"online": 1.0, "vneid": 0.5, "vneid_from": "2024-11-01"}},
        "arrival": "office-hours",
    }
    planned = [d for d in plan(profiles.parse(doc, "vneid-opens"), seed=7) if not d.copy]
    opens = date(2024, 11, 1)
    before = {d.doc["channel"] for d in planned if d.at.astimezone(VN_TZ).date() < opens}
    after = Counter(d.doc["channel"] for d in planned if d.at.astimezone(VN_TZ).date() >= opens)
    assert before == {"online"}
    assert after["vneid"] > 0
    assert after["online"] > 0


def test_a_profile_names_its_staffing_and_a_bad_one_is_refused_before_anything_starts(tmp_path: Path) -> None:
    assert profiles.load("lltp-peak-day").staffing == profiles.STAFFING_DIR / "ha-tinh.yaml"
    path = tmp_path / "mine.yaml"
    doc = "province: '042'\nperiod: {start: 2024-05-13}\nvolumes: {lltp: 10}\nstaffing: {name}\n"
    path.write_text(doc.replace("{name}", "ha-tinhh"), encoding="utf-8")
    with pytest.raises(ConfigError, match=rf"^{path}: staffing: no staffing file 'ha-tinhh' \(shipped: ha-tinh"):
        profiles.load(str(path))
    # A staffing file of one's own, beside the profile; its bad key is named in its own file.
    (tmp_path / "desks.yaml").write_text(
        "description: Bàn thử\ndesks:\n  - {chain: lltp, step: intake, label_vi: Một cửa, level: province, "
        "officers: 0, service_minutes: [1, 2, 3], source: {engineering: a test of the refusal}}\n",
        encoding="utf-8",
    )
    path.write_text(doc.replace("{name}", "desks.yaml"), encoding="utf-8")
    with pytest.raises(ConfigError, match=rf"^{tmp_path / 'desks.yaml'}: desks\.0\.officers"):
        profiles.load(str(path))
