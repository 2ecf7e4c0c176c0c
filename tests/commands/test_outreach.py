"""`civicline outreach ...` on the central store's database, through click's runner."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import Result

from gateway.central.store.central_store import CentralStore
from gateway.central.store.outreach import OutreachStore, ProgressReport
from tests.central.officials.command_line import civicline
from tests.central.officials.outreach_survey import publish_outreach_survey


@pytest.fixture
def central(central_database_url: str) -> Iterator[str]:
    store = CentralStore.from_url(central_database_url)
    store.create_schema()
    publish_outreach_survey(store.engine)
    yield central_database_url
    store.engine.dispose()


def day(offset: int) -> str:
    return (datetime.now(UTC) + timedelta(days=offset)).strftime("%Y-%m-%dT08:00")


def create(url: str, *args: str) -> Result:
    return civicline(url, "outreach", "create", "survey-test", "--starts", day(1),
                     "--ends", day(3), "--by", "ada", *args)  # fmt: skip


def created_id(result: Result) -> str:
    assert result.exit_code == 0, result.output
    return result.output.split()[0]


def test_create_prints_the_draft_and_what_it_sends(central: str) -> None:
    result = create(central, "--kind", "invitation", "--language", "sw", "--channel", "sms",
                    "--channel", "voice", "--hours-from", "09:00")  # fmt: skip
    outreach_id = created_id(result)
    assert f"{outreach_id} version 1: invitation for survey-test, draft" in result.output
    assert (
        "channels: sms, voice;" in result.output and "09:00-20:00 Africa/Nairobi" in result.output
    )
    assert "  sw: Utafiti wa huduma: tuma SURVEY kushiriki. Jibu STOP kuacha." in result.output
    [stored] = outreach_store(central).all()
    assert stored.id == outreach_id and stored.created_by == "ada"


def outreach_store(url: str) -> OutreachStore:
    return OutreachStore(CentralStore.from_url(url).engine)


def test_bad_input_is_refused_with_every_problem_and_nothing_saved(central: str) -> None:
    result = civicline(central, "outreach", "create", "survey-test", "--kind", "reminder",
                       "--starts", day(3), "--ends", day(1), "--participants", "all",
                       "--text", "en=Come back to {title}")  # fmt: skip
    assert result.exit_code == 1
    assert "the outreach was not saved:" in result.output
    assert "a reminder goes to the participants who started and did not finish" in result.output
    assert "must be after starts_at" in result.output
    assert "texts.en: a reminder must tell people how to stop" in result.output
    assert outreach_store(central).all() == []
    unknown = civicline(central, "outreach", "create", "nope", "--kind", "invitation",
                        "--starts", day(1), "--ends", day(2))  # fmt: skip
    assert unknown.exit_code == 1
    assert "no published consultation 'nope' (published: survey-test)" in unknown.output
    bad_text = create(central, "--kind", "invitation", "--text", "no equals sign")
    assert bad_text.exit_code == 2 and "expected LANGUAGE=TEXT" in bad_text.output


def test_start_pause_cancel_and_status(central: str) -> None:
    outreach_id = created_id(create(central, "--kind", "reminder"))
    started = civicline(central, "outreach", "start", outreach_id)
    assert started.exit_code == 0, started.output
    assert f"{outreach_id} is started (version 2)" in started.output
    assert "is paused (version 3)" in civicline(central, "outreach", "pause", outreach_id).output
    assert "is cancelled" in civicline(central, "outreach", "cancel", outreach_id).output
    again = civicline(central, "outreach", "start", outreach_id)
    assert again.exit_code == 1
    assert f"outreach {outreach_id} is cancelled: it cannot be started" in again.output
    missing = civicline(central, "outreach", "pause", "o-000000000000")
    assert missing.exit_code == 1 and "no outreach 'o-000000000000'" in missing.output
    listed = civicline(central, "outreach", "status")
    assert f"{outreach_id}  reminder    survey-test  cancelled (version 4)" in listed.output


def test_preview_and_status_of_one_sum_the_gateways_reports(central: str) -> None:
    outreach_id = created_id(create(central, "--kind", "invitation"))
    empty = civicline(central, "outreach", "preview", outreach_id)
    assert "no gateway has reported a preview yet" in empty.output
    store = outreach_store(central)
    for gateway, count in (("gw-1", 30), ("gw-2", 12)):
        store.store_progress(gateway, [ProgressReport(
            outreach_id=outreach_id, gateway=gateway, version=1, answered=2,
            received_at=datetime.now(UTC), counts={"pending": count, "sent": 1},
            preview={"recipients": [{"language": "en", "channel": "sms", "count": count}],
                     "segments": {"encoding": "GSM-7", "per_message": 1, "total": count},
                     "excluded": {"opted_out": 2}},
        )])  # fmt: skip
    shown = civicline(central, "outreach", "preview", outreach_id).output
    assert "from 2 gateway(s): 42 recipients, 1 segment(s) per message (GSM-7), 42 segments" \
        in shown  # fmt: skip
    assert "  en sms: 42" in shown and "  excluded, opted out: 4" in shown
    progress = civicline(central, "outreach", "status", outreach_id).output
    assert "gateway  pending  sending  sent  delivered  failed  excluded  answered" in progress
    assert "gw-1  30  0  1  0  0  0  2" in progress
    assert "all  42  0  2  0  0  0  4" in progress
