"""One inbound SMS applied: a retried webhook replays its reply and records nothing twice,
replies past the cap are held back while the answer is kept, and messages from one
number arriving together are applied in turn."""

from __future__ import annotations

import threading

from gateway.application.incoming_sms import InboundSms, receive_sms
from tests.channels.voice_calls import Call
from tests.conftest import GatewayHarness, make_harness
from tests.stored import answers, events
from tests.twilio_signing import new_sid

KE = "+254712345678"


def test_retried_webhook_gets_same_reply_and_records_once(gateway: GatewayHarness) -> None:
    gateway.client.sms(KE, "WATER")
    sid = new_sid()
    first = gateway.client.sms(KE, "2", sid=sid)
    again = gateway.client.sms(KE, "2", sid=sid)
    assert again.replies == first.replies
    assert answers(gateway) == {"priority": ("answered", "roads")}
    # The retry did not move the participant on either.
    assert "How satisfied" in gateway.client.sms(KE, "yes").reply


def test_reply_cap_per_hour(settings) -> None:
    gateway = make_harness(settings.with_overrides(replies_per_hour=3))
    sms = gateway.client.sms
    assert sms(KE, "WATER").replies
    assert sms(KE, "1").replies
    assert sms(KE, "yes").replies
    assert sms(KE, "5").replies == []  # capped, but the answer is kept
    assert answers(gateway)["satisfaction"] == ("answered", "5")


def test_concurrent_messages_from_one_number_are_applied_in_turn(settings) -> None:
    gateway = make_harness(settings)
    gateway.client.sms(KE, "WATER")
    # Two answers at once: whichever lands first answers "priority", the other "enough".
    barrier = threading.Barrier(2)
    results: list[object] = []

    def send(body: str) -> None:
        client = make_client(gateway)
        barrier.wait()
        results.append(client.sms(KE, body))

    threads = [threading.Thread(target=send, args=(b,)) for b in ("2", "1")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    got = answers(gateway)
    assert set(got) == {"priority", "enough"}
    assert got["priority"][0] == "answered"
    assert len(events(gateway)) == 2


def make_client(gateway: GatewayHarness):
    from flask import Flask

    from tests.twilio_signing import TwilioClient

    app: Flask = gateway.client.client.application
    return TwilioClient(app.test_client(), gateway.client.validator.token.decode())


def test_opt_out_opt_in_and_help_confirmations_pass_the_reply_cap(settings) -> None:
    gateway = make_harness(settings.with_overrides(replies_per_hour=2))
    sms = gateway.client.sms
    sms(KE, "WATER")
    sms(KE, "1")
    assert sms(KE, "yes").replies == []  # the cap holds back an ordinary reply
    assert sms(KE, "HELP").reply.startswith("Water services: reply with the number")
    assert sms(KE, "STOP").reply == "You will get no more messages. Reply START to join again."
    assert sms(KE, "START").reply.startswith("Welcome back to Water services")
    assert sms(KE, "4").replies == []  # and still holds back the rest
    assert answers(gateway)["satisfaction"] == ("answered", "4")


def test_the_outcome_says_why_a_reply_was_held_back(settings) -> None:
    gateway = make_harness(settings.with_overrides(replies_per_hour=1))
    services = gateway.services
    assert receive_sms(services, InboundSms(new_sid(), KE, "WATER")).held_back is None
    capped = receive_sms(services, InboundSms(new_sid(), KE, "1"))
    assert capped.reply is None
    assert capped.held_back == (
        "reply cap: this number was sent 1 reply in the last hour (REPLIES_PER_HOUR=1)"
    )
    receive_sms(services, InboundSms(new_sid(), KE, "STOP"))
    silent = receive_sms(services, InboundSms(new_sid(), KE, "yes please"))
    assert silent.reply is None
    assert silent.held_back == "this number has opted out (STOP); START opts in again"


def test_stop_on_a_pending_question_leaves_it_as_no_answer(gateway: GatewayHarness) -> None:
    """Reached the question, gave nothing: as a caller's silence is counted."""
    sms = gateway.client.sms
    sms(KE, "WATER")
    sms(KE, "2")
    sms(KE, "STOP")
    assert answers(gateway) == {"priority": ("answered", "roads"), "enough": ("no_answer", None)}
    [left] = [e for e in events(gateway) if e["question_id"] == "enough"]
    assert (left["channel"], left["raw"]) == ("sms", "STOP")
    # START asks the question again, and an answer then replaces the no_answer.
    sms(KE, "START")
    sms(KE, "yes")
    assert answers(gateway)["enough"] == ("answered", "yes")


def test_stop_leaves_an_earlier_answer_to_the_pending_question_alone(
    gateway: GatewayHarness,
) -> None:
    sms = gateway.client.sms
    for body in ("WATER", "2", "yes", "4", "SKIP", "1", "WATER"):  # done, then starts again
        sms(KE, body)
    before = len(events(gateway))
    sms(KE, "STOP")  # on "priority" again, which they answered the first time
    assert len(events(gateway)) == before
    assert answers(gateway)["priority"] == ("answered", "roads")


def test_stop_with_nothing_pending_records_nothing(gateway: GatewayHarness) -> None:
    gateway.client.sms(KE, "STOP")
    assert events(gateway) == []


def test_texts_continue_where_the_participants_call_stopped(gateway: GatewayHarness) -> None:
    call = Call(gateway.client)
    call.start()
    call.press("2")  # Kiswahili
    call.press("2")
    call.press("1")
    call.hang_up()
    reply = gateway.client.sms(KE, "MAJI").reply
    assert reply == (
        "Karibu tena kwenye Huduma za maji: tunaendelea ulipoishia, swali la 3 kati ya 5. "
        "Umeridhika kiasi gani na huduma za maji? Jibu namba kutoka 1 hadi 5."
    )
    gateway.client.sms(KE, "4")
    assert answers(gateway)["satisfaction"] == ("answered", "4")


def test_a_text_after_a_call_moved_on_is_not_taken_for_another_question(
    gateway: GatewayHarness,
) -> None:
    """Texting "yes" to question 2 after a call answered it and question 3: the reply
    says where they are now and asks it; the "yes" answers nothing."""
    sms = gateway.client.sms
    sms(KE, "WATER")
    sms(KE, "2")
    call = Call(gateway.client)
    call.start()
    call.press("1")
    call.press("1")  # enough: yes
    call.press("4")  # satisfaction: 4
    call.hang_up()
    before = len(events(gateway))
    reply = sms(KE, "no").reply
    assert reply == (
        "Welcome back to Water services: we continue where you stopped, at question 4 of 5. "
        "Any other comment? Please reply with a few words. Reply SKIP to skip."
    )
    assert len(events(gateway)) == before
    sms(KE, "Fix the borehole")
    assert answers(gateway)["comment"] == ("answered", "Fix the borehole")
