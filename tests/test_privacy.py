from __future__ import annotations

import hashlib

from gateway.privacy import mask_number, pseudonym


def test_pseudonym_is_keyed_and_stable() -> None:
    a = pseudonym("key-one", "+254712345678")
    assert a == pseudonym("key-one", "+254712345678")
    assert a != pseudonym("key-two", "+254712345678")
    assert a != pseudonym("key-one", "+254712345679")
    # Not the plain, enumerable hash of the number.
    assert a != hashlib.sha256(b"+254712345678").hexdigest()
    assert len(a) == 64 and int(a, 16) >= 0


def test_mask_number_keeps_last_three_digits() -> None:
    assert mask_number("+254712345678") == "+*********678"
    assert mask_number("12345") == "**345"
    assert mask_number("12") == "**"
