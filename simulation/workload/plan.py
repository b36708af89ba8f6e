"""The submissions of a run, planned before it starts: which dossier each citizen files, on which
chain and channel, at which sim time, which carry the profile's bad data, and which are filed
twice. Deterministic for a profile and a seed (reproducible runs: the n-th submission always gets
the same Idempotency-Key, so the portal gives its dossier the same id)."""

from __future__ import annotations

import asyncio
import random
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from contracts.calendar import WorkingCalendar
from contracts.clock import VN_TZ
from contracts.dossiers import INSURED_TYPES, ONLINE_CHANNELS
from simulation.workload.arrivals import schedule
from simulation.workload.baddata import spoil
from simulation.workload.citizens import CitizenFactory
from simulation.workload.profiles import Profile, load_curve
from simulation.workload.quotas import Quotas

SUBMISSIONS = uuid.UUID("6f1d3c2e-5b8a-4e47-9a51-2c0f7d9e8b10")
"""Namespace of the submissions' Idempotency-Keys: the n-th submission of a profile and seed has
the same key in every run, so the portal gives its dossier the same id (reproducible runs)."""
DUPLICATE_DELAY = (timedelta(minutes=5), timedelta(hours=3))
"""When a citizen submits the same dossier again: while the first is certainly still open."""


@dataclass
class Planned:
    at: datetime
    chain: str
    doc: dict[str, Any]
    bad: str | None = None
    copy: bool = False
    """A duplicate submission of an earlier dossier (the portal must refuse it)."""
    status: int | None = None
    dossier_id: str | None = None
    original: Planned | None = None
    """For a copy: the submission it repeats, which must have been answered first."""
    key: str = ""
    """Its Idempotency-Key: the same for the same profile, seed and position in every run."""
    answered: asyncio.Event = field(default_factory=asyncio.Event, repr=False)


def plan(profile: Profile, seed: int) -> list[Planned]:
    """Every submission of the profile in time order: the dossiers, spoiled at the profile's
    bad-data rates, and the duplicate copies."""
    factory = CitizenFactory(profile.province, seed)
    rng = random.Random(seed + 1)
    out: list[Planned] = []
    kinds = list(profile.bad_data)
    weights = [profile.bad_data[k] for k in kinds]
    quotas = Quotas() if profile.quotas else None
    for a in schedule(profile, load_curve(profile.arrival), WorkingCalendar(), rng):
        doc = _dossier(factory, profile, a.chain, a.channel, a.at, quotas)
        roll = rng.random()
        bad = next((k for k, acc in zip(kinds, _cumulative(weights), strict=True) if roll < acc), None)
        if bad and bad != "duplicate_submission":
            doc = spoil(doc, bad, rng)
        out.append(Planned(a.at, a.chain, doc, bad))
        if bad == "duplicate_submission":
            lo, hi = DUPLICATE_DELAY
            original = out[-1]
            out.append(Planned(a.at + lo + (hi - lo) * rng.random(), a.chain, doc, bad, copy=True, original=original))
    out.sort(key=lambda p: p.at)
    for i, p in enumerate(out):
        p.key = uuid.uuid5(SUBMISSIONS, f"{profile.name}/{seed}/{i}").hex
    return out


def _cumulative(weights: list[float]) -> list[float]:
    acc, out = 0.0, []
    for w in weights:
        acc += w
        out.append(acc)
    return out


def _pick(rng: random.Random, mix: dict[Any, float]) -> Any:
    return rng.choices(list(mix), weights=list(mix.values()))[0]


def _standalone(doc: dict[str, Any], standalone: bool) -> dict[str, Any]:
    """A registration made outside the linked procedure: the civil-status registration alone."""
    if standalone:
        doc["linked"] = False
        if doc["chain"] == "death":
            doc["procedures"] = ["death_registration"]
    return doc


def _dossier(
    factory: CitizenFactory,
    profile: Profile,
    chain: str,
    channel: str,
    at: datetime,
    quotas: Quotas | None = None,
) -> dict[str, Any]:
    r = factory.rng

    def has(attribute: str, share: float) -> bool:
        return quotas.take(chain, attribute, share) if quotas is not None else r.random() < share

    shares = profile.share(chain)
    post = has("post", shares.post)
    verify = has("verification", shares.verification)
    today = at.astimezone(VN_TZ).date()
    # Drawn only when the profile has VNeID submissions: profiles without them keep their draws.
    opened = shares.vneid_from is None or today >= shares.vneid_from
    if channel == "online" and shares.vneid > 0 and opened and has("vneid", shares.vneid):
        channel = "vneid"
    # Drawn only when the profile has standalone registrations: profiles without keep their draws.
    standalone = chain in ("birth", "death") and shares.linked < 1 and not has("linked", shares.linked)
    if chain == "birth":
        return _standalone(factory.birth_dossier(today, channel, post, verify), standalone)
    if chain == "death":
        beneficiary = _pick(r, profile.beneficiaries)
        n = _pick(r, profile.death_procedures)
        # Valid data stays valid: nobody claims a burial payment for a deceased no payer covers,
        # nor a survivor benefit social security does not pay.
        if beneficiary == "none":
            n = 2
        elif n == 4 and beneficiary not in INSURED_TYPES:
            n = 3
        return _standalone(
            factory.death_dossier(
                today, channel, post, procedures=n, beneficiary=beneficiary, needs_verification=verify
            ),
            standalone,
        )
    if chain == "lltp":
        # Drawn only when the profile exempts anyone: profiles without exemptions keep their draws.
        exempt = shares.fee_exempt > 0 and has("fee_exempt", shares.fee_exempt)
        paid = not exempt and channel in ONLINE_CHANNELS and has("fee_paid_online", shares.fee_paid_online)
        # Drawn only when some pay on the province's own portal: other profiles keep their draws.
        provincial = paid and shares.paid_on_national < 1 and not has("paid_on_national", shares.paid_on_national)
        # Drawn only when the profile gives reasons: profiles without keep their draws.
        reason = _pick(r, shares.exempt_reasons) if exempt and shares.exempt_reasons else None
        return factory.lltp_dossier(
            today,
            channel,
            post,
            paid_online=paid,
            needs_verification=verify,
            fee_bearing=not exempt,
            paid_on="provincial" if provincial else "national",
            exempt_reason=reason,
        )
    if chain == "marriage":
        # Drawn only when some partners live elsewhere: profiles without keep their draws.
        elsewhere = shares.partner_elsewhere > 0 and has("partner_elsewhere", shares.partner_elsewhere)
        away = elsewhere and shares.partner_other_province > 0
        province = away and has("partner_other_province", shares.partner_other_province)
        where = "province" if province else "commune" if elsewhere else "same"
        return factory.marriage_dossier(today, channel, where, needs_verification=verify)
    raise ValueError(f"unknown chain {chain}")
