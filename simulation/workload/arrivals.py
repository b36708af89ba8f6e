"""When each dossier of a profile arrives, in sim time: pure, seeded, exact in volume.

Per flow and channel, the profile's volume is spread over the period's days by weight (working
days 1, other days the curve's weight for that channel, each day times a lognormal factor so
some days peak) with largest-remainder rounding, so the total is exactly the profile's volume.
Within a day, the hour is drawn from the curve's hourly weights; in-person dossiers only arrive
while the office is open.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from contracts.calendar import OFFICE_CLOSE, OFFICE_OPEN, WorkingCalendar
from contracts.clock import VN_TZ
from simulation.workload.profiles import ArrivalCurve, Profile


@dataclass(frozen=True, order=True)
class Arrival:
    at: datetime
    chain: str
    channel: str


def spread(total: int, weights: list[float]) -> list[int]:
    """Split `total` into integer parts proportional to `weights` (largest remainder)."""
    if total < 0:
        raise ValueError("total must not be negative")
    s = sum(weights)
    if total == 0:
        return [0] * len(weights)
    if s <= 0:
        raise ValueError("cannot spread dossiers over days that all have weight 0")
    exact = [total * w / s for w in weights]
    parts = [math.floor(x) for x in exact]
    by_remainder = sorted(range(len(weights)), key=lambda i: exact[i] - parts[i], reverse=True)
    for i in by_remainder[: total - sum(parts)]:
        parts[i] += 1
    return parts


def day_factors(days: list[date], variation: float, rng: random.Random) -> list[float]:
    """Lognormal day-to-day factors with mean 1 and the given coefficient of variation."""
    if variation <= 0:
        return [1.0] * len(days)
    sigma = math.sqrt(math.log(1 + variation**2))
    return [rng.lognormvariate(-(sigma**2) / 2, sigma) for _ in days]


def _moment(day: date, channel: str, curve: ArrivalCurve, rng: random.Random) -> datetime:
    hours = curve.hourly[channel]
    hour = rng.choices(list(hours), weights=list(hours.values()))[0]
    start = datetime.combine(day, time(hour), VN_TZ)
    if channel == "in_person":  # the counter is open 07:30–17:00 only
        lo = max(start, datetime.combine(day, OFFICE_OPEN, VN_TZ))
        hi = min(start + timedelta(hours=1), datetime.combine(day, OFFICE_CLOSE, VN_TZ))
        if hi <= lo:
            lo, hi = datetime.combine(day, OFFICE_OPEN, VN_TZ), datetime.combine(day, OFFICE_CLOSE, VN_TZ)
        return lo + (hi - lo) * rng.random()
    return start + timedelta(seconds=rng.uniform(0, 3600))


def schedule(profile: Profile, curve: ArrivalCurve, calendar: WorkingCalendar, rng: random.Random) -> list[Arrival]:
    """Every arrival of the profile, in time order."""
    days = [profile.start + timedelta(days=i) for i in range(profile.days)]
    out: list[Arrival] = []
    for chain, volume in profile.volumes.items():
        online = round(volume * profile.share(chain).online)
        for channel, count in (("online", online), ("in_person", volume - online)):
            if curve.burst:
                first = next((d for d in days if calendar.is_working_day(d)), days[0])
                at = datetime.combine(first, OFFICE_OPEN, VN_TZ)
                out += [Arrival(at, chain, channel)] * count
                continue
            factors = day_factors(days, curve.day_variation, rng)
            weights = [
                f * (1.0 if calendar.is_working_day(d) else curve.non_working_day_weight[channel])
                for d, f in zip(days, factors, strict=True)
            ]
            for day, n in zip(days, spread(count, weights), strict=True):
                out += [Arrival(_moment(day, channel, curve, rng), chain, channel) for _ in range(n)]
    out.sort()
    return carried(profile) + out


CARRIED_FROM = time(15, 0)
"""The carried-over dossiers arrive from 15:00 on the day before the run's period (Decree
63/2024: received after 15:00, a dossier counts from the next working day), evenly to 17:00:
nothing is taken up before the period begins, so every one of them is still in progress then."""


def carried(profile: Profile) -> list[Arrival]:
    """The dossiers carried over into the period (`carried_over`), in time order: submitted on the
    last working day before it, after 15:00, each flow at its online share."""
    day = profile.run_start
    opens = datetime.combine(day, CARRIED_FROM, VN_TZ)
    out: list[Arrival] = []
    for chain, n in profile.carried_over.items():
        online = round(n * profile.share(chain).online)
        channels = ["online"] * online + ["in_person"] * (n - online)
        step = timedelta(hours=2) / max(1, n)
        out += [Arrival(opens + step * (i + 0.5), chain, channel) for i, channel in enumerate(channels)]
    out.sort()
    return out
