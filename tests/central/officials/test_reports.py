"""What Reports gives, checked: tallies and every breakdown against an independent recount
of a generated population, and a consultation without free text.

The figures are read the way officials and scripts read them: from `civicline export`
(responses as CSV, tallies as JSON); the expected ones are recomputed in plain Python
from the generated events and from the responses export, which must agree.
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, event

from gateway.central.officials.breakdowns import breakdown_choices
from gateway.central.officials.reports import Reports
from gateway.cli import cli
from gateway.consultation.model import Consultation
from tests.central.officials.population import (
    START,
    Recount,
    generate,
    insert_events,
    publish,
    recount,
    survey,
)
from tests.central.officials.population import event as make_event

CID = "survey-test"
PARTICIPANTS = 320
SEED = 20260301


def run_export(central_url: str, *args: str, k: int = 0) -> str:
    result = CliRunner().invoke(
        cli,
        ["export", *args],
        env={"CENTRAL_DATABASE_URL": central_url, "SMALL_CELL_K": str(k)},
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.fixture
def population(central_engine: Engine) -> tuple[Consultation, list[dict[str, Any]]]:
    consultation, definition = survey()
    rows = generate(consultation, PARTICIPANTS, SEED)
    publish(central_engine, definition, consultation.id)
    insert_events(central_engine, rows)
    return consultation, rows


def as_export_rows(rows: list[dict[str, Any]]) -> list[dict[str, str]]:
    """The generated events in the export's terms, for the ground-truth recount."""
    return [
        {
            "event_id": r["event_id"],
            "pseudonym": r["pseudonym"],
            "question": r["question_id"],
            "status": r["status"],
            "answer_id": r["value"] if r["status"] == "answered" else "",
            "channel": r["channel"],
            "answered_at": r["answered_at"].isoformat(),
            "region": r["region"] or "",
        }
        for r in rows
    ]


def test_population_has_what_the_rules_are_about(population: tuple) -> None:
    """Guard against a generator that would make the comparison below vacuous."""
    consultation, rows = population
    per_key = Counter((r["question_id"], r["pseudonym"]) for r in rows)
    changed = [key for key, n in per_key.items() if n > 1]
    ties = Counter((r["question_id"], r["pseudonym"], r["answered_at"]) for r in rows)
    both = {
        p
        for p in {r["pseudonym"] for r in rows}
        if {r["channel"] for r in rows if r["pseudonym"] == p} == {"sms", "voice"}
    }
    profile = {q.id for q in consultation.profile}
    assert len({r["pseudonym"] for r in rows}) > PARTICIPANTS * 0.9  # some never answered
    assert len(changed) > 100
    assert sum(n > 1 for n in ties.values()) >= 10
    assert sum(r["status"] == "skipped" and r["question_id"] in profile for r in rows) > 50
    assert sum(r["status"] == "unparsed" for r in rows) > 30
    assert sum(r["status"] == "no_answer" for r in rows) > 30
    assert len(both) > 50


def test_responses_export_marks_the_latest_event_as_counted(
    central_url: str, population: tuple
) -> None:
    consultation, rows = population
    exported = list(
        csv.DictReader(io.StringIO(run_export(central_url, "responses", consultation.id)))
    )
    assert len(exported) == len(rows)
    assert {r["event_id"] for r in exported} == {r["event_id"] for r in rows}

    truth = recount(as_export_rows(rows))
    expected = {row["event_id"] for row in truth.final.values()}
    assert {r["event_id"] for r in exported if r["counted"] == "true"} == expected
    # And the export's own rows lead to the same final states.
    assert {r["event_id"] for r in recount(exported).final.values()} == expected


def _tally_from_json(question: dict[str, Any]) -> Counter[tuple[str, str, str]]:
    found: Counter[tuple[str, str, str]] = Counter()
    for option in question["options"]:
        for channel in ("sms", "voice"):
            if option[channel]:
                found[("option", option["id"], channel)] = option[channel]
    for status in ("unparsed", "skipped", "no_answer"):
        for channel in ("sms", "voice"):
            if question[status][channel]:
                found[(status, "", channel)] = question[status][channel]
    return found


def test_tallies_equal_the_recount(central_url: str, population: tuple) -> None:
    consultation, _rows = population
    exported = csv.DictReader(io.StringIO(run_export(central_url, "responses", consultation.id)))
    truth: Recount = recount(exported)
    expected = truth.tally(consultation)
    document = json.loads(run_export(central_url, "tallies", consultation.id, "--format", "json"))

    assert document["consultation"] == consultation.id
    assert [q["id"] for q in document["questions"]] == [q.id for q in consultation.steps]
    for question in document["questions"]:
        counts = expected[question["id"]]
        assert _tally_from_json(question) == +counts, question["id"]
        reached = sum(counts.values())
        assert question["reached"]["total"] == reached
        shares = [o["percent"] for o in question["options"]] + [
            question[s]["percent"] for s in ("unparsed", "skipped", "no_answer")
        ]
        for option in question["options"]:
            assert option["total"] == option["sms"] + option["voice"]
            assert option["percent"] == round(100 * option["total"] / reached, 1)
        assert sum(shares) == pytest.approx(100, abs=0.5)

    people = truth.participants()
    by_channel = {
        c: {r["pseudonym"] for r in truth.rows if r["channel"] == c} for c in ("sms", "voice")
    }
    main = [q.id for q in consultation.questions]
    responded = {
        r["pseudonym"] for r in truth.rows if r["question"] in main and r["status"] == "answered"
    }
    completed = {p for (q, p) in truth.final if q == main[-1]}
    assert document["participants"] == {
        "sms": len(by_channel["sms"]),
        "voice": len(by_channel["voice"]),
        "total": len(people),
    }
    assert document["responded"] == len(responded)
    assert document["completed"] == len(completed)
    assert document["response_rate"] == round(100 * len(responded) / len(people), 1)
    assert document["completion_rate"] == round(100 * len(completed) / len(people), 1)
    assert 0 < len(completed) < len(people)  # some gave up: the rate means something


