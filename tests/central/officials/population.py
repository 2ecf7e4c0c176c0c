"""A seeded population answering a consultation, and an independent recount.

The population is written straight into the central `events` table (that table is the
contract between the central store and the officials' side). The recount is plain
Python over the rows of the responses export, sharing no code with the SQL tallies.
"""

from __future__ import annotations

import random
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, insert

from gateway.central.store import final_states
from gateway.central.store.schema import consultations, events
from gateway.consultation.catalogue import parse_consultation
from gateway.consultation.model import Consultation, Question, QuestionType

SURVEY_YAML = (Path(__file__).parent / "survey.yaml").read_text(encoding="utf-8")
REGIONS = ("KE Nairobi", "KE Mombasa", "KE Kisumu", "Garissa", None)
START = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def survey(extra: str = "") -> tuple[Consultation, str]:
    text = SURVEY_YAML + extra
    return parse_consultation(text, "survey.yaml"), text


def publish(engine: Engine, definition: str, consultation_id: str, version: int = 1) -> None:
    with engine.begin() as conn:
        conn.execute(
            insert(consultations).values(
                id=consultation_id,
                version=version,
                definition=definition,
                published_at=START,
            )
        )


def published_survey(engine: Engine, participants: int = 40) -> None:
    """The test survey published as survey-test, with a population answering it."""
    consultation, definition = survey()
    publish(engine, definition, "survey-test")
    insert_events(engine, generate(consultation, participants, seed=5))


def insert_events(engine: Engine, rows: Sequence[Mapping[str, Any]]) -> None:
    """Store events as the central store's receive path does: each batch inserted and
    folded into the final states in one transaction."""
    with engine.begin() as conn:
        for start in range(0, len(rows), 1000):
            batch = list(rows[start : start + 1000])
            conn.execute(insert(events), batch)
            final_states.record(conn, batch)


def event(
    consultation_id: str,
    question_id: str,
    pseudonym: str,
    *,
    status: str = "answered",
    value: str | None = None,
    channel: str = "sms",
    at: datetime = START,
    region: str | None = "KE Nairobi",
    event_id: str | None = None,
    gateway: str = "gw-1",
    language: str = "en",
) -> dict[str, Any]:
    return {
        "event_id": event_id or str(uuid.uuid4()),
        "consultation_id": consultation_id,
        "question_id": question_id,
        "pseudonym": pseudonym,
        "channel": channel,
        "status": status,
        "value": value,
        "raw": value,
        "language": language,
        "answered_at": at,
        "region": region,
        "gateway": gateway,
        "received_at": at + timedelta(minutes=5),
    }


def _answer(rnd: random.Random, question: Question, weights: Sequence[float]) -> str:
    if question.type is QuestionType.CHOICE:
        return rnd.choices([o.id for o in question.options], weights[: len(question.options)])[0]
    if question.type is QuestionType.YES_NO:
        return rnd.choices(["yes", "no"], weights[:2])[0]
    if question.type is QuestionType.SCALE:
        assert question.min is not None and question.max is not None
        return str(rnd.randint(question.min, question.max))
    if rnd.random() < 0.3:
        return f"https://api.twilio.com/recordings/RE{rnd.getrandbits(64):016x}"
    return rnd.choice(["More taps please", "=SUM(A1:A9)", "Maji ni shida", "ok"])


