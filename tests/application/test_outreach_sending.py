"""Sending outreach through the real twilio client to a local stand-in for its REST API:
once per recipient, within window and hours, pause and cancel at the next batch, STOP
read again before each message, refusals by kind, and no second message after a sender
died between Twilio's acceptance and its record."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import Engine

from gateway.application.outreach_audience import resolve
from gateway.application.outreach_sending import MAX_SEND_ATTEMPTS, OutreachRun, retry_delay
from gateway.application.rate_limit import LocalRateLimiter
from gateway.application.services import open_local_store
from gateway.channels.twilio_messages import OutboundSender
from gateway.privacy import pseudonym
from gateway.settings import Settings
from gateway.store.audience import AudienceStore
from gateway.store.contacts import ContactStore
from gateway.store.outbound import STALE_CLAIM, OutboundStore, RowState
from gateway.sync.outreach_definition import parse_outreach
from tests.application.outreach_world import KEY, definition, participant, publish
from tests.twilio_outbound import Scripted, TwilioOutbound

PUBLIC = "https://gateway.example.org"
FROM = "+254700000001"


@pytest.fixture
def outreach_settings(settings: Settings) -> Settings:
    return settings.with_overrides(public_base_url=PUBLIC, twilio_from_number=FROM,
                                   twilio_account_sid="AC" + "2" * 32, outreach_batch_size=2)


@pytest.fixture
def engine(outreach_settings: Settings) -> Iterator[Engine]:
    engine = open_local_store(outreach_settings).engine
    yield engine
    engine.dispose()


def runner(engine: Engine, settings: Settings, sender: OutboundSender,
           clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> OutreachRun:
    return OutreachRun(engine, settings, sender, LocalRateLimiter({}), {}, clock=clock)


def people(engine: Engine, count: int) -> list[str]:
    phones = [f"+2547110000{n:02d}" for n in range(count)]
    for phone in phones:
        participant(engine, phone)
    return phones


def test_each_recipient_gets_one_message_tied_to_its_row(
    engine: Engine, outreach_settings: Settings, twilio_outbound: TwilioOutbound,
) -> None:
    phones = people(engine, 3)
    publish(engine, definition())
    run = runner(engine, outreach_settings, twilio_outbound.sender())
    assert run.run().sent == 3
    assert run.run().sent == 0  # nothing twice
    assert sorted(m["to"] for m in twilio_outbound.messages) == phones
    rows = OutboundStore(engine)
    for message in twilio_outbound.messages:
        url = urlsplit(message["status_callback"])
        assert f"{url.scheme}://{url.netloc}{url.path}" == f"{PUBLIC}/twilio/status/message"
        row = rows.row(int(parse_qs(url.query)["m"][0]))
        assert row is not None and row.phone == message["to"]
        assert (row.state, row.provider_sid) == ("sent", message["sid"])
    assert rows.counts("o-1")["sent"] == 3


@pytest.mark.parametrize("changes", [
    {"status": "draft"}, {"status": "paused"}, {"status": "cancelled"},
    {"hours": {"from": "00:00", "to": "00:00:01", "timezone": "UTC"}},
    {"starts_at": (datetime.now(UTC) + timedelta(hours=1)).isoformat()},
    {"ends_at": (datetime.now(UTC) - timedelta(minutes=1)).isoformat(),
     "starts_at": (datetime.now(UTC) - timedelta(days=2)).isoformat()},
], ids=["draft", "paused", "cancelled", "outside-hours", "before-window", "after-window"])
def test_nothing_is_sent_unless_started_within_its_window_and_hours(
    engine: Engine, outreach_settings: Settings, twilio_outbound: TwilioOutbound,
    changes: dict[str, Any],
) -> None:
    people(engine, 2)
    publish(engine, definition(**changes))
    assert runner(engine, outreach_settings, twilio_outbound.sender()).run().sent == 0
    assert twilio_outbound.posts == 0
    assert OutboundStore(engine).counts("o-1")["pending"] == 0


def test_hours_are_read_in_their_time_zone(engine: Engine) -> None:
    hours = {"from": "08:00", "to": "20:00", "timezone": "Africa/Nairobi"}  # UTC+3
    found = parse_outreach(definition(hours=hours))
    day = datetime(2026, 12, 3, tzinfo=UTC)
    assert found.hours.contains(day.replace(hour=5))  # 08:00 in Nairobi
    assert not found.hours.contains(day.replace(hour=4, minute=59))
    assert found.hours.contains(day.replace(hour=16, minute=59))
    assert not found.hours.contains(day.replace(hour=17))  # 20:00 in Nairobi


class AfterSends:
    """Wraps a sender; runs `then` after the n-th message Twilio accepted."""

    def __init__(self, inner: OutboundSender, n: int, then: Callable[[], None]) -> None:
        self.inner, self.n, self.then, self.count = inner, n, then, 0

    def send_sms(self, **kwargs: Any) -> str:
        sid = self.inner.send_sms(**kwargs)
        self.count += 1
        if self.count == self.n:
            self.then()
        return sid

    def place_call(self, **kwargs: Any) -> str:
        return self.inner.place_call(**kwargs)

    def accepted_since(self, **kwargs: Any) -> str | None:
        return self.inner.accepted_since(**kwargs)


@pytest.mark.parametrize("status", ["paused", "cancelled"])
def test_pause_and_cancel_take_effect_at_the_next_batch(
    engine: Engine, outreach_settings: Settings, twilio_outbound: TwilioOutbound, status: str,
) -> None:
    people(engine, 6)
    publish(engine, definition())
    sender = AfterSends(twilio_outbound.sender(), 1,
                        lambda: publish(engine, definition(status=status, version=2)))
    report = runner(engine, outreach_settings, sender).run()
    assert report.sent == 2  # the batch in hand (OUTREACH_BATCH_SIZE=2), no more
    assert len(twilio_outbound.messages) == 2
    assert OutboundStore(engine).counts("o-1")["pending"] == 4
    publish(engine, definition(version=3))  # started again
    assert runner(engine, outreach_settings, twilio_outbound.sender()).run().sent == 4


def test_a_stop_received_mid_run_stops_the_next_message(
    engine: Engine, outreach_settings: Settings, twilio_outbound: TwilioOutbound,
) -> None:
    phones = people(engine, 2)
    publish(engine, definition())
    stopping = AudienceStore(engine)

    stopped: list[str] = []

    def stop_the_other() -> None:  # as incoming_sms commits STOP: participants.opted_out
        [other] = [p for p in phones if p != twilio_outbound.messages[0]["to"]]
        stopping.opt_out(pseudonym(KEY, other), other, datetime.now(UTC))
        stopped.append(other)

    report = runner(engine, outreach_settings,
                    AfterSends(twilio_outbound.sender(), 1, stop_the_other)).run()
    assert (report.sent, report.excluded) == (1, 1)
    assert twilio_outbound.bodies_to(stopped[0]) == []
    assert OutboundStore(engine).counts("o-1")["excluded"] == 1


def test_21610_marks_the_number_opted_out_and_21211_marks_it_invalid(
    engine: Engine, outreach_settings: Settings, twilio_outbound: TwilioOutbound,
) -> None:
    phones = people(engine, 3)
    twilio_outbound.refuse = {phones[0]: 21610, phones[1]: 21211}
    publish(engine, definition())
    report = runner(engine, outreach_settings, twilio_outbound.sender()).run()
    assert (report.sent, report.failed) == (1, 2)
    assert ContactStore(engine).suppressions() == {phones[1]: "invalid_number"}
    assert AudienceStore(engine).opted_out(pseudonym(KEY, phones[0]))
    second = resolve(parse_outreach(definition(id="o-2")), engine, {})
    assert [r.phone for r in second.recipients] == [phones[2]]
    assert (second.excluded["opted_out"], second.excluded["invalid_number"]) == (1, 1)


def test_429_waits_as_long_as_retry_after_says_then_sends(
    engine: Engine, outreach_settings: Settings, twilio_outbound: TwilioOutbound,
) -> None:
    [phone] = people(engine, 1)
    publish(engine, definition())
    twilio_outbound.script.append(Scripted(429, 20429, retry_after="120"))
    now = datetime.now(UTC)
    clock = [now]
    run = runner(engine, outreach_settings, twilio_outbound.sender(), lambda: clock[0])
    assert run.run().retrying == 1
    clock[0] = now + timedelta(seconds=119)
    assert run.run().sent == 0  # not before Retry-After
    clock[0] = now + timedelta(seconds=121)
    assert run.run().sent == 1
    assert twilio_outbound.bodies_to(phone) == [definition()["texts"]["en"]]


def test_server_errors_back_off_and_give_up_after_the_last_attempt(
    engine: Engine, outreach_settings: Settings, twilio_outbound: TwilioOutbound,
) -> None:
    people(engine, 1)
    publish(engine, definition())
    twilio_outbound.script.extend(Scripted(500) for _ in range(MAX_SEND_ATTEMPTS))
    clock = [datetime.now(UTC)]
    run = runner(engine, outreach_settings, twilio_outbound.sender(), lambda: clock[0])
    for _ in range(MAX_SEND_ATTEMPTS):
        run.run()
        clock[0] += timedelta(seconds=retry_delay(MAX_SEND_ATTEMPTS, None) + 1)
    assert OutboundStore(engine).counts("o-1")["failed"] == 1
    assert twilio_outbound.messages == []
    assert retry_delay(1, None) < retry_delay(3, None) <= retry_delay(1, 600.0) == 600.0


class Killed(BaseException):
    """The worker's SIGKILL, as far as the code running is concerned."""


