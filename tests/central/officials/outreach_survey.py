"""The test survey with outreach texts, open or closed, and a few known answers."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Engine

from gateway.central.officials.reports import Published
from gateway.consultation.model import Consultation
from tests.central.officials.dashboard import CID
from tests.central.officials.population import START, event, insert_events, publish, survey

OPEN_CLOSES = "closes: 2030-12-31T23:59:59+03:00"
CLOSED_CLOSES = "closes: 2026-05-01T00:00:00+03:00"  # a month before the dashboard's NOW
BLOCKS = """timezone: Africa/Nairobi
invitation:
  en: "County services survey: text {keyword} to take part. Reply STOP to stop."
  sw: "Utafiti wa huduma: tuma {keyword} kushiriki. Jibu STOP kuacha."
results:
  en: "{participants} people took part. First: {top_option} ({top_percent}%)."
  sw: "Watu {participants} walishiriki. Kwanza: {top_option} ({top_percent}%)."
"""


def outreach_survey(*, closed: bool = False, embargo: bool = False) -> tuple[Consultation, str]:
    extra = BLOCKS + ("embargo: true\n" if embargo else "")
    consultation, text = survey(extra)
    if closed:
        consultation, text = survey_text(text.replace(OPEN_CLOSES, CLOSED_CLOSES))
    return consultation, text


def survey_text(text: str) -> tuple[Consultation, str]:
    from gateway.consultation.catalogue import parse_consultation

    return parse_consultation(text, "survey.yaml"), text


def published(*, closed: bool = False, embargo: bool = False) -> Published:
    consultation, text = outreach_survey(closed=closed, embargo=embargo)
    return Published(consultation, 1, text, START)


def publish_outreach_survey(engine: Engine, *, closed: bool = False) -> None:
    _consultation, text = outreach_survey(closed=closed)
    publish(engine, text, CID)


def answer_priority(engine: Engine, choices: Sequence[str], language: str = "en") -> None:
    """One participant per choice answers the first question (and only that)."""
    insert_events(engine, [
        event(CID, "priority", f"{n:064x}", value=choice, language=language)
        for n, choice in enumerate(choices, 1)
    ])  # fmt: skip
