"""Read-only SQL on the central store for officials: tallies, breakdowns, activity.

Every count is made by the database; Python receives aggregates (a few hundred rows
at most). The responses themselves stream from responses.py. The rules these queries
implement are in gateway/central/officials/tallies.py and breakdowns.py.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    FromClause,
    and_,
    case,
    func,
    null,
    select,
    text,
    union_all,
)

from gateway.central.officials.breakdowns import BreakdownCount
from gateway.central.officials.tallies import Participation, TallyCount
from gateway.central.store.responses import ResponseStore
from gateway.central.store.schema import consultations, events, final_states, gateways, participants

COUNTING_WORK_MEM = "64MB"


@dataclass(frozen=True)
class PublishedRow:
    id: str
    version: int
    definition: str
    published_at: datetime


@dataclass(frozen=True)
class ConsultationActivity:
    participants: int  # distinct pseudonyms
    participants_sms: int
    participants_voice: int
    responses: int  # response events received
    latest: datetime | None  # newest answered_at


@dataclass(frozen=True)
class GatewayHealth:
    name: str
    last_contact_at: datetime | None
    newest_event_at: datetime | None
    backlog: int | None
    events: int  # events of this consultation received from it
    last_received_at: datetime | None


def as_utc(moment: datetime | None) -> datetime | None:
    """SQLite hands timestamps back naive; the central store writes them in UTC."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


# --- the counting rule in SQL ---------------------------------------------------------------
#
# A participant's final state for a question is their latest event for it. The central
# store keeps those states in `final_states` as events arrive
# (gateway/central/store/final_states.py), so every count here is one pass over one row per
# participant and question.


def _answer_value(source: FromClause, text_questions: Collection[str]) -> ColumnElement:
    """The value that names a tally row: the answer of an answered choice, yes/no or
    scale question; NULL otherwise (free texts are counted together, not one by one)."""
    answered = source.c.status == "answered"
    if text_questions:
        answered = and_(answered, source.c.question_id.not_in(list(text_questions)))
    return case((answered, source.c.value), else_=None)


