"""Anything posted to the voice webhooks gets a clear answer: valid TwiML, a 204 for a
status callback, or a 400 naming what is missing or malformed. Never a 500, never an event
the central store would refuse, never more than one event per question of a call, nothing
recorded by a refused request.

Arbitrary signed requests: 1,000 examples per endpoint on SQLite, and 200 more on
PostgreSQL when DATABASE_URL_TEST is set (its column limits and NUL handling differ).
Scenarios of many requests each (whole calls, forged signatures): 500; replays: 200.
"""

from __future__ import annotations

import itertools
import os
import re
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from gateway.privacy import pseudonym
from gateway.settings import Settings
from gateway.store import schema
from tests.channels.voice_calls import LINE
from tests.conftest import FIXTURE_FLOWS, TEST_TOKEN, GatewayHarness, make_harness, postgres_schema
from tests.twilio_signing import ACCOUNT_SID, new_sid, recording_url

EXAMPLES = 1000  # per endpoint, for arbitrary requests
PG_EXAMPLES = 200
SCENARIO_EXAMPLES = 500  # whole calls, forged signatures: many requests per example
KEY = "hostile-voice-key-0123456789"
_callers = itertools.count(1)  # a new number per example: one call each, no resumed calls
VOICE_PATHS = ["/twilio/voice", "/twilio/voice/step", "/twilio/status"]
CENTRAL_TEXT_LIMIT = 4096  # gateway.central.validation.MAX_TEXT_CHARS

any_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=200)
numbers_as_text = st.integers(-(2**70), 2**70).map(str)
field_values = st.one_of(any_text, numbers_as_text, st.lists(any_text, min_size=1, max_size=3))
voice_fields = st.sampled_from([
    "CallSid", "AccountSid", "From", "To", "Called", "Caller", "Direction", "CallStatus",
    "Digits", "SpeechResult", "RecordingUrl", "RecordingDuration", "RecordingSid",
    "MessageSid", "MessageStatus", "ErrorCode",
])
call_sids = st.integers(0, 2**128 - 1).map(lambda n: f"CA{n:032x}")
recording_sids = st.integers(0, 2**128 - 1).map(lambda n: f"RE{n:032x}")


@st.composite
def forms(draw: st.DrawFn) -> dict:
    """Arbitrary forms; half of them with a well-formed CallSid and agreeing parties, so
    that they reach the voice flow."""
    form = draw(st.dictionaries(st.one_of(voice_fields, any_text.filter(bool)), field_values,
                                max_size=10))
    if draw(st.booleans()):
        form["CallSid"] = draw(call_sids)
        for name, twin in (("From", "Caller"), ("To", "Called")):
            if isinstance(form.get(name), str):
                form[twin] = form[name]
            else:
                form.pop(twin, None)
    return form


query_keys = st.one_of(st.sampled_from(["n", "q", "r", "c", "cb"]), any_text.filter(bool))
queries = st.dictionaries(query_keys, st.one_of(any_text, numbers_as_text), max_size=5)
callers = st.sampled_from(["+254712345678", "+254733000111", "anonymous", "", "+266696687",
                           "254712345678", "+14155550123"])
keys = st.one_of(st.sampled_from(list("0123456789*#")), st.text("0123456789*#", max_size=6),
                 any_text)


def _harness(database_url: str, tmp: Path) -> GatewayHarness:
    return make_harness(Settings(
        twilio_auth_token=TEST_TOKEN,
        database_url=database_url,
        central_database_url=f"sqlite:///{tmp / 'central.db'}",
        flows_dir=FIXTURE_FLOWS,
        pseudonym_key=KEY,
    ))


@pytest.fixture(scope="module")
def sqlite_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayHarness]:
    """One gateway for all examples: state piles up as it would in production."""
    tmp = tmp_path_factory.mktemp("hostile-voice")
    gateway = _harness(f"sqlite:///{tmp / 'gateway.db'}", tmp)
    yield gateway
    gateway.services.store.engine.dispose()


@pytest.fixture(scope="module")
def pg_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayHarness]:
    url = os.environ.get("DATABASE_URL_TEST")
    if not url:
        pytest.skip("DATABASE_URL_TEST not set")
    with ExitStack() as stack:
        schema_url = stack.enter_context(postgres_schema(url))
        gateway = _harness(schema_url, tmp_path_factory.mktemp("hostile-voice-pg"))
        stack.callback(gateway.services.store.engine.dispose)
        yield gateway


def count(gateway: GatewayHarness, table: object) -> int:
    with gateway.services.store.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()  # type: ignore[arg-type]


