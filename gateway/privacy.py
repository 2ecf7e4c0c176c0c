"""Participant pseudonyms and masked numbers: phone numbers never leave the gateway."""

from __future__ import annotations

import hashlib
import hmac
import re


def pseudonym(key: str, e164: str) -> str:
    """HMAC-SHA256(key, E.164): stable per number, not reversible without the key."""
    return hmac.new(key.encode(), e164.encode(), hashlib.sha256).hexdigest()


def mask_number(number: str) -> str:
    """`+254712345678` -> `+*********678`: enough for an operator to tell numbers apart."""
    if len(number) <= 3:
        return "*" * len(number)
    head = "+" if number.startswith("+") else ""
    return head + "*" * (len(number) - len(head) - 3) + number[-3:]


_NUMBER = re.compile(r"\+\d{7,15}(?!\d)|(?<![\d.\-/])\d{9,15}(?![\d.\-/])")


def redact_numbers(text: str) -> str:
    """`text` with anything that looks like a phone number masked (e.g. a Twilio error
    naming the `To` number), so it can be logged and stored."""
    return _NUMBER.sub(lambda found: mask_number(found.group(0)), text)
