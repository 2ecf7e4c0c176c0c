"""POST /twilio/sms end to end: signed webhooks, real SQLite, parsed TwiML."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from gateway.store import schema
from tests.conftest import GatewayHarness, make_harness
from tests.stored import answers, events
from tests.twilio_signing import new_sid

KE = "+254712345678"


def test_whole_conversation_in_english(gateway: GatewayHarness) -> None:
    sms = gateway.client.sms
    first = sms(KE, "WATER").reply
    assert first.startswith("Water services: 5 short questions.")
    assert "What should the county fix first? 1 Water points 2 Roads 3 Clinics 4 Schools" in first
    assert "Do you have enough water at home?" in sms(KE, "1").reply
    satisfaction = "How satisfied are you with water services? Reply a number from 1 to 5."
    assert sms(KE, "yes").reply == satisfaction
    assert "Any other comment?" in sms(KE, "4").reply
    assert "Your age?" in sms(KE, "The tap runs dry every Friday").reply
    assert sms(KE, "2").reply == "Thank you for your voice."
    assert answers(gateway) == {
        "priority": ("answered", "water"),
        "enough": ("answered", "yes"),
        "satisfaction": ("answered", "4"),
        "comment": ("answered", "The tap runs dry every Friday"),
        "age_band": ("answered", "18_34"),
    }
    rows = events(gateway)
    assert {r["channel"] for r in rows} == {"sms"}
    assert {r["language"] for r in rows} == {"en"}
    assert all(r["synced_at"] is None for r in rows)
    assert len({r["event_id"] for r in rows}) == 5
    assert gateway.trigger.calls == 5


def test_whole_conversation_in_swahili_with_words(gateway: GatewayHarness) -> None:
    sms = gateway.client.sms
    sms(KE, "maji")
    assert sms(KE, "LANG sw").reply.startswith("Lugha imewekwa Kiswahili. Kaunti irekebishe")
    assert "Je, una maji ya kutosha" in sms(KE, "barabara").reply
    assert "Umeridhika" in sms(KE, "hapana").reply
    assert "Maoni mengine?" in sms(KE, "٣").reply  # Arabic-Indic three
    assert "Umri wako?" in sms(KE, "RUKA").reply
    assert sms(KE, "SKIP").reply == "Asante kwa sauti yako."
    assert answers(gateway) == {
        "priority": ("answered", "roads"),
        "enough": ("answered", "no"),
        "satisfaction": ("answered", "3"),
        "comment": ("skipped", None),
        "age_band": ("skipped", None),
    }
    assert {e["language"] for e in events(gateway)} == {"sw"}


def test_invalid_answers_get_hint_then_recorded_unparsed(gateway: GatewayHarness) -> None:
    sms = gateway.client.sms
    sms(KE, "WATER")
    assert sms(KE, "7").reply == "Sorry, that is not a valid answer. Reply 1 to 4."
    assert sms(KE, "banana").reply == "Sorry, that is not a valid answer. Reply 1 to 4."
    third = sms(KE, "seven").reply
    assert third.startswith("We could not read that answer. Next question:")
    assert "Do you have enough water at home?" in third
    assert answers(gateway) == {"priority": ("unparsed", None)}
    assert events(gateway)[0]["raw"] == "seven"


def test_skip_refused_on_required_question(gateway: GatewayHarness) -> None:
    gateway.client.sms(KE, "WATER")
    reply = gateway.client.sms(KE, "SKIP").reply
    assert reply == "Sorry, that is not a valid answer. Reply 1 to 4."
    assert events(gateway) == []


@pytest.mark.parametrize("word", ["STOP", "stop", "Stop!", "UNSUBSCRIBE", "cancel", "END",
                                  "QUIT", "REVOKE", "OPTOUT", "STOPALL"])
def test_opt_out_words_silence_the_number(gateway: GatewayHarness, word: str) -> None:
    sms = gateway.client.sms
    sms(KE, "WATER")
    assert sms(KE, word).reply.startswith("You will get no more messages.")
    assert sms(KE, "1").replies == []
    assert sms(KE, "WATER").replies == []
    assert sms(KE, "HELP").replies == []
    # Only how they left the question they were on: reached, nothing given.
    assert [(e["question_id"], e["status"]) for e in events(gateway)] == [("priority", "no_answer")]


@pytest.mark.parametrize("word", ["START", "UNSTOP", "yes"])
def test_opt_in_words_restore_messages(gateway: GatewayHarness, word: str) -> None:
    sms = gateway.client.sms
    sms(KE, "WATER")
    sms(KE, "STOP")
    assert sms(KE, word).reply == (
        "Welcome back to Water services: we continue where you stopped, at question 1 of 5. "
        "What should the county fix first? 1 Water points 2 Roads 3 Clinics 4 Schools"
    )
    assert "Do you have enough water" in sms(KE, "1").reply


def test_yes_is_an_answer_when_not_opted_out(gateway: GatewayHarness) -> None:
    sms = gateway.client.sms
    sms(KE, "WATER")
    sms(KE, "1")
    assert "How satisfied" in sms(KE, "YES").reply
    assert answers(gateway)["enough"] == ("answered", "yes")


@pytest.mark.parametrize("word", ["HELP", "info", "Help?"])
def test_help_is_never_an_answer(gateway: GatewayHarness, word: str) -> None:
    gateway.client.sms(KE, "WATER")
    assert gateway.client.sms(KE, word).reply.startswith("Water services: reply with the number")
    assert events(gateway) == []


def test_help_without_consultation_lists_keywords(gateway: GatewayHarness) -> None:
    assert gateway.client.sms(KE, "HELP").reply == "To take part, text one of: WATER"


def test_join_keyword_and_resume(gateway: GatewayHarness) -> None:
    sms = gateway.client.sms
    assert sms(KE, "JOIN water").reply.startswith("Water services: 5 short questions.")
    sms(KE, "1")
    resumed = sms(KE, "WATER").reply
    assert resumed.startswith("Welcome back to Water services: we continue where you stopped, "
                              "at question 2 of 5. Do you have enough water at home?")


def test_unknown_join_and_free_text_without_session(gateway: GatewayHarness) -> None:
    assert gateway.client.sms(KE, "JOIN PARKS").reply == "To take part, text one of: WATER"
    assert gateway.client.sms(KE, "hello").reply == "To take part, text one of: WATER"


def test_closed_consultation(gateway: GatewayHarness) -> None:
    reply = gateway.client.sms(KE, "ROADS").reply
    assert reply == "Roads survey is closed. Thank you for your interest."


def test_unknown_language(gateway: GatewayHarness) -> None:
    gateway.client.sms(KE, "WATER")
    reply = gateway.client.sms(KE, "LANG klingon").reply
    assert reply == "Unknown language. Reply LANG with one of: en, sw"


@pytest.mark.parametrize(
    "number",
    ["+254712345678", "+14155550123", "+447700900123", "+919812345678", "+2348031234567",
     "+61412345678"],
)
def test_numbers_from_several_countries(gateway: GatewayHarness, number: str) -> None:
    assert gateway.client.sms(number, "WATER").reply.startswith("Water services")
    gateway.client.sms(number, "1")
    with gateway.services.store.engine.connect() as conn:
        phone = conn.execute(select(schema.participants.c.phone)).scalar_one()
        pseudonym = conn.execute(select(schema.events.c.pseudonym)).scalar_one()
    assert phone == number
    assert number not in pseudonym and len(pseudonym) == 64
    assert events(gateway)[0]["region"]


@pytest.mark.parametrize("sender", ["12345", "CivicBank", "", "+1", "+999123"])
def test_non_phone_senders_get_no_reply(gateway: GatewayHarness, sender: str) -> None:
    params = {"MessageSid": new_sid(), "From": sender or "x", "To": "+254700000001",
              "Body": "WATER"}
    response = gateway.client.post("/twilio/sms", params)
    assert response.status_code == 200
    assert b"<Message" not in response.data
    with gateway.services.store.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(schema.participants)).scalar() == 0


def test_bad_signature_is_403_and_records_nothing(gateway: GatewayHarness) -> None:
    params = {"MessageSid": new_sid(), "From": KE, "To": "+254700000001", "Body": "WATER"}
    assert gateway.client.post("/twilio/sms", params, signature="bm90IGl0").status_code == 403
    assert gateway.client.post("/twilio/sms", params, signature="").status_code == 403
    tampered = dict(params, Body="STOP")
    good = gateway.client.signature("/twilio/sms", params)
    assert gateway.client.post("/twilio/sms", tampered, signature=good).status_code == 403
    with gateway.services.store.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(schema.inbound)).scalar() == 0


def test_signature_checked_against_public_url(settings) -> None:
    gateway = make_harness(settings.with_overrides(public_base_url="https://sms.example.org"))
    params = {"MessageSid": new_sid(), "From": KE, "To": "+254700000001", "Body": "WATER"}
    local = gateway.client.signature("/twilio/sms", params)
    assert gateway.client.post("/twilio/sms", params, signature=local).status_code == 403
    public = gateway.client.validator.compute_signature(
        "https://sms.example.org/twilio/sms", params
    )
    assert gateway.client.post("/twilio/sms", params, signature=public).status_code == 200


@pytest.mark.parametrize("missing", ["MessageSid", "From"])
def test_missing_fields_are_400(gateway: GatewayHarness, missing: str) -> None:
    params = {"MessageSid": new_sid(), "From": KE, "To": "+254700000001", "Body": "WATER"}
    del params[missing]
    response = gateway.client.post("/twilio/sms", params)
    assert response.status_code == 400
    assert f"missing required field {missing}" in response.get_data(as_text=True)


@pytest.mark.parametrize(("fields", "message"), [
    ({"SmsSid": "other"}, "SmsSid must equal MessageSid"),
    ({"SmsMessageSid": "other"}, "SmsMessageSid must equal MessageSid"),
    ({"SmsSid": "SM" + "f" * 32 + "SmsStatusreceived"}, "SmsSid must be SM or MM followed by"),
    ({"SmsMessageSid": "MM" + "0" * 31}, "SmsMessageSid must be SM or MM followed by"),
])
def test_the_message_id_under_its_other_names_must_agree(
    gateway: GatewayHarness, fields: dict[str, str], message: str
) -> None:
    sid = new_sid()
    other = new_sid()
    params = {"MessageSid": sid, "SmsSid": sid, "SmsMessageSid": sid, "From": KE,
              "To": "+254700000001", "Body": "STOP"}
    params.update({name: other if value == "other" else value for name, value in fields.items()})
    response = gateway.client.post("/twilio/sms", params)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    with gateway.services.store.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(schema.inbound)).scalar() == 0
        assert conn.execute(select(func.count()).select_from(schema.participants)).scalar() == 0


def test_a_message_id_sent_twice_is_refused(gateway: GatewayHarness) -> None:
    sid = new_sid()
    params = {"MessageSid": [sid, sid], "From": KE, "To": "+254700000001", "Body": "STOP"}
    response = gateway.client.post("/twilio/sms", params)
    assert response.status_code == 400
    assert "MessageSid must be sent once, not 2 times" in response.get_data(as_text=True)


def test_the_message_id_alone_is_enough(gateway: GatewayHarness) -> None:
    """SmsSid and SmsMessageSid are checked where sent, not required."""
    params = {"MessageSid": new_sid("MM"), "From": KE, "To": "+254700000001", "Body": "WATER"}
    response = gateway.client.post("/twilio/sms", params)
    assert response.status_code == 200
    assert b"Water services" in response.data


def test_missing_body_is_an_empty_message(gateway: GatewayHarness) -> None:
    params = {"MessageSid": new_sid(), "From": KE, "To": "+254700000001"}
    response = gateway.client.post("/twilio/sms", params)
    assert response.status_code == 200
    assert b"To take part, text one of: WATER" in response.data


def test_empty_and_huge_bodies(gateway: GatewayHarness) -> None:
    sms = gateway.client.sms
    sms(KE, "WATER")
    assert sms(KE, "").reply.endswith("Reply 1 to 4.")
    assert sms(KE, "   ").reply.endswith("Reply 1 to 4.")
    huge = "x" * 10_000
    assert sms(KE, huge).reply.startswith("We could not read that answer.")
    stored = events(gateway)[0]
    # Kept as long as the central store accepts (longer, it would refuse the event).
    assert stored["status"] == "unparsed" and stored["raw"] == huge[:4096]


def test_text_answers_keep_emoji_and_are_capped(gateway: GatewayHarness) -> None:
    sms = gateway.client.sms
    for body in ("WATER", "1", "yes", "3"):
        sms(KE, body)
    sms(KE, "Maji safi 💧 " + "a" * 400)
    comment = answers(gateway)["comment"]
    assert comment[0] == "answered"
    assert comment[1].startswith("Maji safi 💧 ") and len(comment[1]) == 160


def test_body_over_limit_is_refused_early(settings) -> None:
    gateway = make_harness(settings.with_overrides(max_body_bytes=2048))
    params = {"MessageSid": new_sid(), "From": KE, "To": "+254700000001", "Body": "x" * 4096}
    assert gateway.client.post("/twilio/sms", params).status_code == 413


def test_the_keyword_mid_consultation_resends_the_current_question(
    gateway: GatewayHarness,
) -> None:
    sms = gateway.client.sms
    sms(KE, "WATER")
    # No keyword is also an answer (flows check refuses it): "water" answers nothing.
    assert sms(KE, "water").reply.endswith(
        "at question 1 of 5. What should the county fix first? 1 Water points 2 Roads 3 Clinics "
        "4 Schools"
    )
    assert answers(gateway) == {}
    assert "Do you have enough water" in sms(KE, "tap").reply
    assert "Do you have enough water at home?" in sms(KE, "WATER").reply
    assert answers(gateway) == {"priority": ("answered", "water")}
