"""What the portal answers a caller without the operator token: every personal ID number and
full name masked by key (in results, in the timeline's payloads, in a refusal's reason), and
nothing else touched: ids, dates and codes stay as they were."""

from __future__ import annotations

import json

from contracts.people import mask_document

CHILD = "042224123456"
MOTHER = "042195654321"
EVENT = "5f0c2a9e-1b7d-4c3e-9a41-123456789012"  # its last group is twelve digits


def test_personal_ids_and_names_are_masked_wherever_the_document_names_them() -> None:
    body = {
        "dossier_id": EVENT,
        "results": {"register_residence": {"result": {"personal_id": CHILD, "registered_at": "2024-01-05T09:00:00"}}},
        "timeline": [
            {"event_id": EVENT, "type": "step.completed", "payload": {"result": {"personal_id": CHILD}}},
            {"event_id": EVENT, "type": "step.rejected", "payload": {"reason": f"identity_mismatch: {MOTHER}"}},
            {"event_id": EVENT, "type": "dossier.submitted", "payload": {"mother": {"full_name": "Nguyễn Thị Lan"}}},
        ],
        "mother_personal_id": MOTHER,
    }
    masked = mask_document(body)
    text = json.dumps(masked, ensure_ascii=False)
    assert CHILD not in text
    assert MOTHER not in text
    assert "Nguyễn Thị Lan" not in text
    assert masked["results"]["register_residence"]["result"]["personal_id"] == "042*******56"
    assert masked["timeline"][1]["payload"]["reason"] == "identity_mismatch: 042*******21"
    assert masked["timeline"][2]["payload"]["mother"]["full_name"] == "N. T. L."
    assert masked["mother_personal_id"] == "042*******21"


def test_ids_dates_and_codes_are_left_as_they_were() -> None:
    body = {"dossier_id": EVENT, "timeline": [{"event_id": EVENT, "occurred_at": "2024-01-05T09:00:00+07:00"}]}
    assert mask_document(body) == body
    assert mask_document({"receipt_code": "H42-240122-AE1B670E", "amount_vnd": 1_800_000}) == {
        "receipt_code": "H42-240122-AE1B670E",
        "amount_vnd": 1_800_000,
    }
