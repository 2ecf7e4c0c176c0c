"""Logs never carry a participant's full phone number or a secret."""

from __future__ import annotations

import logging

import pytest

from tests.conftest import TEST_TOKEN, GatewayHarness, make_harness

NUMBER = "+254712345678"


def test_conversation_logs_no_number_or_secret(
    settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    gateway: GatewayHarness = make_harness(settings.with_overrides(replies_per_hour=2))
    for body in ("WATER", "1", "yes", "STOP", "START"):
        gateway.client.sms(NUMBER, body)
    gateway.client.post("/twilio/sms", {"MessageSid": "SMx", "From": NUMBER}, signature="bad")
    text = "\n".join(record.getMessage() for record in caplog.records)
    assert "reply cap reached for +*********678" in text  # masked, yet recognisable
    assert NUMBER not in text and NUMBER[1:] not in text
    assert TEST_TOKEN not in text and settings.pseudonym_key not in text
