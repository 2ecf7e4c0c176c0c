"""Anything posted to /twilio/sms gets a clear answer: never a 500, never two replies."""

from __future__ import annotations

import re
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from gateway.settings import Settings
from gateway.store import schema
from tests.conftest import FIXTURE_FLOWS, TEST_TOKEN, GatewayHarness, make_harness
from tests.twilio_signing import new_sid

EXAMPLES = settings(
    max_examples=1000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# Text a form can carry: any Unicode except lone surrogates, which no client can encode.
any_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=300)
field_values = st.one_of(any_text, st.lists(any_text, min_size=1, max_size=3))
known_fields = st.sampled_from(
    ["MessageSid", "From", "To", "Body", "AccountSid", "NumSegments", "NumMedia", "SmsSid"]
)
# What can travel in an HTTP header: no control characters.
header_text = st.text(st.characters(exclude_categories=("Cs", "Cc")), max_size=60)
numbers = st.sampled_from(
    ["+254712345678", "+254733000111", "+14155550123", "+919812345678", "+2348031234567"]
)
message_sids = st.integers(0, 2**128 - 1).map(lambda n: f"SM{n:032x}")
# The only 400s: a field named as missing, or as not in its documented shape.
REFUSAL = re.compile(r"400 Bad Request: (missing required field \w+|\w+ must )")


@st.composite
def forms(draw: st.DrawFn) -> dict:
    """Arbitrary forms; half of them with a well-formed message id (under one, two or
    three of its names) and a real sender, so that they reach the conversation."""
    form = draw(st.dictionaries(st.one_of(known_fields, any_text.filter(bool)), field_values,
                                max_size=10))
    if draw(st.booleans()):
        sid = draw(message_sids)
        form["MessageSid"] = sid
        for alias in ("SmsSid", "SmsMessageSid"):
            if draw(st.booleans()):
                form[alias] = sid
        form["From"] = draw(numbers)
    return form


def inbound_rows(gateway: GatewayHarness) -> int:
    with gateway.services.store.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(schema.inbound)).scalar_one()

_harness: GatewayHarness | None = None


def harness() -> GatewayHarness:
    """One gateway for all examples: state piles up as it would in production."""
    global _harness
    if _harness is None:
        tmp = Path(tempfile.mkdtemp(prefix="civicline-hostile-"))
        _harness = make_harness(
            Settings(
                twilio_auth_token=TEST_TOKEN,
                database_url=f"sqlite:///{tmp / 'gateway.db'}",
                central_database_url=f"sqlite:///{tmp / 'central.db'}",
                flows_dir=FIXTURE_FLOWS,
                pseudonym_key="hostile-test-key-0123456789",
                replies_per_hour=10_000,
            )
        )
    return _harness


def assert_twiml(data: bytes, max_messages: int = 1) -> list[str]:
    root = ET.fromstring(data)
    assert root.tag == "Response"
    messages = [m.text or "" for m in root.iter("Message")]
    assert len(messages) <= max_messages
    return messages


@EXAMPLES
@given(form=forms())
def test_arbitrary_signed_forms(form: dict) -> None:
    gateway = harness()
    before = inbound_rows(gateway)
    response = gateway.client.post("/twilio/sms", form)
    assert response.status_code in (200, 400), response.get_data(as_text=True)
    if response.status_code == 200:
        assert_twiml(response.data)
    else:
        assert REFUSAL.match(response.get_data(as_text=True)), response.data
        assert inbound_rows(gateway) == before  # a refused message records nothing


@EXAMPLES
@given(sender=numbers, body=any_text)
def test_arbitrary_bodies_from_real_numbers(sender: str, body: str) -> None:
    result = harness().client.sms(sender, body)
    for reply in assert_twiml(result.response.data):
        assert reply.strip()


@EXAMPLES
@given(form=forms(), signature=header_text)
def test_forged_signatures_are_refused(form: dict, signature: str) -> None:
    gateway = harness()
    if signature == gateway.client.signature("/twilio/sms", form):
        return
    before = inbound_rows(gateway)
    response = gateway.client.post("/twilio/sms", form, signature=signature)
    assert response.status_code == 403
    assert inbound_rows(gateway) == before


@settings(max_examples=200, deadline=None)
@given(sender=numbers, body=any_text, repeats=st.integers(2, 4))
def test_replays_change_nothing(sender: str, body: str, repeats: int) -> None:
    gateway = harness()
    sid = new_sid()
    first = gateway.client.sms(sender, body, sid=sid)
    with gateway.services.store.engine.connect() as conn:
        events = conn.execute(select(func.count()).select_from(schema.events)).scalar_one()
    for _ in range(repeats):
        assert gateway.client.sms(sender, body, sid=sid).replies == first.replies
    with gateway.services.store.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(schema.events)).scalar_one() == events
