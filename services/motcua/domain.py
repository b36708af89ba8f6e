"""One-stop decisions, pure."""

from __future__ import annotations

import hashlib
from datetime import datetime

S10_WEIGHTS = (8, 6, 4, 2, 3, 5, 9, 7)


def receipt_code(province: str, received_at: datetime, dossier_id: str) -> str:
    """A receipt code in the one-stop style: province, date, and a per-dossier suffix."""
    return f"H{province[-2:]}-{received_at:%y%m%d}-{dossier_id.replace('-', '')[:8].upper()}"


def postal_item(dossier_id: str) -> str:
    """The postal item's number as VNPost prints it, in the UPU S10 form: service letters, eight
    digits drawn from the dossier, the S10 check digit, the country (e.g. RR12345678 5VN)."""
    serial = f"{int(hashlib.sha256(dossier_id.encode()).hexdigest(), 16) % 10**8:08d}"
    return f"RR{serial}{s10_check_digit(serial)}VN"


def s10_check_digit(serial: str) -> int:
    """UPU S10's check digit of an eight-digit serial: 11 minus the weighted sum modulo 11, with
    10 written 0 and 11 written 5."""
    if len(serial) != 8 or not serial.isdigit():
        raise ValueError(f"an S10 serial is eight digits, not {serial!r}")
    check = 11 - sum(int(d) * w for d, w in zip(serial, S10_WEIGHTS, strict=True)) % 11
    return {10: 0, 11: 5}.get(check, check)