class DiesAfterTwilioAccepts:
    def __init__(self, inner: OutboundSender) -> None:
        self.inner = inner

    def send_sms(self, **kwargs: Any) -> str:
        self.inner.send_sms(**kwargs)
        raise Killed  # before the row could record the sid


class DiesBeforeTheRequest:
    def send_sms(self, **kwargs: Any) -> str:
        raise Killed


@pytest.mark.parametrize("dying", ["after-accept", "before-request"])
def test_a_sender_killed_mid_send_never_causes_a_second_message(
    engine: Engine, outreach_settings: Settings, twilio_outbound: TwilioOutbound, dying: str,
) -> None:
    [phone] = people(engine, 1)
    publish(engine, definition())
    sender = twilio_outbound.sender()
    dead = DiesAfterTwilioAccepts(sender) if dying == "after-accept" else DiesBeforeTheRequest()
    with pytest.raises(Killed):
        runner(engine, outreach_settings, dead).run()  # type: ignore[arg-type]
    rows = OutboundStore(engine)
    assert rows.counts("o-1")["sending"] == 1
    soon = datetime.now(UTC) + timedelta(seconds=30)
    assert runner(engine, outreach_settings, sender, lambda: soon).run().sent == 0  # alive?
    later = datetime.now(UTC) + STALE_CLAIM + timedelta(seconds=1)
    report = runner(engine, outreach_settings, sender, lambda: later).run()
    assert len(twilio_outbound.bodies_to(phone)) == 1
    [row] = [rows.row(1)]
    assert row is not None and row.state == "sent"
    assert row.provider_sid == twilio_outbound.messages[0]["sid"]
    assert (report.reconciled, report.sent) == ((1, 0) if dying == "after-accept" else (0, 1))


