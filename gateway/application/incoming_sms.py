"""Apply one inbound SMS: load state, run the SMS conversation, commit, then wake the sync.

The reply is held back past the reply cap (gateway/application/rules.py); the answer is
recorded all the same."""

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


@dataclass(frozen=True)
class InboundSms:
    message_sid: str
    sender: str  # E.164
    body: str


def handle_sms(services: Services, sms: InboundSms, now: datetime | None = None) -> str | None:
    """The reply to send (None for none). Effects are committed before this returns."""
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
            return reply
        conversation = Conversation(
            catalog=catalog,
            participant=tx.state(),
            sessions=tx.sessions(),
            now=now,
            max_invalid_tries=settings.max_invalid_tries,
        )
        step = advance(conversation, sms.body)
        reply = step.reply
        if reply is not None and not rules.may_reply(tx.sms_replies, settings):
            log.warning("reply cap reached for %s; answer kept, no reply", mask_number(sms.sender))
            reply = None
        recorded = tx.apply(step, InboundRecord(sms.message_sid, "sms", now, reply), region)
    if recorded:
        services.trigger.notify()
    return reply
