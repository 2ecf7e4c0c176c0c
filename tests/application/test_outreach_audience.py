"""Who an outreach reaches, who it leaves out and why, and the preview's figures."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, insert

from gateway.application.outreach_audience import resolve
from gateway.application.services import open_local_store
from gateway.privacy import pseudonym
from gateway.settings import Settings
from gateway.store import schema
from gateway.store.contacts import Contact, ContactStore
from gateway.store.outbound import OutboundStore
from gateway.sync.outreach_definition import parse_outreach
from tests.application.outreach_world import KEY, definition, participant

NOW = datetime.now(UTC)


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    engine = open_local_store(settings).engine
    yield engine
    engine.dispose()


def preview(engine: Engine, **changes: object) -> dict:
    return resolve(parse_outreach(definition(**changes)), engine, {}).preview()


def test_the_preview_counts_recipients_by_language_and_channel_and_their_segments(
    engine: Engine,
) -> None:
    for n in range(3):
        participant(engine, f"+25471100000{n}", "en")
    participant(engine, "+254711000009", "sw")
    found = preview(engine, channels=["sms", "voice"])
    assert found["recipients"] == [
        {"language": "en", "channel": "sms", "count": 3},
        {"language": "en", "channel": "voice", "count": 3},
        {"language": "sw", "channel": "sms", "count": 1},
        {"language": "sw", "channel": "voice", "count": 1},
    ]
    assert found["segments"] == {"encoding": "GSM-7", "per_message": 1, "total": 4}
    assert set(found["excluded"].values()) == {0}


def test_a_text_beyond_gsm_or_one_segment_is_counted_as_it_will_be_sent(
    engine: Engine,
) -> None:
    participant(engine, "+254711000001", "en")
    participant(engine, "+254711000002", "sw")
    long_text = "Karibu ✓ " + "maji " * 20 + "STOP"  # UCS-2: 67 per part
    found = preview(engine, texts={"en": "Short. Reply STOP to stop.", "sw": long_text})
    assert found["segments"]["encoding"] == "UCS-2"
    assert found["segments"]["per_message"] == 2
    assert found["segments"]["total"] == 1 + 2


def test_participants_are_filtered_by_completion_language_and_region(engine: Engine) -> None:
    participant(engine, "+254711000001", "en", completed=True)
    participant(engine, "+254711000002", "en", completed=False)
    participant(engine, "+254722000003", "sw", completed=False)
    counts = {name: sum(r["count"] for r in preview(engine, audience={"participants": name})
                        ["recipients"]) for name in ("all", "completed", "not_completed")}
    assert counts == {"all": 3, "completed": 1, "not_completed": 2}
    assert preview(engine, audience={"languages": ["sw"]})["recipients"] == [
        {"language": "sw", "channel": "sms", "count": 1}]
    regional = parse_outreach(definition(audience={"regions": ["Coast"]}))
    found = resolve(regional, engine, {"+25472": "Coast"})
    assert [r.phone for r in found.recipients] == ["+254722000003"]


def test_opted_out_suppressed_and_already_reached_numbers_are_left_out_and_counted(
    engine: Engine,
) -> None:
    participant(engine, "+254711000001", opted_out=True)
    participant(engine, "+254711000002")
    participant(engine, "+254711000003")
    reached = participant(engine, "+254711000004")
    participant(engine, "+254711000005")
    contacts = ContactStore(engine)
    contacts.suppress("+254711000002", "invalid_number", NOW)
    contacts.suppress("+254711000003", "not_mobile", NOW)
    rows = OutboundStore(engine)
    rows.materialise([{"outreach_id": "o-1", "pseudonym": reached, "phone": "+254711000004",
                       "channel": "sms", "language": "en", "body": "x"}], NOW)
    [claimed] = rows.claim("o-1", "sms", 10, NOW)
    rows.sent(claimed.id, "SM" + "0" * 32, NOW)
    found = resolve(parse_outreach(definition()), engine, {})
    assert [r.phone for r in found.recipients] == ["+254711000005"]
    assert found.preview()["excluded"] == {"opted_out": 1, "contacted_already": 1,
                                           "invalid_number": 1, "unreachable": 1,
                                           "no_consent_basis": 0}


def test_a_pending_row_is_still_a_recipient_not_contacted_already(engine: Engine) -> None:
    who = participant(engine, "+254711000001")
    OutboundStore(engine).materialise([{"outreach_id": "o-1", "pseudonym": who,
                                        "phone": "+254711000001", "channel": "sms",
                                        "language": "en", "body": "x"}], NOW)
    assert preview(engine)["recipients"] == [{"language": "en", "channel": "sms", "count": 1}]


def test_contacts_reach_their_list_in_their_language_and_a_stop_wins(engine: Engine) -> None:
    store = ContactStore(engine)
    store.add("elders", [Contact(pseudonym(KEY, "+254733000001"), "+254733000001", "sw", None),
                         Contact(pseudonym(KEY, "+254733000002"), "+254733000002", "fr", None),
                         Contact(pseudonym(KEY, "+254733000003"), "+254733000003", "en", None)],
              "paper consent at the chief's baraza, 2026-11", NOW)
    store.add("others", [Contact(pseudonym(KEY, "+254733000009"), "+254733000009", "en",
                                 None)], "web form", NOW)
    # +254733000003 texted STOP to this gateway at some point
    participant(engine, "+254733000003", opted_out=True, consultation="other")
    found = resolve(parse_outreach(definition(audience={"source": "contacts",
                                                        "list": "elders"})), engine, {})
    assert sorted((r.phone, r.language) for r in found.recipients) == [
        ("+254733000001", "sw"), ("+254733000002", "en")]  # no French text: the first
    assert found.excluded["opted_out"] == 1


def test_a_contact_without_a_consent_basis_is_never_a_recipient(engine: Engine) -> None:
    with engine.begin() as conn:  # written by hand: the store refuses a blank basis
        conn.execute(insert(schema.contacts).values(
            list="old", pseudonym=pseudonym(KEY, "+254733000001"), phone="+254733000001",
            language="en", region=None, basis=" ", imported_at=NOW))
    found = resolve(parse_outreach(definition(audience={"source": "contacts",
                                                        "list": "old"})), engine, {})
    assert found.recipients == []
    assert found.excluded["no_consent_basis"] == 1
    with pytest.raises(ValueError, match="consent basis"):
        ContactStore(engine).add("old", [], "  ", NOW)
