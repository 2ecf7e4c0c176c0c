"""Reading a contact list: E.164, bad rows by line and reason, duplicates merged."""

from __future__ import annotations

import pytest

from gateway.application.contact_import import ContactFileInvalid, read_contacts
from gateway.privacy import pseudonym

KEY = "k" * 20


def read(text: str, region: str = "KE"):  # noqa: ANN201 - the ContactFile
    return read_contacts(text.encode(), region, KEY)


def test_numbers_are_normalised_and_keyed_by_their_pseudonym() -> None:
    found = read("phone,language,region\n0712 345 678,sw,Kisumu\n+254722000001,en,\n")
    assert [(c.phone, c.language, c.region) for c in found.contacts] == [
        ("+254712345678", "sw", "Kisumu"), ("+254722000001", "en", None)]
    assert found.contacts[0].pseudonym == pseudonym(KEY, "+254712345678")
    assert found.bad == [] and found.merged == 0


def test_each_bad_row_is_reported_with_its_line_and_reason() -> None:
    found = read("phone,language\n"
                 "+254712345678,en\n"
                 ",en\n"
                 "12,en\n"
                 "+254712345679,English\n"
                 "+254712345670,en,extra\n")
    assert [(b.line, b.reason.split(":")[0].split(" (")[0]) for b in found.bad] == [
        (3, "no phone number"),
        (4, "not a phone number"),
        (5, "language must be a code such as en or sw"),
        (6, "more fields than the header names"),
    ]
    assert [c.phone for c in found.contacts] == ["+254712345678"]
    assert str(found.bad[0]) == "line 3: no phone number"


def test_a_bad_number_is_reported_masked_and_a_missing_country_explained() -> None:
    found = read("phone,language\n712345678999999,en\n", region="")
    [bad] = found.bad
    assert "712345678999999" not in bad.reason and "999" in bad.reason
    assert "DEFAULT_REGION" in bad.reason


def test_a_line_number_counts_quoted_line_breaks() -> None:
    found = read('phone,language,region\n+254712345678,en,"two\nlines"\nnope,en,\n')
    assert [b.line for b in found.bad] == [4]


def test_the_same_number_twice_is_one_contact_with_its_later_values() -> None:
    found = read("phone,language,region\n+254712345678,en,Nairobi\n0712345678,sw,\n")
    assert [(c.language, c.region) for c in found.contacts] == [("sw", "Nairobi")]
    assert found.merged == 1


@pytest.mark.parametrize(("data", "message"), [
    (b"number,lang\n+254712345678,en\n", "missing: phone, language"),
    (b"", "missing: phone, language"),
    (b"phone,language\n\xff\xfe\n", "not UTF-8"),
])
def test_a_file_that_cannot_be_read_says_why(data: bytes, message: str) -> None:
    with pytest.raises(ContactFileInvalid, match=message):
        read_contacts(data, "KE", KEY)
