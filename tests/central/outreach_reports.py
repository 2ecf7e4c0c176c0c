"""A gateway's outreach progress report as docs/outreach.md §3 shows it."""

from __future__ import annotations


def progress_report(outreach_id: str = "o-3f9a1c2b7d4e", version: int = 4,
                    **changes: object) -> dict[str, object]:
    body: dict[str, object] = {
        "id": outreach_id, "version": version,
        "preview": {"recipients": [{"language": "sw", "channel": "sms", "count": 812}],
                    "segments": {"encoding": "GSM-7", "per_message": 1, "total": 812},
                    "excluded": {"opted_out": 12, "contacted_already": 0, "invalid_number": 3,
                                 "unreachable": 1, "no_consent_basis": 0}},
        "counts": {"pending": 700, "sending": 2, "sent": 90, "delivered": 20, "failed": 0,
                   "excluded": 16},
        "answered": 7,
    }  # fmt: skip
    body.update(changes)
    return body
