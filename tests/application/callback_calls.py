"""Call-backs as a test sees them: the numbers involved, the rows of the callbacks table,
and Twilio's final status for the last call-back placed."""

from __future__ import annotations

from sqlalchemy import select

from gateway.store import schema
from tests.channels.voice_calls import KE
from tests.conftest import GatewayHarness
from tests.twilio_signing import ACCOUNT_SID

PUBLIC = "https://ivr.example.org"
OUR_NUMBER = "+254700000009"


def callbacks(gateway: GatewayHarness) -> list[dict]:
    with gateway.services.store.engine.connect() as conn:
        rows = conn.execute(select(schema.callbacks).order_by(schema.callbacks.c.id))
        return [dict(r._mapping) for r in rows]


def settle(gateway: GatewayHarness, status: str = "completed") -> None:
    """Twilio's final status callback for the last call-back placed."""
    sid = gateway.placer.placed[-1]["sid"]
    response = gateway.client.post("/twilio/status", {
        "CallSid": sid, "CallStatus": status, "From": OUR_NUMBER, "To": KE,
        "Direction": "outbound-api", "AccountSid": ACCOUNT_SID,
    })
    assert response.status_code == 204