# The only 400s: a field named as missing or as not in its shape, or a mangled step number.
REFUSAL = re.compile(rb"400 Bad Request: (missing required field \w+|\w+ must |"
                     rb"missing or invalid step number n)")


def check_answer(path: str, status: int, body: bytes) -> None:
    """The only answers a voice webhook may give to a signed request."""
    assert status in ((204, 400) if path == "/twilio/status" else (200, 400)), body
    if status == 400:
        assert REFUSAL.match(body), body
        return
    if path == "/twilio/status":
        return
    root = ET.fromstring(body)
    assert root.tag == "Response"
    assert root.find("Hangup") is not None or root.find("Gather") is not None or \
        root.find("Reject") is not None or root.find("Record") is not None, body


RECORDED = (schema.inbound, schema.calls, schema.events, schema.participants, schema.sessions,
            schema.callbacks)


def recorded(gateway: GatewayHarness) -> tuple[int, ...]:
    """The rows of each table a webhook writes, in one query."""
    counts = [select(func.count()).select_from(t).scalar_subquery() for t in RECORDED]
    with gateway.services.store.engine.connect() as conn:
        return tuple(conn.execute(select(*counts)).one())


def post_signed(gateway: GatewayHarness, path: str, query: dict[str, str],
                form: dict) -> None:
    target = path + (f"?{urlencode(query)}" if query else "")
    before = recorded(gateway)
    response = gateway.client.post(target, form)
    check_answer(path, response.status_code, response.data)
    if response.status_code == 400:  # a refused request records nothing
        assert recorded(gateway) == before


# --- arbitrary signed requests --------------------------------------------------------------


