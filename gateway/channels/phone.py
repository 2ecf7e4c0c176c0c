"""Phone numbers as Twilio sends them, normalised to E.164."""

from __future__ import annotations

from functools import lru_cache

import phonenumbers


@lru_cache(maxsize=16384)  # the same numbers write again and again
def to_e164(raw: str, default_region: str = "") -> str | None:
    """E.164 for a phone number; None for short codes, alphanumeric senders, junk.

    Twilio sends numbers in E.164 already; a number without `+` is taken as national
    only when a default region is configured.
    """
    raw = raw.strip()
    if not raw or len(raw) > 32:
        return None
    region = None if raw.startswith("+") else (default_region or None)
    if region is None and not raw.startswith("+"):
        return None
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    # "Possible" (right length for the country), not "valid": metadata lags new number
    # ranges, and refusing a real participant loses their voice.
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
