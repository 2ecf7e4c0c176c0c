"""Reading a contact list from CSV (`civicline contacts import`): columns phone, language
and optional region; numbers in E.164; every bad row reported with its line and reason;
a number given twice is one contact (its later values win where given)."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field

from gateway.channels.phone import to_e164
from gateway.privacy import mask_number, pseudonym
from gateway.store.contacts import Contact

REQUIRED_COLUMNS = ("phone", "language")
LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,4})?$")
MAX_REGION = 64


@dataclass(frozen=True)
class BadRow:
    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


@dataclass
class ContactFile:
    contacts: list[Contact] = field(default_factory=list)
    bad: list[BadRow] = field(default_factory=list)
    merged: int = 0  # rows naming a number given earlier in the file


class ContactFileInvalid(ValueError):
    """The file as a whole cannot be read (no header, missing columns, not text)."""


def read_contacts(data: bytes, default_region: str, pseudonym_key: str) -> ContactFile:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ContactFileInvalid(f"not UTF-8 text (byte {exc.start})") from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    columns = [c.strip().lower() for c in reader.fieldnames or []]
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        raise ContactFileInvalid(
            f"line 1 must name the columns phone, language and optionally region "
            f"(missing: {', '.join(missing)})")
    reader.fieldnames = columns
    result = ContactFile()
    found: dict[str, int] = {}
    line = 1
    for row in reader:
        line = reader.line_num
        contact = _contact(row, line, default_region, pseudonym_key, result)
        if contact is None:
            continue
        if contact.pseudonym in found:
            earlier = result.contacts[found[contact.pseudonym]]
            result.contacts[found[contact.pseudonym]] = Contact(
                contact.pseudonym, contact.phone, contact.language or earlier.language,
                contact.region or earlier.region)
            result.merged += 1
        else:
            found[contact.pseudonym] = len(result.contacts)
            result.contacts.append(contact)
    return result


def _contact(row: dict[str, str | None], line: int, default_region: str, key: str,
             result: ContactFile) -> Contact | None:
    if None in row:  # more fields than columns
        result.bad.append(BadRow(line, "more fields than the header names"))
        return None
    raw = (row.get("phone") or "").strip()
    if not raw:
        result.bad.append(BadRow(line, "no phone number"))
        return None
    e164 = to_e164(raw, default_region)
    if e164 is None:
        hint = "" if raw.startswith("+") or default_region else \
            " (no country: write it with +, or set DEFAULT_REGION)"
        result.bad.append(BadRow(line, f"not a phone number: {mask_number(raw)}{hint}"))
        return None
    language = (row.get("language") or "").strip()
    if not LANGUAGE.match(language):
        result.bad.append(BadRow(line, f"language must be a code such as en or sw "
                                       f"(got {language[:16]!r})"))
        return None
    region = (row.get("region") or "").strip() or None
    if region is not None and len(region) > MAX_REGION:
        result.bad.append(BadRow(line, f"region longer than {MAX_REGION} characters"))
        return None
    return Contact(pseudonym(key, e164), e164, language, region)
