"""Apply one voice webhook: load the call, run the voice flow, commit, then wake jobs.

Like incoming_sms.py for SMS: one participant transaction per webhook, holding the call state,
the response events (channel "voice") and the inbound log row `CallSid:step` with the
TwiML sent, so a retried action webhook gets the same TwiML and records nothing twice.
A call moves the participant's session too, the one their texts use: a call resumes where
their texts stopped, and their next text continues where the call stopped.
A missed call on a consultation that offers it requests a call-back, within the quota
of gateway/application/rules.py, which also says how long a dropped call may resume.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from gateway.application import rules
from gateway.application.regions import region_for
from gateway.application.services import Services
from gateway.consultation.model import Catalog
from gateway.consultation.sms_conversation import SessionState
from gateway.consultation.voice_call import (
    CallContext,
    CallInput,
    CallState,
    Collect,
    VoiceStep,
    current_target,
)
from gateway.consultation.voice_conversation import advance_call, repeat_current, start_call
from gateway.privacy import mask_number, pseudonym
from gateway.store.calls import CallStatus, CallsTx, StoredCall
from gateway.store.participants import InboundRecord, ParticipantTx

log = logging.getLogger(__name__)

Render = Callable[[VoiceStep], str]  # the channel's TwiML for a step


@dataclass(frozen=True)
class CallStart:
    call_sid: str
    caller: str  # the participant, E.164 (To on an outbound call-back, else From)
    consultation_id: str | None  # by the number called, or the call-back's
    inbound: bool  # False for our own call-backs
    callback_id: int | None = None


def start_key(call_sid: str) -> str:
    return f"{call_sid}:0"


def step_key(call_sid: str, token: int) -> str:
    return f"{call_sid}:{token}"


def handle_call_start(
    services: Services, call: CallStart, render: Render, now: datetime | None = None
) -> str:
    """The TwiML for an incoming (or call-back) call; its effects are committed first."""
    now = now or datetime.now(UTC)
    settings = services.settings
    who = pseudonym(settings.pseudonym_key, call.caller)
    callback_requested = False
    catalog = services.catalog.current()  # before the transaction: see incoming_sms.handle_sms
    region = region_for(call.caller, services.region_prefixes)  # likewise
    with services.store.participant(who, call.caller, now, start_key(call.call_sid)) as tx:
        seen, reply = tx.previous_reply()
        if seen:
            log.info("call %s: start retried; replaying the reply", call.call_sid)
            return reply or ""
        calls = CallsTx(tx)
        ctx = _context(services, catalog, tx, calls, call.call_sid, now)
        step = start_call(ctx, call.consultation_id, inbound=call.inbound)
        if step.callback and step.state.consultation_id is not None:
            callback_requested = _request_callback(
                services, calls, call.caller, step.state.consultation_id, now
            )
        if call.callback_id is not None:
            calls.callback_answered(call.callback_id, call.call_sid, now)
        reply = render(step)
        _share_session(tx, catalog, step, now)
        _commit(tx, calls, call.call_sid, None, step, start_key(call.call_sid), reply, now,
                region)
    if step.recorded:
        services.trigger.notify()
    if callback_requested and services.callbacks is not None:
        services.callbacks.notify()
    return reply


def handle_call_step(
    services: Services,
    call_sid: str,
    caller: str,
    token: int,
    target: str,
    given: CallInput,
    render: Render,
    now: datetime | None = None,
) -> str:
    """The TwiML answering one action webhook (`n`=token, `q`=target of its URL)."""
    now = now or datetime.now(UTC)
    who = pseudonym(services.settings.pseudonym_key, caller)
    catalog = services.catalog.current()  # before the transaction: see incoming_sms.handle_sms
    region = region_for(caller, services.region_prefixes)  # likewise
    key = step_key(call_sid, token)
    with services.store.participant(who, caller, now, key) as tx:
        seen, reply = tx.previous_reply()
        if seen:
            log.info("call %s: step %d retried; replaying the reply", call_sid, token)
            return reply or ""
        calls = CallsTx(tx)
        stored = calls.get(call_sid)
        ctx = _context(services, catalog, tx, calls, call_sid, now)
        if stored is not None and stored.pseudonym != who:
            log.warning("call %s: action from another number than the call's; ignored", call_sid)
            return render(repeat_current(ctx, CallState(finished=True)))
        if stored is None:
            log.warning("call %s: action for an unknown call; starting it over", call_sid)
            step = start_call(ctx, None, inbound=False)
            reply = render(step)
            _commit(tx, calls, call_sid, None, step, key, reply, now, region)
            return reply
        expected = current_target(ctx.catalog, stored.state)
        if token != stored.state.step or target != expected:
            # An action from an older TwiML (or a forged one): say where the call is.
            log.info("call %s: stale action n=%d q=%s (at n=%d q=%s)", call_sid, token,
                     target, stored.state.step, expected)
            return render(repeat_current(ctx, stored.state))
        step = advance_call(ctx, stored.state, given)
        reply = render(step)
        _share_session(tx, catalog, step, now)
        _commit(tx, calls, call_sid, stored, step, key, reply, now, region)
    if step.recorded:
        services.trigger.notify()
    return reply


def handle_call_status(services: Services, call_sid: str, call_status: str,
                       now: datetime | None = None) -> None:
    """A final status (completed, busy, failed, no-answer, canceled) closes the call."""
    from gateway.application.callbacks import call_ended

    call_ended(services, call_sid, call_status, now)


def _context(services: Services, catalog: Catalog, tx: ParticipantTx, calls: CallsTx,
             call_sid: str, now: datetime) -> CallContext:
    since = rules.resumable_since(now)
    # A dropped call's position, unless the shared session (texts, or a later call) moved on.
    resume = calls.resume_positions(since, exclude_call=call_sid)
    resume.update(tx.positions_since(since))
    return CallContext(
        catalog=catalog,
        now=now,
        participant_language=tx.state().language,
        max_invalid_tries=services.settings.max_invalid_tries,
        resume=resume,
    )


def _share_session(tx: ParticipantTx, catalog: Catalog, step: VoiceStep, now: datetime) -> None:
    """Where the call is, as the participant's session: the next text continues there.

    Their texts no longer answer the question they last saw by SMS (the call may have
    answered it): the next one is told where they are and asked that question."""
    state = step.state
    consultation = catalog.get(state.consultation_id) if state.consultation_id else None
    if consultation is None or state.language is None:
        return  # still at a menu: nothing to share
    done = state.position >= len(consultation.steps)
    tx.save_session(SessionState(consultation.id, state.language, position=state.position,
                                 completed=done), now)
    participant = tx.state()
    if participant.active_consultation == consultation.id:
        tx.save_participant(replace(participant, active_consultation=None), now)


def _commit(
    tx: ParticipantTx,
    calls: CallsTx,
    call_sid: str,
    stored: StoredCall | None,
    step: VoiceStep,
    key: str,
    reply: str,
    now: datetime,
    region: str,
) -> None:
    if step.collect is Collect.REJECT:
        status = CallStatus.REJECTED
    elif step.state.finished:
        status = CallStatus.FINISHED
    elif stored is not None and stored.status is CallStatus.ENDED:
        status = CallStatus.ENDED  # a late action (e.g. a recording after hang-up)
    else:
        status = CallStatus.ACTIVE
    calls.save(call_sid, step.state, status, now)
    if step.language_chosen is not None:
        tx.set_language(step.language_chosen, now)
    tx.record_events(step.recorded, "voice", now, region)
    tx.log_inbound(InboundRecord(key, "voice", now, reply))


def _request_callback(
    services: Services, calls: CallsTx, caller: str, consultation_id: str, now: datetime
) -> bool:
    """Queue a free call-back unless one is waiting or the daily limit is reached."""
    masked = mask_number(caller)
    if calls.has_open_callback():
        log.info("missed call from %s: a call-back is already on its way", masked)
        return False
    if not rules.may_call_back(calls.callbacks_since(rules.callbacks_counted_since(now)),
                               services.settings):
        log.warning("missed call from %s: call-back limit (%d a day) reached; not calling back",
                    masked, services.settings.callbacks_per_day)
        return False
    callback_id = calls.request_callback(caller, consultation_id, now)
    log.info("missed call from %s: call-back %d requested", masked, callback_id)
    return True
