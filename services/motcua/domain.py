"""One-stop decisions, pure."""

from __future__ import annotations

from datetime import datetime


def receipt_code(province: str, received_at: datetime, dossier_id: str) -> str:
    """A receipt code in the one-stop style: province, date, and a per-dossier suffix."""
    return f"H{province[-2:]}-{received_at:%y%m%d}-{dossier_id.replace('-', '')[:8].upper()}"