class TallyStore(ResponseStore):
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name

    @contextmanager
    def _counting(self) -> Iterator[Connection]:
        """A connection for the aggregate queries. On PostgreSQL (this transaction only):
        more memory per sort and hash, so that grouping a million rows by participant
        stays in memory; and no JIT compilation, which these short scans spend more
        time compiling for (about 0.2 s a query at a million rows) than it saves."""
        with self.engine.connect() as conn:
            if self.dialect == "postgresql":
                conn.execute(text(f"SET LOCAL work_mem = '{COUNTING_WORK_MEM}'"))
                conn.execute(text("SET LOCAL jit = off"))
            yield conn

    # --- consultations --------------------------------------------------------------------

    def published(self) -> list[PublishedRow]:
        c = consultations.c
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(c.id, c.version, c.definition, c.published_at).order_by(c.id)
            ).all()
        return [PublishedRow(r.id, r.version, r.definition, as_utc(r.published_at)) for r in rows]

    def published_one(self, consultation_id: str) -> PublishedRow | None:
        c = consultations.c
        with self.engine.connect() as conn:
            row = conn.execute(
                select(c.id, c.version, c.definition, c.published_at).where(c.id == consultation_id)
            ).first()
        if row is None:
            return None
        return PublishedRow(row.id, row.version, row.definition, as_utc(row.published_at))

    def activity(self, consultation_id: str | None = None) -> dict[str, ConsultationActivity]:
        """Participants and responses so far, for every consultation with events (or
        only `consultation_id`)."""
        p = participants.c
        e = events.c
        with self._counting() as conn:
            people = conn.execute(
                select(
                    p.consultation_id,
                    func.count(),
                    func.coalesce(func.sum(p.by_sms), 0),
                    func.coalesce(func.sum(p.by_voice), 0),
                )
                .where(*_only(p.consultation_id, consultation_id))
                .group_by(p.consultation_id)
            ).all()
            received = conn.execute(
                select(e.consultation_id, func.count(), func.max(e.answered_at))
                .where(*_only(e.consultation_id, consultation_id))
                .group_by(e.consultation_id)
            ).all()
        totals = {cid: (n, latest) for cid, n, latest in received}
        return {
            cid: ConsultationActivity(
                participants=n,
                participants_sms=int(sms),  # PostgreSQL sums are numeric
                participants_voice=int(voice),
                responses=totals.get(cid, (0, None))[0],
                latest=as_utc(totals.get(cid, (0, None))[1]),
            )
            for cid, n, sms, voice in people
        }

    # --- tallies --------------------------------------------------------------------------

    def tally_counts(
        self, consultation_id: str, text_questions: Collection[str]
    ) -> list[TallyCount]:
        f = final_states.c
        texts = list(text_questions)
        answer = case((f.status == "answered", f.value), else_=None)
        mine = f.consultation_id == consultation_id
        # Grouped by the stored columns, so that SQLite reads ix_central_final_states_values in
        # order (no sort; PostgreSQL hashes either way); free texts apart, counted
        # together rather than one group per text.
        query = union_all(
            select(f.question_id, f.status, answer, f.channel, func.count())
            .where(mine, f.question_id.not_in(texts))
            .group_by(f.question_id, f.status, f.channel, f.value),
            select(f.question_id, f.status, null(), f.channel, func.count())
            .where(mine, f.question_id.in_(texts))
            .group_by(f.question_id, f.status, f.channel),
        )
        counts: dict[tuple, int] = {}
        with self._counting() as conn:
            for q, status, value, channel, n in conn.execute(query):
                key = (q, status, value, channel)  # a status row may come from many values
                counts[key] = counts.get(key, 0) + n
        return [TallyCount(*key, n) for key, n in counts.items()]

    def participation(
        self, consultation_id: str, questions: Collection[str], last_question: str | None
    ) -> Participation:
        """See results.py for the definitions; `questions` excludes profile questions."""
        p = participants.c
        f = final_states.c
        totals = select(
            func.count(),
            func.coalesce(func.sum(p.by_sms), 0),
            func.coalesce(func.sum(p.by_voice), 0),
        ).where(p.consultation_id == consultation_id)
        # Grouped, then counted: PostgreSQL hashes the groups, where count(DISTINCT)
        # would sort, and a probe per participant costs more than either.
        answered = (
            select(f.pseudonym)
            .where(
                f.consultation_id == consultation_id,
                f.answered_ever == 1,
                f.question_id.in_(list(questions)),
            )
            .group_by(f.pseudonym)
            .subquery("answered")
        )
        responded = select(func.count()).select_from(answered)
        completed = select(func.count()).where(
            f.consultation_id == consultation_id, f.question_id == (last_question or "")
        )
        with self._counting() as conn:
            people, sms, voice = conn.execute(totals).one()
            return Participation(
                participants=people,
                participants_sms=int(sms),  # PostgreSQL sums are numeric
                participants_voice=int(voice),
                responded=conn.execute(responded).scalar_one(),
                completed=conn.execute(completed).scalar_one() if last_question else 0,
            )

    def breakdown_counts(
        self,
        consultation_id: str,
        text_questions: Collection[str],
        by: str,
        *,
        by_question: bool,
    ) -> list[BreakdownCount]:
        """Final states per question, grouped by `by`: a question id (the participant's
        final answer to it, NULL when it is not an answer), "region" or "channel" (of the
        counted event)."""
        state = final_states.alias("state")
        source: FromClause = state
        if by_question:
            grouping = final_states.alias("grouping")
            source = state.outerjoin(
                grouping,
                and_(
                    grouping.c.consultation_id == consultation_id,
                    grouping.c.question_id == by,
                    grouping.c.pseudonym == state.c.pseudonym,
                    grouping.c.status == "answered",
                ),
            )
            group = grouping.c.value
        else:
            group = state.c.region if by == "region" else state.c.channel
        value = _answer_value(state, text_questions)
        query = (
            select(state.c.question_id, group, state.c.status, value, func.count())
            .select_from(source)
            .where(state.c.consultation_id == consultation_id)
            .group_by(state.c.question_id, group, state.c.status, value)
        )
        with self._counting() as conn:
            return [
                BreakdownCount(q, grp, status, answer, int(n))
                for q, grp, status, answer, n in conn.execute(query)
            ]

    # --- gateways -------------------------------------------------------------------------

    def gateway_health(self, consultation_id: str) -> list[GatewayHealth]:
        """Every gateway's last sync, with what it sent of this consultation."""
        g = gateways.c
        e = events.c
        with self.engine.connect() as conn:
            known = conn.execute(
                select(g.name, g.last_contact_at, g.newest_event_at, g.backlog).order_by(g.name)
            ).all()
            sent = conn.execute(
                select(e.gateway, func.count(), func.max(e.received_at))
                .where(e.consultation_id == consultation_id)
                .group_by(e.gateway)
            ).all()
        received = {name: (n, as_utc(latest)) for name, n, latest in sent}
        health = [
            GatewayHealth(
                row.name,
                as_utc(row.last_contact_at),
                as_utc(row.newest_event_at),
                row.backlog,
                *received.pop(row.name, (0, None)),
            )
            for row in known
        ]
        # Events from a gateway no longer registered still count; show where they came from.
        health += [
            GatewayHealth(name, None, None, None, n, latest)
            for name, (n, latest) in sorted(received.items())
        ]
        return health

    def has_tables(self) -> bool:
        """Whether this is a central store: it has the events table, under its name or
        under the one it had before the `central_` prefix (renamed by create_schema)."""
        from sqlalchemy import inspect

        from gateway.central.store.upgrade import under_previous_names

        with self.engine.connect() as conn:
            return inspect(conn).has_table(events.name) or bool(
                under_previous_names(conn, [events])
            )


def _only(column: ColumnElement, consultation_id: str | None) -> list[ColumnElement]:
    """WHERE terms limiting `column` (a consultation_id) to one consultation, if given."""
    return [] if consultation_id is None else [column == consultation_id]
