"""Apply one inbound SMS: load state, run the SMS conversation, commit, then wake the sync.

The reply is held back past the reply cap (gateway/application/rules.py), except the
confirmations of STOP, START and HELP; the answer is recorded all the same. The outcome
says why a reply was held back (the simulator shows it)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from gateway.application import rules
from gateway.application.regions import region_for
from gateway.application.services import Services
from gateway.consultation.sms_conversation import Conversation, advance
from gateway.privacy import mask_number, pseudonym
from gateway.store.participants import InboundRecord

log = logging.getLogger(__name__)


OPTED_OUT = "this number has opted out (STOP); START opts in again"


@dataclass(frozen=True)
class InboundSms:
    message_sid: str
    sender: str  # E.164
    body: str


@dataclass(frozen=True)
class SmsOutcome:
    reply: str | None  # the reply to send, None for none
    held_back: str | None = None  # why there is no reply, when one was held back


def handle_sms(services: Services, sms: InboundSms, now: datetime | None = None) -> str | None:
    """The reply to send (None for none). Effects are committed before this returns."""
    return receive_sms(services, sms, now).reply


def receive_sms(services: Services, sms: InboundSms, now: datetime | None = None) -> SmsOutcome:
    """The reply, and why none was sent if one was held back; effects committed first."""
    now = now or datetime.now(UTC)
    settings = services.settings
    who = pseudonym(settings.pseudonym_key, sms.sender)
    # Before the transaction: a catalog refresh reads the store, and a second connection
    # inside this one's write lock would wait for it (and the request with it). The
    # region too: a number's first lookup can load the geocoder's data (about 0.3 s), and
    # every other webhook would wait for it behind the lock.
    catalog = services.catalog.current()
    region = region_for(sms.sender, services.region_prefixes)
    with services.store.participant(
        who, sms.sender, now, sms.message_sid, replies_since=rules.replies_counted_since(now)
    ) as tx:
        seen, reply = tx.previous_reply()
        if seen:
            log.info("sms %s is a retry; replaying the reply", sms.message_sid)
            return SmsOutcome(reply)
        conversation = Conversation(
            catalog=catalog,
            participant=tx.state(),
            sessions=tx.sessions(),
            now=now,
            max_invalid_tries=settings.max_invalid_tries,
        )
        step = advance(conversation, sms.body)
        reply, held_back = step.reply, None
        if reply is None and step.participant.opted_out:
            held_back = OPTED_OUT
        elif reply is not None and not rules.may_reply(
            tx.sms_replies, settings, confirmation=step.confirmation
        ):
            log.warning("reply cap reached for %s; answer kept, no reply", mask_number(sms.sender))
            reply, held_back = None, rules.reply_cap_reason(tx.sms_replies, settings)
        recorded = tx.apply(step, InboundRecord(sms.message_sid, "sms", now, reply), region)
    if recorded:
        services.trigger.notify()
    return SmsOutcome(reply, held_back)