def generate(consultation: Consultation, participants: int, seed: int) -> list[dict[str, Any]]:
    """Participants answering by SMS, voice or both, some changing answers (also to a
    skip or an unreadable reply, also on the other channel, also at the very same
    second), some giving up midway, some skipping profile questions."""
    rnd = random.Random(seed)
    rows: list[dict[str, Any]] = []
    # Skewed answers, so that groups differ and some cells are small.
    weights = [5, 3, 1.5, 0.5]
    for n in range(participants):
        pseudonym = f"{rnd.getrandbits(256):064x}"
        home = rnd.choice(["sms", "sms", "voice"])
        region = rnd.choice(REGIONS)
        language = rnd.choice(consultation.languages)
        at = START + timedelta(minutes=n * 7 + rnd.randint(0, 5))
        for question in consultation.steps:
            if rnd.random() < 0.04:  # stopped here, never reached the rest
                break
            at += timedelta(seconds=rnd.randint(5, 90))
            channel = home if rnd.random() < 0.9 else ("voice" if home == "sms" else "sms")
            roll = rnd.random()
            if question.skippable and roll < 0.15:
                status, value = "skipped", None
            elif roll < 0.2:
                status, value = rnd.choice([("unparsed", None), ("no_answer", None)])
            else:
                status, value = "answered", _answer(rnd, question, weights)
            rows.append(
                event(
                    consultation.id,
                    question.id,
                    pseudonym,
                    status=status,
                    value=value,
                    channel=channel,
                    at=at,
                    region=region,
                    language=language,
                )
            )
            if rnd.random() < 0.15:  # changed their mind later (the same second, now and then)
                later = at if rnd.random() < 0.2 else at + timedelta(hours=rnd.randint(1, 48))
                status2, value2 = rnd.choice(
                    [
                        ("answered", _answer(rnd, question, weights[::-1])),
                        ("answered", _answer(rnd, question, weights)),
                        ("skipped", None) if question.skippable else ("unparsed", None),
                        ("no_answer", None),
                    ]
                )
                rows.append(
                    event(
                        consultation.id,
                        question.id,
                        pseudonym,
                        status=status2,
                        value=value2,
                        channel=rnd.choice(["sms", "voice"]),
                        at=later,
                        region=region,
                        language=language,
                    )
                )
    rnd.shuffle(rows)  # arrival order says nothing
    return rows


# --- the independent recount --------------------------------------------------------------


@dataclass(frozen=True)
class Recount:
    """Expected figures, recomputed from the responses export's rows."""

    final: dict[tuple[str, str], dict[str, str]]  # (question, pseudonym) -> export row
    rows: list[dict[str, str]]

    def row_key(self, consultation: Consultation, row: Mapping[str, str]) -> tuple[str, str]:
        """("option", id) for an answer, else (status, "")."""
        if row["status"] != "answered":
            return row["status"], ""
        question = consultation.question(row["question"])
        assert question is not None
        if question.type is QuestionType.TEXT:
            return "option", "answered"
        return "option", row["answer_id"]

    def tally(self, consultation: Consultation) -> dict[str, Counter[tuple[str, str, str]]]:
        """question -> Counter[(row kind, option, channel)] of final states."""
        result: dict[str, Counter[tuple[str, str, str]]] = defaultdict(Counter)
        for (question_id, _p), row in self.final.items():
            kind, option = self.row_key(consultation, row)
            result[question_id][(kind, option, row["channel"])] += 1
        return result

    def group_of(self, by: str, question_id: str, pseudonym: str) -> str | None:
        if by == "region":
            return self.final[(question_id, pseudonym)]["region"] or None
        if by == "channel":
            return self.final[(question_id, pseudonym)]["channel"]
        profile = self.final.get((by, pseudonym))
        if profile is None or profile["status"] != "answered":
            return None
        return profile["answer_id"]

    def breakdown(
        self, consultation: Consultation, by: str
    ) -> dict[str, Counter[tuple[str | None, str, str]]]:
        """question -> Counter[(group, row kind, option)]."""
        result: dict[str, Counter[tuple[str | None, str, str]]] = defaultdict(Counter)
        for (question_id, pseudonym), row in self.final.items():
            kind, option = self.row_key(consultation, row)
            group = self.group_of(by, question_id, pseudonym)
            result[question_id][(group, kind, option)] += 1
        return result

    def participants(self) -> set[str]:
        return {p for _q, p in self.final}


def recount(rows: Iterable[Mapping[str, str]]) -> Recount:
    """Each participant's latest event per question: greatest answered_at, then event_id."""
    rows = [dict(r) for r in rows]
    final: dict[tuple[str, str], dict[str, str]] = {}
    for row in rows:
        key = (row["question"], row.get("pseudonym") or row["participant"])
        order = (datetime.fromisoformat(row["answered_at"]), row["event_id"])
        best = final.get(key)
        if best is None or order > (
            datetime.fromisoformat(best["answered_at"]),
            best["event_id"],
        ):
            final[key] = row
    return Recount(final, rows)