@pytest.mark.parametrize("path", VOICE_PATHS)
@settings(max_examples=EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(query=queries, form=forms())
def test_arbitrary_signed_requests(sqlite_gateway: GatewayHarness, path: str,
                                   query: dict[str, str], form: dict) -> None:
    post_signed(sqlite_gateway, path, query, form)


@pytest.mark.parametrize("path", VOICE_PATHS)
@settings(max_examples=PG_EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(query=queries, form=forms())
def test_arbitrary_signed_requests_postgresql(pg_gateway: GatewayHarness, path: str,
                                              query: dict[str, str], form: dict) -> None:
    post_signed(pg_gateway, path, query, form)


def test_values_the_store_could_not_hold_are_refused_or_bounded(
    sqlite_gateway: GatewayHarness,
) -> None:
    """The corners random search may miss, each with its answer."""
    gateway = sqlite_gateway
    caller = "+254712000999"
    base = {"CallSid": new_sid("CA"), "From": caller, "To": LINE, "Direction": "inbound"}
    too_long = {**base, "CallSid": "CA" + "f" * 63}
    response = gateway.client.post("/twilio/voice", too_long)
    assert response.status_code == 400
    assert b"CallSid must be CA followed by 32 lower-case hex digits" in response.data
    for n in ("-1", "1e3", "99999999999999999999999", "", "\u0661"):
        query = urlencode({"n": n, "q": "priority"})
        response = gateway.client.post(f"/twilio/voice/step?{query}", base)
        assert response.status_code == 400 and b"step number" in response.data, n
    outbound = {**base, "From": LINE, "To": caller, "Direction": "outbound-api"}
    for cb in ("99999999999999999999999", "-3", "x"):  # our call-back id, mangled
        response = gateway.client.post(f"/twilio/voice?c=water-test&cb={cb}", outbound)
        check_answer("/twilio/voice", response.status_code, response.data)
        assert response.status_code == 200


# --- hostile input inside real calls -------------------------------------------------------

real_recordings = recording_sids.map(
    lambda sid: {"RecordingUrl": recording_url(sid), "RecordingSid": sid})
call_inputs = st.lists(
    st.one_of(
        st.fixed_dictionaries({"Digits": keys}),
        st.fixed_dictionaries({}),  # silence: the Redirect after a Gather
        st.fixed_dictionaries({"RecordingUrl": any_text,
                               "RecordingDuration": st.one_of(numbers_as_text, any_text)}),
        st.fixed_dictionaries({"Digits": keys, "RecordingUrl": st.just("https://x" * 600),
                               "RecordingDuration": st.just("9" * 4000)}),
        st.builds(lambda real, duration, digits: {**real, "RecordingDuration": duration,
                                                  "Digits": digits},
                  real_recordings, st.one_of(numbers_as_text, st.just("9" * 4000)),
                  st.sampled_from(["#", "hangup", ""])),
    ),
    min_size=1, max_size=8,
)


@settings(max_examples=SCENARIO_EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(inputs=call_inputs, stale=st.lists(st.booleans(), min_size=8, max_size=8))
def test_hostile_input_during_real_calls(sqlite_gateway: GatewayHarness, inputs: list[dict],
                                         stale: list[bool]) -> None:
    """Whatever the caller's keys (or a mangled Record result) and whichever action URL,
    every answer is TwiML or a 400 naming a malformed field (which records nothing), and
    each question of a call is recorded at most once, with texts the central store
    accepts."""
    gateway = sqlite_gateway
    caller = f"+25479{next(_callers):07d}"
    sid = new_sid("CA")
    base = {"CallSid": sid, "AccountSid": ACCOUNT_SID, "From": caller, "To": LINE,
            "Called": LINE, "Direction": "inbound", "CallStatus": "in-progress"}
    first = gateway.client.post("/twilio/voice", base)
    check_answer("/twilio/voice", first.status_code, first.data)
    first_action = ET.fromstring(first.data).find("Gather")
    assert first_action is not None
    action = first_action.get("action", "")
    for sent, use_stale in zip(inputs, stale, strict=False):
        url = "/twilio/voice/step?n=1&q=_language" if use_stale else action
        if "RecordingUrl" in sent and "r=1" not in url:
            url += "&r=1"
        before = recorded(gateway)
        response = gateway.client.post(url, {**base, **sent})
        check_answer("/twilio/voice/step", response.status_code, response.data)
        if response.status_code == 400:  # a malformed key or recording: nothing changes
            assert recorded(gateway) == before
            continue
        root = ET.fromstring(response.data)
        verb = root.find("Record") if root.find("Record") is not None else root.find("Gather")
        if verb is None:  # the call ended
            break
        action = verb.get("action", "")
    with gateway.services.store.engine.connect() as conn:
        rows = conn.execute(
            select(schema.events.c.question_id, schema.events.c.value, schema.events.c.raw)
            .where(schema.events.c.pseudonym == pseudonym(KEY, caller))
        ).all()
    per_question = Counter(row.question_id for row in rows)
    assert all(times == 1 for times in per_question.values()), per_question
    for row in rows:
        for text in (row.value, row.raw):
            assert text is None or (len(text) <= CENTRAL_TEXT_LIMIT and "\x00" not in text)


# --- forged signatures and replays ------------------------------------------------------------


header_text = st.text(st.characters(exclude_categories=("Cs", "Cc")), max_size=60)


@pytest.mark.parametrize("path", VOICE_PATHS)
@settings(max_examples=SCENARIO_EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(query=queries, form=forms(), signature=header_text)
def test_forged_signatures_are_refused(sqlite_gateway: GatewayHarness, path: str,
                                       query: dict[str, str], form: dict,
                                       signature: str) -> None:
    gateway = sqlite_gateway
    target = path + (f"?{urlencode(query)}" if query else "")
    if signature == gateway.client.signature(target, form):
        return
    tables = (schema.inbound, schema.calls, schema.events, schema.participants)
    before = [count(gateway, table) for table in tables]
    response = gateway.client.post(target, form, signature=signature)
    assert response.status_code == 403
    assert [count(gateway, table) for table in tables] == before


@settings(max_examples=200, deadline=None)
@given(presses=st.lists(st.sampled_from("1234"), min_size=1, max_size=6),
       repeats=st.integers(2, 4))
def test_replayed_steps_change_nothing(sqlite_gateway: GatewayHarness, presses: list[str],
                                       repeats: int) -> None:
    """Every request of a call sent again (as Twilio retries, or an attacker replays a
    captured one) gets the TwiML it got the first time and records nothing."""
    gateway = sqlite_gateway
    caller = f"+25478{next(_callers):07d}"
    base = {"CallSid": new_sid("CA"), "From": caller, "To": LINE, "Direction": "inbound"}
    sent: list[tuple[str, dict[str, str], bytes]] = []
    response = gateway.client.post("/twilio/voice", base)
    sent.append(("/twilio/voice", base, response.data))
    for key in presses:
        gather = ET.fromstring(response.data).find("Gather")
        if gather is None:
            break
        url = gather.get("action", "")
        form = {**base, "Digits": key}
        response = gateway.client.post(url, form)
        sent.append((url, form, response.data))
    tables = (schema.inbound, schema.calls, schema.events, schema.participants,
              schema.sessions)
    before = [count(gateway, table) for table in tables]
    for _ in range(repeats):
        for url, form, first in reversed(sent):  # in any order, even the oldest last
            again = gateway.client.post(url, form)
            assert again.status_code == 200 and again.data == first
    assert [count(gateway, table) for table in tables] == before
