"""Judicial-record handlers: which step runs which function."""

from __future__ import annotations

import uuid

from runtime.conn import Conn
from runtime.verification import verify
from runtime.work import Completed, Handler, Outcome, Rejected, StepContext, WorkItem
from services.lltp.domain import Refusal, applicant, decide_certificate, issuer_on


async def issue_certificate(conn: Conn, item: WorkItem, ctx: StepContext) -> Outcome:
    existing = await conn.fetchrow(
        "SELECT certificate_no, delivery, issued_by FROM lltp.certificates WHERE dossier_id = $1", item.dossier_id
    )
    if existing:  # the same request again: it already has its one certificate
        return Completed(dict(existing))
    # The issuer on the day the certificate is issued: provincial police took over from March 2025
    # in some provinces, in the middle of a reporting period.
    decision = decide_certificate(item.dossier, issuer_on(ctx.params.get("lltp_issuer", "so_tu_phap"), ctx.now.date()))
    if not isinstance(decision, Refusal):
        checked = await verify(ctx, item, [applicant(item.dossier)])
        if isinstance(checked, Rejected):
            decision = Refusal(checked.reason, checked.code or "invalid_data")
        elif checked is not None:
            return checked
    if isinstance(decision, Refusal):
        await conn.execute(
            "INSERT INTO lltp.refusals (dossier_id, code, reason, refused_at) VALUES ($1, $2, $3, $4) "
            "ON CONFLICT (dossier_id) DO NOTHING",
            item.dossier_id,
            decision.code,
            decision.reason,
            ctx.now,
        )
        return Rejected(decision.reason, decision.code)
    province = item.dossier.get("area", {}).get("province", "000")
    seq = await conn.fetchval("SELECT nextval('lltp.certificate_seq')")
    number = f"{seq:06d}/{ctx.now.year}/LLTP-{province}"
    await conn.execute(
        "INSERT INTO lltp.certificates (dossier_id, certificate_no, personal_id, delivery, issued_by, issued_at, "
        "source_event_id) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        item.dossier_id,
        number,
        decision.personal_id,
        decision.delivery,
        decision.issued_by,
        ctx.now,
        uuid.UUID(item.event.event_id),
    )
    return Completed({"certificate_no": number, "delivery": decision.delivery, "issued_by": decision.issued_by})


HANDLERS: dict[str, Handler] = {"issue_certificate": issue_certificate}
