"""What the dashboard and the exports ask for: published consultations and their results."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from sqlalchemy import Engine

from gateway.central.officials.breakdowns import (
    Breakdown,
    breakdown_choice,
    breakdown_choices,
    build_breakdown,
)
from gateway.central.officials.tallies import ConsultationTally, build_tally
from gateway.central.store.responses import ResponseRow
from gateway.central.store.tallies import ConsultationActivity, TallyStore
from gateway.consultation.catalogue import parse_consultation
from gateway.consultation.model import Consultation, QuestionType
from gateway.consultation.reading import FlowsInvalid

log = logging.getLogger(__name__)


class UnknownConsultation(LookupError):
    pass


class UnreadableConsultation(ValueError):
    """The published definition no longer validates; its results cannot be labelled."""


@dataclass(frozen=True)
class Published:
    consultation: Consultation
    version: int
    definition: str
    published_at: datetime

    @property
    def id(self) -> str:
        return self.consultation.id

    def embargoed(self, now: datetime) -> bool:
        """Results hidden from the dashboard: an embargoed consultation not yet closed."""
        return self.consultation.embargo and now <= self.consultation.closes


@lru_cache(maxsize=64)
def _parse(consultation_id: str, definition: str) -> Consultation:
    return parse_consultation(definition, f"published consultation {consultation_id}")


class Reports:
    def __init__(self, engine: Engine, small_cell_k: int) -> None:
        self.store = TallyStore(engine)
        self.k = small_cell_k

    def _published(self, row_id: str, version: int, definition: str, at: datetime) -> Published:
        try:
            consultation = _parse(row_id, definition)
        except FlowsInvalid as exc:
            raise UnreadableConsultation(f"{row_id} (version {version}): {exc}") from exc
        return Published(consultation, version, definition, at)

    def consultations(self) -> tuple[list[Published], list[str]]:
        """Published consultations that validate, and an error line for each that does not."""
        found, errors = [], []
        for row in self.store.published():
            try:
                found.append(self._published(row.id, row.version, row.definition, row.published_at))
            except UnreadableConsultation as exc:
                log.error("cannot read published consultation: %s", exc)
                errors.append(str(exc))
        return found, errors

    def consultation(self, consultation_id: str) -> Published:
        row = self.store.published_one(consultation_id)
        if row is None:
            raise UnknownConsultation(consultation_id)
        return self._published(row.id, row.version, row.definition, row.published_at)

    def activity(self, consultation_id: str | None = None) -> dict[str, ConsultationActivity]:
        return self.store.activity(consultation_id)

    def tally(self, published: Published) -> ConsultationTally:
        consultation = published.consultation
        counts = self.store.tally_counts(consultation.id, _text_questions(consultation))
        main = [q.id for q in consultation.questions]
        participation = self.store.participation(consultation.id, main, main[-1] if main else None)
        return build_tally(consultation, counts, participation)

    def breakdown(self, tally: ConsultationTally, by: str, k: int | None = None) -> Breakdown:
        consultation = tally.consultation
        if breakdown_choice(consultation, by) is None:
            raise ValueError(f"cannot break {consultation.id} down by {by!r}")
        counts = self.store.breakdown_counts(
            consultation.id,
            _text_questions(consultation),
            by,
            by_question=consultation.question(by) is not None,
        )
        return build_breakdown(tally, by, counts, self.k if k is None else k)

    def all_breakdowns(self, tally: ConsultationTally) -> list[Breakdown]:
        return [self.breakdown(tally, c.key) for c in breakdown_choices(tally.consultation)]

    def responses(
        self, published: Published, *, release_salt: str | None = None
    ) -> Iterator[ResponseRow]:
        """Every response; with `release_salt`, in the order of that open-data release."""
        return self.store.responses(published.id, release_salt=release_salt)


def _text_questions(consultation: Consultation) -> list[str]:
    return [q.id for q in consultation.steps if q.type is QuestionType.TEXT]
