"""The rules the use cases apply, named: how many SMS replies and call-backs one number
gets, how long a dropped call may resume, and when a call-back is tried again.

The limits are settings (REPLIES_PER_HOUR, CALLBACKS_PER_DAY); the windows they count in
and the retry delays are here. Incoming SMS (incoming_sms.py), call steps
(call_steps.py) and call-backs (callbacks.py) ask these; none decides on its own.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from gateway.settings import Settings

# The reply cap: at most REPLIES_PER_HOUR SMS replies to one number in this window. An
# answer past the cap is still recorded; only its reply is held back.
REPLY_WINDOW = timedelta(hours=1)

# The call-back quota: at most CALLBACKS_PER_DAY call-backs requested for one number in
# this (rolling) window, and one open at a time.
CALLBACK_WINDOW = timedelta(days=1)

# A dropped call resumes where it stopped when the caller calls again within this long.
RESUME_WITHIN = timedelta(hours=24)

# After a busy / unanswered call-back: try again after 2, then 10 minutes (three calls
# in all). Any other end (failed, canceled, completed) is not retried.
RETRY_DELAYS: tuple[timedelta, ...] = (timedelta(minutes=2), timedelta(minutes=10))
RETRY_STATUSES = frozenset({"busy", "no-answer"})

# Twilio unreachable or refusing to place a call-back: try again after 1, 5, 15 minutes,
# then give up.
PLACEMENT_ERROR_DELAYS: tuple[timedelta, ...] = (
    timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=15),
)


def replies_counted_since(now: datetime) -> datetime:
    """The start of the window the reply cap counts in."""
    return now - REPLY_WINDOW


def may_reply(replies_in_window: int, settings: Settings, *, confirmation: bool = False) -> bool:
    """Whether one more SMS reply goes to a number already sent this many in the window.

    The confirmation of an opt-out, an opt-in or HELP always goes: someone who asks to
    stop must hear that they did."""
    return confirmation or replies_in_window < settings.replies_per_hour


def reply_cap_reason(replies_in_window: int, settings: Settings) -> str:
    """Why a reply was held back by the cap, in words an operator can act on."""
    plural = "reply" if replies_in_window == 1 else "replies"
    return (f"reply cap: this number was sent {replies_in_window} {plural} in the last hour "
            f"(REPLIES_PER_HOUR={settings.replies_per_hour})")


def callbacks_counted_since(now: datetime) -> datetime:
    """The start of the window the call-back quota counts in."""
    return now - CALLBACK_WINDOW


def may_call_back(callbacks_in_window: int, settings: Settings) -> bool:
    """Whether a number with this many call-backs in the window may have another."""
    return callbacks_in_window < settings.callbacks_per_day


def resumable_since(now: datetime) -> datetime:
    """Calls that stopped after this may be resumed."""
    return now - RESUME_WITHIN


def retry_delay(call_status: str, attempts: int) -> timedelta | None:
    """When to ring again after an unanswered call-back (None: stop)."""
    if call_status not in RETRY_STATUSES or attempts > len(RETRY_DELAYS):
        return None
    return RETRY_DELAYS[attempts - 1]


def placement_retry_at(attempts: int, now: datetime) -> datetime | None:
    """When to try placing a call-back again after its `attempts`-th placement failed
    (None: give up)."""
    index = attempts - 1
    return now + PLACEMENT_ERROR_DELAYS[index] if index < len(PLACEMENT_ERROR_DELAYS) else None
