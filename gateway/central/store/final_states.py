"""Each participant's final state per question, kept up to date as events arrive.

Officials' tallies count final states (gateway/central/officials/tallies.py has the rule: a
participant's latest event for a question is the one that counts). Working that out
from the events at every tally means ranking a million events; instead the central
store keeps the answer in `central_final_states` and `central_participants`
(gateway/central/store/schema.py), updated in the transaction that stores new events.
Events may arrive late and in any order (a gateway offline for a week, two gateways): an
older event never replaces a newer state, so the tables are the same whatever the order
of arrival.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Insert,
    case,
    delete,
    func,
    insert,
    select,
    tuple_,
)

from gateway.central.store.schema import events, final_states, participants
from gateway.database import dialect_insert

STATE_KEY = ("consultation_id", "question_id", "pseudonym")
# The columns of the latest event, replaced together when a newer event arrives.
LATEST = ("event_id", "answered_at", "status", "value", "channel", "region")
PARTICIPANT_KEY = ("consultation_id", "pseudonym")


def record(conn: Connection, stored: Iterable[Mapping[str, Any]]) -> None:
    """Fold newly stored events (each once: call it with the events just inserted,
    never with known ones) into the final states and participants."""
    states: dict[tuple, dict[str, Any]] = {}
    people: dict[tuple, dict[str, Any]] = {}
    for event in stored:
        answered = int(event["status"] == "answered")
        key = tuple(event[name] for name in STATE_KEY)
        held = states.get(key)
        if held is None or _order(event) > _order(held):
            states[key] = {
                **{name: event[name] for name in (*STATE_KEY, *LATEST)},
                "answered_ever": answered | (held["answered_ever"] if held else 0),
            }
        else:
            held["answered_ever"] |= answered
        person = people.setdefault(
            (event["consultation_id"], event["pseudonym"]),
            {
                "consultation_id": event["consultation_id"],
                "pseudonym": event["pseudonym"],
                "by_sms": 0,
                "by_voice": 0,
            },
        )
        person["by_sms"] |= int(event["channel"] == "sms")
        person["by_voice"] |= int(event["channel"] == "voice")
    if states:
        # In key order, so that two batches updating the same rows at once on
        # PostgreSQL wait for each other instead of deadlocking.
        conn.execute(_upsert_states(conn.dialect.name), [states[k] for k in sorted(states)])
        conn.execute(
            _upsert_participants(conn.dialect.name), [people[k] for k in sorted(people)]
        )


def rebuild(conn: Connection) -> None:
    """Compute both tables afresh from every stored event (the upgrade of a store that
    holds events from before they existed; also any repair)."""
    conn.execute(delete(final_states))
    conn.execute(delete(participants))
    e = events.c
    pair = (e.consultation_id, e.question_id, e.pseudonym)
    answered = case((e.status == "answered", 1), else_=0)
    ranked = select(
        *pair,
        *(e[name] for name in LATEST),
        func.max(answered).over(partition_by=pair).label("answered_ever"),
        func.row_number()
        .over(partition_by=pair, order_by=(e.answered_at.desc(), e.event_id.desc()))
        .label("place"),
    ).subquery("ranked")
    columns = [*STATE_KEY, *LATEST, "answered_ever"]
    conn.execute(
        insert(final_states).from_select(
            columns, select(*(ranked.c[name] for name in columns)).where(ranked.c.place == 1)
        )
    )
    conn.execute(
        insert(participants).from_select(
            [*PARTICIPANT_KEY, "by_sms", "by_voice"],
            select(
                e.consultation_id,
                e.pseudonym,
                func.max(case((e.channel == "sms", 1), else_=0)),
                func.max(case((e.channel == "voice", 1), else_=0)),
            ).group_by(e.consultation_id, e.pseudonym),
        )
    )


def _order(event: Mapping[str, Any]) -> tuple:
    return event["answered_at"], event["event_id"]


def _greater(new: ColumnElement, old: ColumnElement) -> ColumnElement:
    """max(new, old) in SQL both dialects read the same way."""
    return case((new > old, new), else_=old)


def _upsert_states(dialect: str) -> Insert:
    statement = dialect_insert(dialect)(final_states)
    new, old = statement.excluded, final_states.c
    newer = tuple_(new.answered_at, new.event_id) > tuple_(old.answered_at, old.event_id)
    updates: dict[str, ColumnElement] = {
        name: case((newer, new[name]), else_=old[name]) for name in LATEST
    }
    updates["answered_ever"] = _greater(new.answered_ever, old.answered_ever)
    # SET expressions all read the row as it was, so `newer` is the same for each column.
    return statement.on_conflict_do_update(index_elements=list(STATE_KEY), set_=updates)


def _upsert_participants(dialect: str) -> Insert:
    statement = dialect_insert(dialect)(participants)
    new, old = statement.excluded, participants.c
    return statement.on_conflict_do_update(
        index_elements=list(PARTICIPANT_KEY),
        set_={
            "by_sms": _greater(new.by_sms, old.by_sms),
            "by_voice": _greater(new.by_voice, old.by_voice),
        },
    )
