"""SMS segment arithmetic (GSM 03.38 / 3GPP TS 23.038).

A text that uses only the GSM 7-bit default alphabet (plus its extension table) is sent
as GSM-7: 160 septets in a single message, 153 per part once it needs several parts
(the user data header takes the rest). Any other character switches the whole text to
UCS-2: 70 UTF-16 code units single, 67 per part. Phones never split an escape sequence
(extension character) or a surrogate pair (emoji) across two parts, so neither does this
module: such a character moves whole to the next part.
"""

from __future__ import annotations

from typing import Literal

Encoding = Literal["GSM-7", "UCS-2"]

# The GSM 03.38 default alphabet, in code order 0x00..0x7F (0x1B, the escape to the
# extension table, is left out: it is not a character).
GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# Characters reached through the escape 0x1B: each costs two septets.
GSM_EXTENSION = frozenset("\f^{}\\[]~|€")

GSM_SINGLE = 160
GSM_PART = 153
UCS2_SINGLE = 70
UCS2_PART = 67


def non_gsm_characters(text: str) -> list[str]:
    """The distinct characters of `text` that GSM-7 cannot carry, in order of appearance."""
    seen: dict[str, None] = {}
    for char in text:
        if char not in GSM_BASIC and char not in GSM_EXTENSION:
            seen.setdefault(char)
    return list(seen)


def encoding(text: str) -> Encoding:
    """`GSM-7` when every character is in the GSM alphabet, else `UCS-2`."""
    return "UCS-2" if non_gsm_characters(text) else "GSM-7"


def _unit_costs(text: str, enc: Encoding) -> list[int]:
    """Per character: septets (GSM-7) or UTF-16 code units (UCS-2)."""
    if enc == "GSM-7":
        return [2 if char in GSM_EXTENSION else 1 for char in text]
    return [2 if ord(char) > 0xFFFF else 1 for char in text]


def length(text: str) -> int:
    """The length that counts against the limits: septets for GSM-7, UTF-16 units for UCS-2."""
    return sum(_unit_costs(text, encoding(text)))


def segment_count(text: str) -> int:
    """How many SMS segments `text` is sent as (an empty text is still one message)."""
    enc = encoding(text)
    costs = _unit_costs(text, enc)
    single, part = (GSM_SINGLE, GSM_PART) if enc == "GSM-7" else (UCS2_SINGLE, UCS2_PART)
    if sum(costs) <= single:
        return 1
    parts, used = 1, 0
    for cost in costs:
        if used + cost > part:
            parts += 1
            used = 0
        used += cost
    return parts
