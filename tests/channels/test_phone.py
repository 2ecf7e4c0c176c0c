from __future__ import annotations

import pytest

from gateway.channels.phone import to_e164


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("+254712345678", "+254712345678"),
        (" +254 712 345 678 ", "+254712345678"),
        ("+1 (415) 555-0123", "+14155550123"),
        ("+447700900123", "+447700900123"),
    ],
)
def test_phone_numbers_to_e164(raw: str, expected: str) -> None:
    assert to_e164(raw) == expected


@pytest.mark.parametrize("raw", ["12345", "CivicBank", "", "+1", "+999123", "+" + "9" * 40])
def test_non_numbers_are_refused(raw: str) -> None:
    assert to_e164(raw) is None


def test_national_numbers_need_a_default_region() -> None:
    assert to_e164("0712345678") is None
    assert to_e164("0712345678", "KE") == "+254712345678"
