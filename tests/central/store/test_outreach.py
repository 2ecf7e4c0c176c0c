"""Outreach definitions and progress reports in the central store."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import inspect

from gateway.central.store.central_store import CentralStore
from gateway.central.store.outreach import (
    OutreachFields,
    OutreachStatus,
    OutreachStore,
    ProgressReport,
    StatusRefused,
    UnknownOutreach,
)

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


def fields(**changes: object) -> OutreachFields:
    values: dict[str, object] = {
        "consultation_id": "water-2026",
        "kind": "invitation",
        "audience": {"source": "participants", "participants": "all", "list": None,
                     "languages": ["sw"], "regions": None},
        "channels": ("sms", "voice"),
        "starts_at": NOW + timedelta(hours=1),
        "ends_at": NOW + timedelta(days=7),
        "hours_from": "08:00",
        "hours_to": "20:00",
        "timezone": "Africa/Nairobi",
        "texts": {"sw": "Utafiti wa maji: tuma MAJI. Jibu STOP kuacha."},
    }  # fmt: skip
    values.update(changes)
    return OutreachFields(**values)  # type: ignore[arg-type]


@pytest.fixture
def outreach(store: CentralStore) -> OutreachStore:
    return OutreachStore(store.engine)


def test_its_tables_are_the_centres_own(store: CentralStore) -> None:
    names = set(inspect(store.engine).get_table_names())
    assert {"central_outreach", "central_outreach_progress"} <= names


def test_a_new_definition_is_a_draft_at_version_1_with_an_id_of_its_own(
    outreach: OutreachStore,
) -> None:
    made = outreach.create(fields(), "ada", NOW)
    assert re.fullmatch(r"o-[0-9a-f]{12}", made.id)
    assert (made.version, made.status, made.created_by) == (1, OutreachStatus.DRAFT, "ada")
    assert outreach.get(made.id) == made
    assert made.fields == fields()  # read back as written, times in UTC
    other = outreach.create(fields(kind="reminder"), "ada", NOW)
    assert other.id != made.id
    assert [o.id for o in outreach.all()] in ([made.id, other.id], [other.id, made.id])


def test_it_is_published_in_the_shape_gateways_read(outreach: OutreachStore) -> None:
    made = outreach.create(fields(), "ada", NOW)
    assert made.published() == {
        "id": made.id, "version": 1, "consultation_id": "water-2026", "kind": "invitation",
        "audience": {"source": "participants", "participants": "all", "list": None,
                     "languages": ["sw"], "regions": None},
        "channels": ["sms", "voice"],
        "starts_at": "2026-12-02T10:00:00+00:00", "ends_at": "2026-12-09T09:00:00+00:00",
        "hours": {"from": "08:00", "to": "20:00", "timezone": "Africa/Nairobi"},
        "texts": {"sw": "Utafiti wa maji: tuma MAJI. Jibu STOP kuacha."},
        "status": "draft",
    }  # fmt: skip


def test_every_change_is_a_new_version(outreach: OutreachStore) -> None:
    made = outreach.create(fields(), "ada", NOW)
    started = outreach.change(made.id, NOW, status=OutreachStatus.STARTED)
    paused = outreach.change(made.id, NOW, status=OutreachStatus.PAUSED)
    resumed = outreach.change(made.id, NOW, status=OutreachStatus.STARTED)
    edited = outreach.change(made.id, NOW, fields=fields(hours_from="09:00"))
    assert [o.version for o in (started, paused, resumed, edited)] == [2, 3, 4, 5]
    assert edited.status is OutreachStatus.STARTED and edited.fields.hours_from == "09:00"


def test_a_cancelled_outreach_stays_cancelled(outreach: OutreachStore) -> None:
    made = outreach.create(fields(), "ada", NOW)
    outreach.change(made.id, NOW, status=OutreachStatus.CANCELLED)
    with pytest.raises(StatusRefused, match="is cancelled: it cannot be started; nothing more"):
        outreach.change(made.id, NOW, status=OutreachStatus.STARTED)
    with pytest.raises(
        StatusRefused, match="is draft: it cannot be paused; it can be cancelled or started"
    ):
        outreach.change(outreach.create(fields(), "ada", NOW).id, NOW,
                        status=OutreachStatus.PAUSED)  # fmt: skip
    assert outreach.require(made.id).version == 2
    with pytest.raises(UnknownOutreach):
        outreach.change("o-000000000000", NOW, status=OutreachStatus.STARTED)


def test_what_finished_more_than_a_day_ago_is_no_longer_published(
    outreach: OutreachStore,
) -> None:
    ended = outreach.create(fields(starts_at=NOW - timedelta(days=5),
                                   ends_at=NOW - timedelta(days=2)), "ada", NOW)  # fmt: skip
    ending = outreach.create(fields(starts_at=NOW - timedelta(days=5),
                                    ends_at=NOW - timedelta(hours=20)), "ada", NOW)  # fmt: skip
    draft = outreach.create(fields(), "ada", NOW)
    cancelled = outreach.create(fields(), "ada", NOW - timedelta(days=3))
    outreach.change(cancelled.id, NOW - timedelta(days=2), status=OutreachStatus.CANCELLED)
    just_cancelled = outreach.create(fields(), "ada", NOW)
    outreach.change(just_cancelled.id, NOW, status=OutreachStatus.CANCELLED)
    shown = {o.id for o in outreach.published(NOW)}
    assert shown == {ending.id, draft.id, just_cancelled.id}
    assert ended.id not in shown and cancelled.id not in shown


def test_the_etag_follows_every_change(outreach: OutreachStore) -> None:
    made = outreach.create(fields(), "ada", NOW)
    before = outreach.etag(outreach.published(NOW))
    assert outreach.etag(outreach.published(NOW)) == before
    outreach.change(made.id, NOW, status=OutreachStatus.STARTED)
    assert outreach.etag(outreach.published(NOW)) != before
    assert outreach.etag([]) != before


def report(outreach_id: str, version: int, sent: int, **extra: object) -> ProgressReport:
    return ProgressReport(outreach_id=outreach_id, gateway="gw-1", version=version,
                          counts={"sent": sent, "pending": 10}, answered=1,
                          received_at=NOW, **extra)  # type: ignore[arg-type]  # fmt: skip


def test_the_latest_report_per_outreach_and_gateway_is_kept_with_the_last_preview(
    outreach: OutreachStore,
) -> None:
    made = outreach.create(fields(), "ada", NOW)
    preview = {"recipients": [{"language": "sw", "channel": "sms", "count": 12}],
               "segments": {"encoding": "GSM-7", "per_message": 1, "total": 12},
               "excluded": {"opted_out": 1}}  # fmt: skip
    assert outreach.store_progress("gw-1", [report(made.id, 1, 0, preview=preview)]) == 1
    assert outreach.store_progress("gw-2", [report(made.id, 1, 3)]) == 1
    assert outreach.store_progress("gw-1", [report(made.id, 2, 5)]) == 1
    assert outreach.store_progress("gw-1", [report(made.id, 1, 4)]) == 0  # an older version
    latest = outreach.progress(made.id)
    assert [(r.gateway, r.version, r.counts["sent"], r.preview) for r in latest] == [
        ("gw-1", 2, 5, preview), ("gw-2", 1, 3, None),
    ]  # fmt: skip
    assert outreach.progress("o-000000000000") == []
