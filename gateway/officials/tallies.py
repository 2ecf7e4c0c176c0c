"""Read-only SQL on the central store for officials: tallies, breakdowns, responses.

Every count is made by the database; Python receives aggregates (a few hundred rows
at most), except for the responses export, which streams rows from a server-side
cursor. The rules these queries implement are in gateway/officials/results.py.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import (
    CTE,
    ColumnElement,
    Connection,
    Engine,
    Exists,
    FromClause,
    Select,
    Subquery,
    and_,
    case,
    distinct,
    func,
    literal,
    null,
    select,
    text,
    tuple_,
    union_all,
)

from gateway.central.schema import consultations, events, gateways
from gateway.officials.results import BreakdownCount, Participation, TallyCount

STREAM_BATCH = 2000
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


@dataclass(frozen=True)
class ResponseRow:
    event_id: str
    pseudonym: str
    question_id: str
    status: str
    value: str | None
    channel: str
    language: str
    answered_at: datetime
    region: str | None
    gateway: str
    counted: bool


def as_utc(moment: datetime | None) -> datetime | None:
    """SQLite hands timestamps back naive; the central store writes them in UTC."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


# --- the counting rule in SQL ---------------------------------------------------------------
#
# A participant's final state for a question is their latest event for it (greatest
# answered_at, then greatest event_id). Rather than ranking every event and keeping the
# first (a sort of the whole consultation, seconds at a million events), a tally counts
# every event and takes away the *superseded* ones: events with a later event of the
# same participant for the same question. Changed answers are a small share of all
# answers, so that part stays small. Finding them takes one ordered pass over
# ix_events_tally, done the way each database does it fastest (results are the same,
# and the tests check both against an independent recount):
#
# - PostgreSQL: LEAD() over the index read in order (no table access, no sort), then
#   the few superseded events fetched by id.
# - SQLite, whose window functions are slow: the (question, participant) pairs with more
#   than one event, grouped straight off the index, then a probe for a later event of
#   each of their events.

WINDOWED = "postgresql"


def _later(event: FromClause, consultation_id: str) -> Exists:
    """EXISTS a later event of the same participant for the same question as `event`."""
    later = events.alias("later")
    return (
        select(later.c.event_id)  # not *, so that the index alone answers
        .where(
            later.c.consultation_id == consultation_id,
            later.c.question_id == event.c.question_id,
            later.c.pseudonym == event.c.pseudonym,
            tuple_(later.c.answered_at, later.c.event_id)
            > tuple_(event.c.answered_at, event.c.event_id),
        )
        .exists()
    )


def _next_event(consultation_id: str) -> Subquery:
    """Each event's id with the id of the next event of the same pair (NULL if none)."""
    e = events.c
    following = func.lead(e.event_id).over(
        partition_by=(e.question_id, e.pseudonym), order_by=(e.answered_at, e.event_id)
    )
    return (
        select(e.event_id, following.label("next_event"))
        .where(e.consultation_id == consultation_id)
        .subquery("sequence")
    )


def _superseded(consultation_id: str, dialect: str) -> CTE:
    """The consultation's events that do not count: each has a later event."""
    event = events.alias("replaced")
    columns = (
        event.c.event_id,
        event.c.question_id,
        event.c.pseudonym,
        event.c.status,
        event.c.value,
        event.c.channel,
        event.c.region,
    )
    if dialect == WINDOWED:
        sequence = _next_event(consultation_id)
        ids = (
            select(sequence.c.event_id)
            .where(sequence.c.next_event.is_not(None))
            .cte("superseded_ids")
            .prefix_with("MATERIALIZED")
        )
        # LATERAL with LIMIT 1 (the key is unique anyway), which the planner cannot
        # flatten into a join: one primary-key look-up per superseded event, never a
        # hash of every event of the consultation.
        fetched = (
            select(*columns).where(event.c.event_id == ids.c.event_id).limit(1).lateral("fetched")
        )
        query = select(*fetched.c).select_from(ids.join(fetched, literal(True)))
    else:
        e = events.c
        pairs = (
            select(e.question_id, e.pseudonym)
            .where(e.consultation_id == consultation_id)
            .group_by(e.question_id, e.pseudonym)
            .having(func.count() > 1)
            .subquery("changed_pairs")
        )
        # An outer join (the EXISTS below drops its empty rows) keeps SQLite from
        # scanning every event and probing each: it reads the few changed pairs first.
        joined = pairs.outerjoin(
            event,
            and_(
                event.c.consultation_id == consultation_id,
                event.c.question_id == pairs.c.question_id,
                event.c.pseudonym == pairs.c.pseudonym,
            ),
        )
        query = select(*columns).select_from(joined).where(_later(event, consultation_id))
    # MATERIALIZED: computed once, and never merged into the query that uses it.
    return query.cte("superseded").prefix_with("MATERIALIZED")