def _breakdown_from_json(question: dict[str, Any]) -> Counter[tuple[str | None, str, str]]:
    found: Counter[tuple[str | None, str, str]] = Counter()
    for group in question["breakdown"]["groups"]:
        total = 0
        for option in group["options"]:
            found[(group["id"], "option", option["id"])] = option["count"]
            total += option["count"]
        for status in ("unparsed", "skipped", "no_answer"):
            found[(group["id"], status, "")] = group[status]["count"]
            total += group[status]["count"]
        assert group["reached"] == total
    return +found


@pytest.mark.parametrize("by", [c.key for c in breakdown_choices(survey()[0])])
def test_every_breakdown_equals_the_recount(central_url: str, population: tuple, by: str) -> None:
    consultation, _rows = population
    exported = csv.DictReader(io.StringIO(run_export(central_url, "responses", consultation.id)))
    expected = recount(exported).breakdown(consultation, by)
    document = json.loads(
        run_export(central_url, "tallies", consultation.id, "--format", "json", "--by", by)
    )
    groups_seen = set()
    for question in document["questions"]:
        assert question["breakdown"]["by"] == by
        assert _breakdown_from_json(question) == +expected[question["id"]], question["id"]
        groups_seen |= {g["id"] for g in question["breakdown"]["groups"]}
    if by in ("age_band", "gender", "disability", "region"):
        assert None in groups_seen  # "Not stated" is a group of its own


def test_suppressed_breakdown_shows_only_true_counts_and_hides_small_ones(
    central_url: str, population: tuple
) -> None:
    consultation, _rows = population
    k = 5
    exported = csv.DictReader(io.StringIO(run_export(central_url, "responses", consultation.id)))
    expected = recount(exported).breakdown(consultation, "age_band")
    document = json.loads(
        run_export(
            central_url, "tallies", consultation.id, "--format", "json", "--by", "age_band", k=k
        )
    )
    assert document["small_cell_k"] == k
    hidden = shown = 0
    for question in document["questions"]:
        truth = expected[question["id"]]
        for group in question["breakdown"]["groups"]:
            cells = [(("option", o["id"]), o) for o in group["options"]] + [
                ((s, ""), group[s]) for s in ("unparsed", "skipped", "no_answer")
            ]
            for (kind, option), cell in cells:
                true = truth[(group["id"], kind, option)]
                if cell["count"] == f"<{k}":
                    hidden += 1
                    assert cell["percent"] is None
                else:
                    shown += 1
                    assert cell["count"] == true >= k
            # The overall tallies are not suppressed.
        for option in question["options"]:
            assert isinstance(option["total"], int)
    assert hidden > 20 and shown > 20


def test_a_consultation_without_free_text(central_engine: Engine) -> None:
    _c, definition = survey()
    start = definition.index("  - id: comment")
    definition = definition[:start] + definition[definition.index("profile:") :]
    definition = definition.replace("id: survey-test", "id: no-text")
    publish(central_engine, definition, "no-text")
    reports = Reports(central_engine, small_cell_k=0)
    insert_events(
        central_engine,
        [
            make_event("no-text", "priority", "p1", value="water", at=START),
            make_event("no-text", "priority", "p1", value="roads", at=START + timedelta(hours=1)),
            make_event("no-text", "satisfaction", "p1", value="4"),
            make_event("no-text", "gender", "p1", value="woman"),
        ],
    )
    tally = reports.tally(reports.consultation("no-text"))
    assert {r.id: r.counts.total for r in tally.question("priority").rows if r.counts.total} == {
        "roads": 1
    }
    assert tally.participation.completed == 1  # satisfaction is now the last question
    breakdown = reports.breakdown(tally, "gender").question("priority")
    assert breakdown.groups[0].id == "woman" and breakdown.groups[0].reached.count == 1


def test_responses_are_read_in_batches_from_the_database(
    central_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    consultation, definition = survey()
    publish(central_engine, definition, CID)
    insert_events(central_engine, generate(consultation, 120, seed=3))
    monkeypatch.setattr("gateway.central.store.responses.STREAM_BATCH", 50)
    seen: list[tuple[object, str]] = []

    def spy(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        seen.append((context.execution_options.get("yield_per"), type(cursor).__name__))

    event.listen(central_engine, "before_cursor_execute", spy)
    try:
        reports = Reports(central_engine, 5)
        stream = reports.responses(reports.consultation(CID))
        seen.clear()
        assert sum(1 for _ in stream) > 500
    finally:
        event.remove(central_engine, "before_cursor_execute", spy)
    batch, cursor = seen[-1]
    assert batch == 50
    if central_engine.dialect.name == "postgresql":
        assert cursor == "ServerCursor"  # a named cursor: rows stay on the server until read
