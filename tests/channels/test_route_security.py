"""Every route, enumerated from the apps' URL maps (so a route added later is covered):
Twilio routes refuse what Twilio did not sign, behind a proxy too, and every route
refuses a body over its limit before reading it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from urllib.parse import urlencode

import pytest
from flask import Flask
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from gateway.central.api import MAX_BODY_BYTES as API_BODY_BYTES
from gateway.central.app import create_central_app
from gateway.central.store.central_store import CentralStore
from gateway.settings import Settings
from gateway.store import schema
from tests.channels.voice_calls import KE, LINE
from tests.conftest import TEST_TOKEN, GatewayHarness, make_harness
from tests.hostile.test_central_api import MustNotBeRead, declared_too_large

PUBLIC = "https://ivr.example.org/gw"
BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
TWILIO_ROUTES = {"/twilio/sms", "/twilio/status", "/twilio/voice", "/twilio/voice/step",
                 "/twilio/status/message", "/twilio/status/call"}
# Outreach status callbacks name a row of this gateway's (none here): signed, they pass the
# signature check and are answered 404 for the unknown row.
OUTREACH_ROW = {"/twilio/status/message": "m", "/twilio/status/call": "o"}


def app_of(gateway: GatewayHarness) -> Flask:
    return gateway.client.client.application  # type: ignore[return-value]


def twilio_rules(app: Flask) -> list[str]:
    return sorted(r.rule for r in app.url_map.iter_rules() if r.rule.startswith("/twilio/"))


def form_for(rule: str) -> tuple[str, dict[str, str]]:
    """A request Twilio could send to `rule`: its URL (path and query) and form."""
    call = {"CallSid": "CA" + "1" * 32, "AccountSid": "AC" + "0" * 32, "From": KE, "To": LINE,
            "Called": LINE, "Caller": KE, "Direction": "inbound", "CallStatus": "ringing"}
    if rule == "/twilio/sms":
        return rule, {"MessageSid": "SM" + "1" * 32, "From": KE, "To": LINE, "Body": "WATER"}
    if rule == "/twilio/voice/step":
        return f"{rule}?{urlencode({'n': 1, 'q': '_language'})}", {**call, "Digits": "1"}
    if rule == "/twilio/status/message":
        sid = "SM" + "1" * 32
        return f"{rule}?m=1", {"MessageSid": sid, "SmsSid": sid, "AccountSid": call["AccountSid"],
                               "From": LINE, "To": KE, "MessageStatus": "delivered"}
    if rule in OUTREACH_ROW:
        return f"{rule}?{OUTREACH_ROW[rule]}=1", {**call, "CallStatus": "completed"}
    return rule, call


def accepted(rule: str, status: int) -> bool:
    """What a request Twilio signed gets: its answer, or 404 for an outreach row we lack."""
    return status == 404 if rule in OUTREACH_ROW else status in (200, 204)


def rows(gateway: GatewayHarness) -> list[int]:
    tables = (schema.inbound, schema.calls, schema.events, schema.participants)
    with gateway.services.store.engine.connect() as conn:
        return [conn.execute(select(func.count()).select_from(t)).scalar_one() for t in tables]


def test_every_twilio_route_refuses_unsigned_and_forged_posts(gateway: GatewayHarness) -> None:
    rules = twilio_rules(app_of(gateway))
    assert set(rules) >= TWILIO_ROUTES
    for rule in rules:
        url, form = form_for(rule)
        unsigned = gateway.client.client.post(url, data=form)
        assert unsigned.status_code == 403, rule
        forged = gateway.client.post(url, form, signature="bm90IGEgc2lnbmF0dXJl")
        assert forged.status_code == 403, rule
        tampered = gateway.client.post(url, {**form, "From": "+254799999999"},
                                       signature=gateway.client.signature(url, form))
        assert tampered.status_code == 403, rule
        assert accepted(rule, gateway.client.post(url, form).status_code), rule  # signed: in
    assert rows(gateway)[:2] == [3, 1]  # only the signed ones: sms, voice start and step


@pytest.fixture
def proxied(settings: Settings) -> GatewayHarness:
    """A gateway behind a TLS-terminating proxy: Twilio calls PUBLIC, Flask sees localhost."""
    return make_harness(settings.with_overrides(public_base_url=PUBLIC))


def test_behind_a_proxy_every_twilio_route_checks_the_public_url(
    proxied: GatewayHarness,
) -> None:
    validator = RequestValidator(TEST_TOKEN)
    rules = twilio_rules(app_of(proxied))
    for rule in rules:
        url, form = form_for(rule)
        internal = proxied.client.post(url, form)  # signed for http://localhost
        assert internal.status_code == 403, rule
        public = proxied.client.post(url, form,
                                     signature=validator.compute_signature(PUBLIC + url, form))
        assert accepted(rule, public.status_code), (rule, public.data)
    # The action URLs given to Twilio are public ones, with a query signed as sent.
    _, start = form_for("/twilio/voice")
    start["CallSid"] = "CA" + "2" * 32
    url = "/twilio/voice?x=%3A%2F"
    menu = proxied.client.post(url, start,
                               signature=validator.compute_signature(PUBLIC + url, start))
    assert menu.status_code == 200
    assert f'action="{PUBLIC}/twilio/voice/step?n=1&amp;q=_language"' in menu.text


def test_percent_escapes_are_signed_as_sent(gateway: GatewayHarness) -> None:
    """Twilio signs the URL it requested; `%3A` must not be checked as `:`."""
    _, form = form_for("/twilio/voice")
    response = gateway.client.post("/twilio/voice?note=a%3Ab%20c", form)
    assert response.status_code == 200


# --- body limits ---------------------------------------------------------------------------


@pytest.fixture
def central_app(settings: Settings) -> Iterator[tuple[Flask, str]]:
    store = CentralStore.from_url(settings.central_database_url)
    store.create_schema()
    token = store.add_gateway("gw-limits", datetime.now(UTC))
    yield create_central_app(settings, store), token
    store.engine.dispose()


def body_routes(app: Flask) -> list[tuple[str, str]]:
    """(method, a concrete path) for every rule that takes a request body."""
    urls = app.url_map.bind("localhost")
    found = []
    for rule in app.url_map.iter_rules():
        path = urls.build(rule.endpoint, {name: "x" for name in rule.arguments})
        found += [(method, path) for method in sorted((rule.methods or set()) & BODY_METHODS)]
    return found


def assert_every_body_route_is_capped(app: Flask, limit: int, token: str) -> list[str]:
    checked = []
    client = app.test_client()
    for method, path in body_routes(app):
        api = path.startswith("/api/")
        headers = {"Authorization": f"Bearer {token}"} if api else {
            "X-Twilio-Signature": "c2lnbmVkIGZvciBub2JvZHk="}  # so the form is looked at
        cap = API_BODY_BYTES if api else limit
        response = client.open(path, method=method, headers=headers,
                               content_type="application/x-www-form-urlencoded",
                               environ_overrides={"wsgi.input": MustNotBeRead(),
                                                  "CONTENT_LENGTH": str(cap + 1)})
        assert response.status_code == 413, (method, path, response.status_code)
        checked.append(f"{method} {path}")
    return checked


def test_every_gateway_route_refuses_a_body_over_its_limit_unread(
    gateway: GatewayHarness,
) -> None:
    """The gateway app, with the central API embedded (no CENTRAL_URL)."""
    app = app_of(gateway)
    settings = gateway.services.settings
    assert gateway.services.central is not None
    token = gateway.services.central.gateway_token()
    checked = assert_every_body_route_is_capped(app, settings.max_body_bytes, token)
    assert {f"POST {route}" for route in TWILIO_ROUTES} | {"POST /api/v1/events"} <= set(checked)


def test_every_central_route_refuses_a_body_over_its_limit_unread(
    settings: Settings, central_app: tuple[Flask, str]
) -> None:
    app, token = central_app
    assert app.config["MAX_CONTENT_LENGTH"] == settings.max_body_bytes
    checked = assert_every_body_route_is_capped(app, settings.max_body_bytes, token)
    assert "POST /api/v1/events" in checked
    # Without a token, the API refuses before looking at the body at all.
    response = declared_too_large(app.test_client(), "/api/v1/events", API_BODY_BYTES)
    assert response.status_code == 401
