"""Read-only SQL on the central store for officials: tallies, breakdowns, responses.

Every count is made by the database; Python receives aggregates (a few hundred rows
at most), except for the responses export, which streams rows from a server-side
cursor. The rules these queries implement are in gateway/officials/results.py.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import (
    Engine,
    Select,
    Subquery,
    and_,
    case,
    distinct,
    func,
    select,
)

from gateway.central.schema import consultations, events, gateways
from gateway.officials.results import BreakdownCount, Participation, TallyCount

STREAM_BATCH = 2000


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


def _ranked(consultation_id: str, question_id: str | None = None) -> Select:
    """Events with `rn` = 1 for each participant's latest event per question.

    Latest: greatest answered_at, then greatest event_id, so ties have one winner.
    """
    e = events.c
    rn = func.row_number().over(
        partition_by=(e.question_id, e.pseudonym),
        order_by=(e.answered_at.desc(), e.event_id.desc()),
    )
    query = select(
        e.event_id,
        e.question_id,
        e.pseudonym,
        e.channel,
        e.status,
        e.value,
        e.language,
        e.answered_at,
        e.region,
        e.gateway,
        rn.label("rn"),
    ).where(e.consultation_id == consultation_id)
    if question_id is not None:
        query = query.where(e.question_id == question_id)
    return query


def _final(consultation_id: str, question_id: str | None = None, name: str = "final") -> Subquery:
    ranked = _ranked(consultation_id, question_id).subquery(f"{name}_ranked")
    return (
        select(
            ranked.c.question_id,
            ranked.c.pseudonym,
            ranked.c.channel,
            ranked.c.status,
            ranked.c.value,
            ranked.c.region,
        )
        .where(ranked.c.rn == 1)
        .subquery(name)
    )


def _answer_value(final: Subquery, text_questions: Collection[str]):  # type: ignore[no-untyped-def]
    """The value that names a row: the answer of answered non-text questions, else NULL
    (free texts are counted together, never grouped one by one)."""
    answered = final.c.status == "answered"
    if text_questions:
        answered = and_(answered, final.c.question_id.not_in(list(text_questions)))
    return case((answered, final.c.value), else_=None)


class TallyStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

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

    def activity(self) -> dict[str, ConsultationActivity]:
        """Participants and responses so far, for every consultation with events."""
        e = events.c
        with self.engine.connect() as conn:
            per_channel = conn.execute(
                select(
                    e.consultation_id,
                    e.channel,
                    func.count(distinct(e.pseudonym)).label("people"),
                    func.count().label("responses"),
                ).group_by(e.consultation_id, e.channel)
            ).all()
            overall = conn.execute(
                select(
                    e.consultation_id,
                    func.count(distinct(e.pseudonym)).label("people"),
                    func.max(e.answered_at).label("latest"),
                ).group_by(e.consultation_id)
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
        final = _final(consultation_id)
        value = _answer_value(final, text_questions).label("value")
        query = select(
            final.c.question_id, final.c.status, value, final.c.channel, func.count()
        ).group_by(final.c.question_id, final.c.status, value, final.c.channel)
        with self.engine.connect() as conn:
            return [TallyCount(*row) for row in conn.execute(query)]

    def participation(
        self, consultation_id: str, questions: Collection[str], last_question: str | None
    ) -> Participation:
        """See results.py for the definitions; `questions` excludes profile questions."""
        e = events.c
        final = _final(consultation_id)
        responded = select(func.count(distinct(final.c.pseudonym))).where(
            final.c.status == "answered", final.c.question_id.in_(list(questions))
        )
        completed = select(func.count(distinct(e.pseudonym))).where(
            e.consultation_id == consultation_id, e.question_id == (last_question or "")
        )
        people = (
            select(e.channel, func.count(distinct(e.pseudonym)))
            .where(e.consultation_id == consultation_id)
            .group_by(e.channel)
        )
        total = select(func.count(distinct(e.pseudonym))).where(
            e.consultation_id == consultation_id
        )
        with self.engine.connect() as conn:
            by_channel = {channel: n for channel, n in conn.execute(people)}
            return Participation(
                participants=conn.execute(total).scalar_one(),
                participants_sms=by_channel.get("sms", 0),
                participants_voice=by_channel.get("voice", 0),
                responded=conn.execute(responded).scalar_one() if questions else 0,
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
        final answer to it, NULL when not answered), "region" or "channel" (of the
        counted event)."""
        final = _final(consultation_id)
        value = _answer_value(final, text_questions).label("value")
        if by_question:
            profile = _final(consultation_id, by, name="grouping")
            group = case((profile.c.status == "answered", profile.c.value), else_=None)
            source = final.outerjoin(profile, profile.c.pseudonym == final.c.pseudonym)
        else:
            group = final.c.region if by == "region" else final.c.channel
            source = final
        group = group.label("grp")
        query = (
            select(final.c.question_id, group, final.c.status, value, func.count())
            .select_from(source)
            .group_by(final.c.question_id, group, final.c.status, value)
        )
        with self.engine.connect() as conn:
            return [BreakdownCount(*row) for row in conn.execute(query)]

    # --- responses ------------------------------------------------------------------------

    def responses(self, consultation_id: str) -> Iterator[ResponseRow]:
        """Every event of the consultation, whether it counts, streamed in batches.

        Ordered by question, participant and time, so each participant's history for a
        question is together and the counted event is the last of it.
        """
        ranked = _ranked(consultation_id).subquery("ranked")
        r = ranked.c
        query = select(
            r.event_id,
            r.pseudonym,
            r.question_id,
            r.status,
            r.value,
            r.channel,
            r.language,
            r.answered_at,
            r.region,
            r.gateway,
            (r.rn == 1).label("counted"),
        ).order_by(r.question_id, r.pseudonym, r.answered_at, r.event_id)
        with self.engine.connect() as conn:
            result = conn.execution_options(yield_per=STREAM_BATCH).execute(query)
            for row in result:
                yield ResponseRow(
                    row.event_id,
                    row.pseudonym,
                    row.question_id,
                    row.status,
                    row.value,
                    row.channel,
                    row.language,
                    as_utc(row.answered_at),  # type: ignore[arg-type]
                    row.region,
                    row.gateway,
                    bool(row.counted),
                )

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
