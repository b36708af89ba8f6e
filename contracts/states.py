"""Dossier states with the Vietnamese labels people use, mapped to the real systems' codes."""

from __future__ import annotations

from enum import StrEnum


class DossierState(StrEnum):
    RECEIVED = "received"
    IN_PROGRESS = "in_progress"
    AWAITING_DOCUMENTS = "awaiting_documents"
    AWAITING_SIGNATURE = "awaiting_signature"
    AWAITING_ISSUANCE = "awaiting_issuance"
    IN_TRANSIT = "in_transit"
    """A result handed to the public postal service, not yet delivered."""
    RESULT_RETURNED = "result_returned"
    OVERDUE = "overdue"
    REFUSED = "refused"
    CARRIED_OVER = "carried_over"

    @property
    def label_vi(self) -> str:
        return LABELS_VI[self]

    @property
    def portal_code(self) -> int:
        """`TrangThaiHoSo` of the national portal (docs/domain.md, "Codes")."""
        return PORTAL_CODES[self]


LABELS_VI: dict[DossierState, str] = {
    DossierState.RECEIVED: "Mới tiếp nhận",
    DossierState.IN_PROGRESS: "Đang xử lý",
    DossierState.AWAITING_DOCUMENTS: "Chờ bổ sung",
    DossierState.AWAITING_SIGNATURE: "Chờ ký số",
    DossierState.AWAITING_ISSUANCE: "Chờ ban hành",
    DossierState.IN_TRANSIT: "Đang chuyển phát",
    DossierState.RESULT_RETURNED: "Đã trả kết quả",
    DossierState.OVERDUE: "Quá hạn",
    DossierState.REFUSED: "Từ chối",
    DossierState.CARRIED_OVER: "Kỳ trước chuyển sang",
}

# Overdue and carried-over are views over time, not portal states: they keep the
# underlying "in progress" code.
PORTAL_CODES: dict[DossierState, int] = {
    DossierState.RECEIVED: 2,
    DossierState.IN_PROGRESS: 4,
    DossierState.AWAITING_DOCUMENTS: 5,
    DossierState.AWAITING_SIGNATURE: 4,
    DossierState.AWAITING_ISSUANCE: 4,
    DossierState.IN_TRANSIT: 4,
    DossierState.RESULT_RETURNED: 10,
    DossierState.OVERDUE: 4,
    DossierState.REFUSED: 3,
    DossierState.CARRIED_OVER: 4,
}

HOTICH_CODES: dict[DossierState, int] = {
    DossierState.RECEIVED: 1,
    DossierState.AWAITING_DOCUMENTS: 2,
    DossierState.IN_PROGRESS: 3,
    DossierState.AWAITING_SIGNATURE: 3,
    DossierState.AWAITING_ISSUANCE: 3,
    DossierState.RESULT_RETURNED: 4,
    DossierState.REFUSED: 6,
}
"""Civil-status system `trangThai`: 1 awaiting intake, 2 supplement, 3 processing, 4 registered, 6 refused."""


class PortalStatus(StrEnum):
    """Where a dossier stands as the portal sees it (the citizen's view)."""

    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    REJECTED = "rejected"