def _final_answers(consultation_id: str, question_id: str, superseded: CTE) -> CTE:
    """pseudonym -> answer, for participants whose final state for the question is an
    answer (the grouping of a breakdown by that question)."""
    event = events.alias("grouping_event")
    return (
        # One final event per participant: max() only says so, letting SQLite index
        # this by pseudonym for the join (it scans it once per event otherwise).
        select(event.c.pseudonym, func.max(event.c.value).label("grp"))
        .where(
            event.c.consultation_id == consultation_id,
            event.c.question_id == question_id,
            event.c.status == "answered",
            ~select(superseded.c.event_id)
            .where(superseded.c.event_id == event.c.event_id)
            .exists(),
        )
        .group_by(event.c.pseudonym)
        .cte("grouping")
        .prefix_with("MATERIALIZED")
    )


def _answer_value(source: FromClause, text_questions: Collection[str]) -> ColumnElement:
    """The value that names a tally row: the answer of an answered choice, yes/no or
    scale question; NULL otherwise (free texts are counted together, not one by one)."""
    answered = source.c.status == "answered"
    if text_questions:
        answered = and_(answered, source.c.question_id.not_in(list(text_questions)))
    return case((answered, source.c.value), else_=None)


def _net(parts: list[Select], keys: int) -> Select:
    """Sum the signed counts of `parts` (first `keys` columns, then `n`) per key."""
    union = union_all(*parts).subquery("signed")
    columns = list(union.c)[:keys]
    return (
        select(*columns, func.sum(union.c.n).label("n"))
        .group_by(*columns)
        .having(func.sum(union.c.n) != 0)
    )


class TallyStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name

    @contextmanager
    def _counting(self) -> Iterator[Connection]:
        """A connection for the aggregate queries. On PostgreSQL, more memory per sort
        and hash (this transaction only), so that grouping a million events by
        participant stays in memory."""
        with self.engine.connect() as conn:
            if self.dialect == "postgresql":
                conn.execute(text(f"SET LOCAL work_mem = '{COUNTING_WORK_MEM}'"))
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
        e = events.c
        where = [] if consultation_id is None else [e.consultation_id == consultation_id]
        with self._counting() as conn:
            per_channel = conn.execute(
                select(
                    e.consultation_id,
                    e.channel,
                    func.count(distinct(e.pseudonym)).label("people"),
                    func.count().label("responses"),
                )
                .where(*where)
                .group_by(e.consultation_id, e.channel)
            ).all()
            overall = conn.execute(
                select(
                    e.consultation_id,
                    func.count(distinct(e.pseudonym)).label("people"),
                    func.max(e.answered_at).label("latest"),
                )
                .where(*where)
                .group_by(e.consultation_id)
            ).all()
        channels: dict[str, dict[str, tuple[int, int]]] = {}
        for row in per_channel:
            channels.setdefault(row.consultation_id, {})[row.channel] = (row.people, row.responses)
        result = {}
        for row in overall:
            mine = channels.get(row.consultation_id, {})
            result[row.consultation_id] = ConsultationActivity(
                participants=row.people,
                participants_sms=mine.get("sms", (0, 0))[0],
                participants_voice=mine.get("voice", (0, 0))[0],
                responses=sum(r for _p, r in mine.values()),
                latest=as_utc(row.latest),
            )
        return result

    # --- tallies --------------------------------------------------------------------------

    def tally_counts(
        self, consultation_id: str, text_questions: Collection[str]
    ) -> list[TallyCount]:
        e = events.c
        texts = list(text_questions)
        if self.dialect == WINDOWED:
            # One parallel scan, hashed by the answer (free texts as one NULL answer).
            every = events.alias("counted_event")
            value = _answer_value(every, texts)
            counted = [
                select(
                    every.c.question_id,
                    every.c.status,
                    value.label("value"),
                    every.c.channel,
                    func.count().label("n"),
                )
                .where(every.c.consultation_id == consultation_id)
                .group_by(every.c.question_id, every.c.status, value, every.c.channel)
            ]
        else:
            # Grouped by the stored columns, so that SQLite reads ix_events_values in
            # order (no sort); free texts apart, so as not to group them one by one.
            answered = case((e.status == "answered", e.value), else_=None)
            counted = [
                select(
                    e.question_id,
                    e.status,
                    answered.label("value"),
                    e.channel,
                    func.count().label("n"),
                )
                .where(e.consultation_id == consultation_id, e.question_id.not_in(texts))
                .group_by(e.question_id, e.status, e.channel, e.value),
                select(
                    e.question_id,
                    e.status,
                    null().label("value"),
                    e.channel,
                    func.count().label("n"),
                )
                .where(e.consultation_id == consultation_id, e.question_id.in_(texts))
                .group_by(e.question_id, e.status, e.channel),
            ]
        gone = _superseded(consultation_id, self.dialect)
        value = _answer_value(gone, texts)
        replaced = select(
            gone.c.question_id,
            gone.c.status,
            value.label("value"),
            gone.c.channel,
            (-func.count()).label("n"),
        ).group_by(gone.c.question_id, gone.c.status, value, gone.c.channel)
        query = _net([*counted, replaced], keys=4)
        with self._counting() as conn:
            return [
                TallyCount(q, status, value, channel, int(n))
                for q, status, value, channel, n in conn.execute(query)
            ]

    def participation(
        self, consultation_id: str, questions: Collection[str], last_question: str | None
    ) -> Participation:
        """See results.py for the definitions; `questions` excludes profile questions.

        One pass over each participant's events (SQLite reads ix_events_people in
        order), and one over the last question's.
        """
        e = events.c
        answered = case(
            (and_(e.status == "answered", e.question_id.in_(list(questions))), 1), else_=0
        )
        people = (
            select(
                func.max(case((e.channel == "sms", 1), else_=0)).label("sms"),
                func.max(case((e.channel == "voice", 1), else_=0)).label("voice"),
                func.max(answered).label("responded"),
            )
            .where(e.consultation_id == consultation_id)
            .group_by(e.pseudonym)
            .subquery("people")
        )
        totals = select(
            func.count(),
            func.coalesce(func.sum(people.c.sms), 0),
            func.coalesce(func.sum(people.c.voice), 0),
            func.coalesce(func.sum(people.c.responded), 0),
        )
        completed = select(func.count(distinct(e.pseudonym))).where(
            e.consultation_id == consultation_id, e.question_id == (last_question or "")
        )
        with self._counting() as conn:
            participants, sms, voice, responded = conn.execute(totals).one()
            return Participation(
                participants=participants,
                participants_sms=int(sms),  # PostgreSQL sums are numeric
                participants_voice=int(voice),
                responded=int(responded),
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
        counted event). Every event counts +1 in its group, every superseded one -1."""
        texts = list(text_questions)
        gone = _superseded(consultation_id, self.dialect)
        grouping = _final_answers(consultation_id, by, gone) if by_question else None

        def signed(source: FromClause, sign: int, where: list[ColumnElement]) -> Select:
            if grouping is not None:
                group = grouping.c.grp
                source_ = source.outerjoin(grouping, grouping.c.pseudonym == source.c.pseudonym)
            else:
                group = source.c.region if by == "region" else source.c.channel
                source_ = source
            value = _answer_value(source, texts)
            count = func.count() if sign > 0 else -func.count()
            return (
                select(
                    source.c.question_id,
                    group.label("grp"),
                    source.c.status,
                    value.label("value"),
                    count.label("n"),
                )
                .select_from(source_)
                .where(*where)
                .group_by(source.c.question_id, group, source.c.status, value)
            )

        every = events.alias("counted_event")
        query = _net(
            [
                signed(every, +1, [every.c.consultation_id == consultation_id]),
                signed(gone, -1, []),
            ],
            keys=4,
        )
        with self._counting() as conn:
            return [
                BreakdownCount(q, grp, status, value, int(n))
                for q, grp, status, value, n in conn.execute(query)
            ]

    # --- responses ------------------------------------------------------------------------

    def responses(self, consultation_id: str) -> Iterator[ResponseRow]:
        """Every event of the consultation, whether it counts, streamed in batches.

        Ordered by question, participant, time and event id, so each participant's
        history for a question is together and its last event is the one that counts.
        """
        e = events.c
        query = (
            select(
                e.event_id,
                e.pseudonym,
                e.question_id,
                e.status,
                e.value,
                e.channel,
                e.language,
                e.answered_at,
                e.region,
                e.gateway,
            )
            .where(e.consultation_id == consultation_id)
            .order_by(e.question_id, e.pseudonym, e.answered_at, e.event_id)
        )
        with self.engine.connect() as conn:
            result = conn.execution_options(yield_per=STREAM_BATCH).execute(query)
            held: tuple | None = None  # a row is counted when the next one starts a new pair
            for row in result:
                if held is not None:
                    yield _response(held, counted=(row[2], row[1]) != (held[2], held[1]))
                held = row
            if held is not None:
                yield _response(held, counted=True)

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
        from sqlalchemy import inspect

        with self.engine.connect() as conn:
            return inspect(conn).has_table(events.name)


def _response(row: tuple, *, counted: bool) -> ResponseRow:
    event_id, pseudonym, question_id, status, value, channel, language, at, region, gateway = row
    return ResponseRow(
        event_id,
        pseudonym,
        question_id,
        status,
        value,
        channel,
        language,
        at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC),
        region,
        gateway,
        counted,
    )
