"""gateway.channels.field_shapes: the ids and fields the Twilio routes read, in their
documented shapes. Malformed ones are refused on every route with a 400 that names the
field, and nothing is recorded; well-formed ones are taken as before."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from gateway.channels import field_shapes
from gateway.channels.field_shapes import MalformedField
from gateway.store import schema
from tests.channels.voice_calls import KE, LINE, Call
from tests.conftest import GatewayHarness
from tests.twilio_signing import ACCOUNT_SID, new_sid, recording_url

HEX = "0123456789abcdef" * 2
MESSAGE_SHAPE = "MessageSid must be SM or MM followed by 32 lower-case hex digits"
CALL_SHAPE = "CallSid must be CA followed by 32 lower-case hex digits"


def malformed(prefix: str) -> list[str]:
    """Ids that are not `prefix` + 32 lower-case hex digits, the folded one first."""
    return [
        f"{prefix}{HEX}NumMedia0",  # the next field folded in
        f"{prefix}{HEX[:31]}",  # one digit short
        f"{prefix}{HEX}0",  # one digit over
        f"{prefix}{HEX.upper()}",  # upper-case hex
        f"{prefix.lower()}{HEX}",
        f" {prefix}{HEX}",
        f"{prefix}{HEX[:31]}g",
        f"XX{HEX}",
        f"{prefix}{HEX}\n",
        f"{prefix}{HEX[:16]}-{HEX[16:31]}",
    ]


def rows(gateway: GatewayHarness) -> list[int]:
    tables = (schema.inbound, schema.participants, schema.events, schema.sessions,
              schema.calls, schema.callbacks)
    with gateway.services.store.engine.connect() as conn:
        return [conn.execute(select(func.count()).select_from(t)).scalar_one() for t in tables]


def refused(gateway: GatewayHarness, url: str, params: dict[str, str] | MultiDict,
            message: str) -> None:
    before = rows(gateway)
    response = gateway.client.post(url, params)
    assert response.status_code == 400, response.get_data(as_text=True)
    assert message in response.get_data(as_text=True)
    assert rows(gateway) == before


def sms_params(sid: str) -> dict[str, str]:
    return {"MessageSid": sid, "SmsSid": sid, "SmsMessageSid": sid, "AccountSid": ACCOUNT_SID,
            "From": KE, "To": LINE, "Body": "WATER", "NumMedia": "0"}


# --- the shapes --------------------------------------------------------------------------


@pytest.mark.parametrize(("shape", "prefixes"), [
    (field_shapes.MESSAGE_SID, ["SM", "MM"]), (field_shapes.CALL_SID, ["CA"]),
    (field_shapes.RECORDING_SID, ["RE"]), (field_shapes.ACCOUNT_SID, ["AC"]),
])
def test_sids_are_two_letters_and_32_lower_case_hex_digits(
    shape: field_shapes.Shape, prefixes: list[str]
) -> None:
    for prefix in prefixes:
        assert shape.fits(prefix + HEX)
        assert not any(shape.fits(sid) for sid in malformed(prefix))
    assert not shape.fits("")
    others = {"SM", "MM", "CA", "RE", "AC", "MG"} - set(prefixes)
    assert not any(shape.fits(other + HEX) for other in others)


def test_keys_are_keypad_keys_or_hangup() -> None:
    for keys in ("", "0", "9", "*", "#", "123#", "hangup"):
        assert field_shapes.KEYS.fits(keys), keys
    for keys in ("1Directioninbound", "hangupDirectioninbound", "a", "1 ", "+", "١", "Hangup"):
        assert not field_shapes.KEYS.fits(keys), keys


def test_recording_duration_is_a_whole_number_within_the_limit() -> None:
    def duration(raw: str) -> int:
        return field_shapes.recording(MultiDict({"RecordingDuration": raw}), 3600).duration

    assert [duration(raw) for raw in ("0", "7", "0007", "3600", "3601", "9" * 4000)] == \
        [0, 7, 7, 3600, 3600, 3600]
    assert field_shapes.recording(MultiDict(), 3600) == field_shapes.Recording(None, 0)
    for raw in ("-1", "7.5", "7RecordingSidRE" + HEX, " 7", "٧"):
        with pytest.raises(MalformedField, match="RecordingDuration must be a whole number"):
            duration(raw)


def test_a_recording_url_names_the_recording_and_account_the_request_names() -> None:
    sid = "RE" + HEX
    url = recording_url(sid)
    form = MultiDict({"RecordingUrl": url, "RecordingSid": sid, "AccountSid": ACCOUNT_SID,
                      "RecordingDuration": "9"})
    assert field_shapes.recording(form, 3600) == field_shapes.Recording(url, 9)
    for bad, message in [
        ({"RecordingUrl": url + "To+254700000001"}, "RecordingUrl must be https://"),
        ({"RecordingUrl": "http" + url.removeprefix("https")}, "RecordingUrl must be https://"),
        ({"RecordingUrl": "https://x" * 600}, "RecordingUrl must be https://"),
        ({"RecordingSid": "RE" + HEX[::-1]}, "must name the recording RecordingSid names"),
        ({"AccountSid": "AC" + HEX}, "must name the account AccountSid names"),
        ({"RecordingSid": sid + "RecordingUrl" + url}, "RecordingSid must be RE followed by"),
    ]:
        with pytest.raises(MalformedField, match=message):
            field_shapes.recording(MultiDict({**form, **bad}), 3600)


def test_twice_sent_ids_are_refused() -> None:
    sid = new_sid()
    with pytest.raises(MalformedField, match="MessageSid must be sent once, not 2 times"):
        field_shapes.message_sid(MultiDict([("MessageSid", sid), ("MessageSid", sid)]))


def test_the_call_parties_twice_sent_must_agree() -> None:
    form = {"From": KE, "Caller": KE, "To": LINE, "Called": LINE, "Direction": "inbound"}
    assert field_shapes.call_parties(MultiDict(form)) == \
        field_shapes.CallParties(KE, LINE, outbound=False)
    assert field_shapes.call_parties(MultiDict({"Caller": KE, "Called": LINE})) == \
        field_shapes.CallParties(KE, LINE, outbound=False)
    assert field_shapes.call_parties(MultiDict({**form, "Direction": "outbound-api"})).outbound
    for bad, message in [({"Caller": KE + "CallerCountryKE"}, "Caller must equal From"),
                         ({"Called": LINE + "CalledCountryKE"}, "Called must equal To"),
                         ({"Direction": "inboundFrom" + KE}, "Direction must be a lower-case")]:
        with pytest.raises(MalformedField, match=message):
            field_shapes.call_parties(MultiDict({**form, **bad}))


# --- every route ---------------------------------------------------------------------------


@pytest.mark.parametrize("sid", malformed("SM"))
def test_sms_refuses_a_malformed_message_sid(gateway: GatewayHarness, sid: str) -> None:
    refused(gateway, "/twilio/sms", {**sms_params(new_sid()), "MessageSid": sid}, MESSAGE_SHAPE)


@pytest.mark.parametrize("sid", malformed("CA"))
def test_voice_start_refuses_a_malformed_call_sid(gateway: GatewayHarness, sid: str) -> None:
    refused(gateway, "/twilio/voice", Call(gateway.client, sid=sid).params(), CALL_SHAPE)


@pytest.mark.parametrize("sid", malformed("CA"))
def test_voice_step_refuses_a_malformed_call_sid(gateway: GatewayHarness, sid: str) -> None:
    call = Call(gateway.client)
    menu = call.start()
    assert menu.gather is not None
    action = menu.gather.get("action", "").removeprefix("http://localhost")
    refused(gateway, action, Call(gateway.client, sid=sid).params(Digits="1"), CALL_SHAPE)
    assert call.press("1").prompt[0] == "What should the county fix first?"  # the call goes on


@pytest.mark.parametrize("sid", malformed("SM"))
def test_message_status_refuses_a_malformed_message_sid(gateway: GatewayHarness,
                                                        sid: str) -> None:
    refused(gateway, "/twilio/status", {"MessageSid": sid, "MessageStatus": "delivered",
                                        "AccountSid": ACCOUNT_SID}, MESSAGE_SHAPE)


@pytest.mark.parametrize("sid", malformed("CA"))
def test_call_status_refuses_a_malformed_call_sid(gateway: GatewayHarness, sid: str) -> None:
    Call(gateway.client, sid="CA" + HEX).start()  # the call the malformed ids mangle
    refused(gateway, "/twilio/status",
            Call(gateway.client, sid=sid).params(CallStatus="completed"), CALL_SHAPE)
    with gateway.services.store.engine.connect() as conn:
        assert conn.execute(select(schema.calls.c.status)).scalar_one() == "active"


@pytest.mark.parametrize("path", ["/twilio/sms", "/twilio/voice", "/twilio/voice/step?n=1&q=x",
                                  "/twilio/status"])
def test_every_route_refuses_a_malformed_account_sid(gateway: GatewayHarness, path: str) -> None:
    params = sms_params(new_sid()) if path == "/twilio/sms" else Call(gateway.client).params()
    params["AccountSid"] = ACCOUNT_SID + "ApiVersion2010-04-01"
    refused(gateway, path, params, "AccountSid must be AC followed by 32 lower-case hex digits")


@pytest.mark.parametrize("prefix", ["SM", "MM"])
def test_well_formed_ids_are_taken_on_every_route(gateway: GatewayHarness, prefix: str) -> None:
    sid = new_sid(prefix)
    assert gateway.client.post("/twilio/sms", sms_params(sid)).status_code == 200
    status = {"MessageSid": sid, "SmsSid": sid, "MessageStatus": "delivered",
              "SmsStatus": "delivered", "AccountSid": ACCOUNT_SID, "From": LINE, "To": KE}
    assert gateway.client.post("/twilio/status", status).status_code == 204
    call = Call(gateway.client, caller="+254722000111")
    call.start()
    call.press("1")
    call.hang_up()
    with gateway.services.store.engine.connect() as conn:
        inbound = conn.execute(select(schema.inbound.c.provider_id)).scalars().all()
        ended = conn.execute(select(schema.calls.c.status)).scalar_one()
    assert sorted(inbound) == sorted([sid, f"{call.sid}:0", f"{call.sid}:1"])
    assert ended == "ended"