def test_calls_open_the_consultation_and_respect_the_concurrent_cap(
    engine: Engine, outreach_settings: Settings, twilio_outbound: TwilioOutbound,
) -> None:
    people(engine, 5)
    publish(engine, definition(channels=["voice"]))
    settings = outreach_settings.with_overrides(max_concurrent_calls=2, outreach_amd=True)
    report = runner(engine, settings, twilio_outbound.sender()).run()
    assert (report.sent, report.more) == (2, True)
    for call in twilio_outbound.calls:
        url = urlsplit(call["url"])
        assert url.path == "/twilio/voice"
        row_id = parse_qs(url.query)["o"][0]
        assert parse_qs(url.query)["c"] == ["water-test"]
        assert call["status_callback"] == f"{PUBLIC}/twilio/status/call?o={row_id}"
        assert call["machine_detection"] == "Enable"


def test_a_call_that_ends_frees_its_place_within_the_same_pass(
    engine: Engine, outreach_settings: Settings, twilio_outbound: TwilioOutbound,
) -> None:
    people(engine, 3)
    publish(engine, definition(channels=["voice"]))
    settings = outreach_settings.with_overrides(max_concurrent_calls=2)
    rows = OutboundStore(engine)

    def first_call_ends() -> None:
        deadline = time.monotonic() + 10
        while len(twilio_outbound.calls) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        first = int(parse_qs(urlsplit(twilio_outbound.calls[0]["url"]).query)["o"][0])
        rows.provider_status(first, RowState.DELIVERED, None, None, datetime.now(UTC))

    hang_up = threading.Thread(target=first_call_ends)
    hang_up.start()
    report = runner(engine, settings, twilio_outbound.sender()).run()
    hang_up.join(10)
    assert report.sent == 3  # the third went out in this pass, once the first call ended
    assert len(twilio_outbound.calls) == 3


def test_after_a_429_the_rest_of_the_batch_waits_instead_of_hammering(
    engine: Engine, outreach_settings: Settings, twilio_outbound: TwilioOutbound,
) -> None:
    people(engine, 3)
    publish(engine, definition())
    twilio_outbound.script.append(Scripted(429, 20429, retry_after="60"))
    now = datetime.now(UTC)
    clock = [now]
    run = runner(engine, outreach_settings, twilio_outbound.sender(), lambda: clock[0])
    report = run.run()
    assert (report.sent, report.retrying, twilio_outbound.posts) == (0, 1, 1)
    assert OutboundStore(engine).counts("o-1")["pending"] == 3
    clock[0] = now + timedelta(seconds=61)
    assert run.run().sent == 3
    assert twilio_outbound.posts == 4
