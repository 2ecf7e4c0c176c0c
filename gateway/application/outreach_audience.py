"""Who an outreach reaches from this gateway, who it leaves out and why, and what that
costs (the preview of docs/outreach.md §3).

Always left out: opted-out numbers (STOP), numbers the provider refused for good
(suppressions), contacts without a recorded consent basis, and anyone this outreach
already reached (a row past `pending`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine

from gateway.application.regions import region_for
from gateway.consultation import segments
from gateway.store.audience import AudienceStore, Candidate
from gateway.store.contacts import ContactStore
from gateway.store.outbound import OutboundStore, RowState
from gateway.sync.outreach_definition import OutreachDefinition

EXCLUSIONS = ("opted_out", "contacted_already", "invalid_number", "unreachable",
              "no_consent_basis")
SUPPRESSION_EXCLUSION = {"invalid_number": "invalid_number", "not_mobile": "unreachable",
                         "unreachable": "unreachable"}


@dataclass(frozen=True)
class Recipient:
    pseudonym: str
    phone: str
    language: str  # the text's language
    channel: str
    body: str


@dataclass
class Resolution:
    recipients: list[Recipient] = field(default_factory=list)  # to send (no row, or pending)
    excluded: Counter[str] = field(default_factory=Counter)  # people, by reason

    def preview(self) -> dict[str, Any]:
        by_group = Counter((r.language, r.channel) for r in self.recipients)
        sms = [r.body for r in self.recipients if r.channel == "sms"]
        per_message = max((segments.segment_count(body) for body in set(sms)), default=0)
        encoding = "UCS-2" if any(segments.encoding(b) == "UCS-2" for b in set(sms)) \
            else "GSM-7"
        return {
            "recipients": [{"language": lang, "channel": channel, "count": count}
                           for (lang, channel), count in sorted(by_group.items())],
            "segments": {"encoding": encoding, "per_message": per_message,
                         "total": sum(segments.segment_count(body) for body in sms)},
            "excluded": {reason: self.excluded.get(reason, 0) for reason in EXCLUSIONS},
        }


def text_language(definition: OutreachDefinition, language: str | None) -> str:
    """The language of the text a recipient gets: theirs, else the outreach's first."""
    if language and language in definition.texts:
        return language
    return next(iter(definition.texts))


def _candidates(definition: OutreachDefinition, store: AudienceStore) -> Iterable[Candidate]:
    audience = definition.audience
    if audience.source == "contacts":
        return store.contacts_of(audience.list or "")
    found = store.participants_of(definition.consultation_id)
    if audience.participants == "completed":
        return (c for c in found if c.completed)
    if audience.participants == "not_completed":
        return (c for c in found if not c.completed)
    return found


def _chosen(definition: OutreachDefinition, candidate: Candidate,
            region_prefixes: Mapping[str, str]) -> bool:
    audience = definition.audience
    if audience.languages is not None and candidate.language not in audience.languages:
        return False
    if audience.regions is not None:
        region = candidate.region or region_for(candidate.phone, region_prefixes)
        return region in audience.regions
    return True


def resolve(definition: OutreachDefinition, engine: Engine,
            region_prefixes: Mapping[str, str]) -> Resolution:
    """The audience as this gateway holds it now."""
    chosen = [c for c in _candidates(definition, AudienceStore(engine))
              if _chosen(definition, c, region_prefixes)]
    suppressed = ContactStore(engine).suppressions(c.phone for c in chosen)
    states = OutboundStore(engine).states(definition.id)
    resolution = Resolution()
    for candidate in chosen:
        reason = _excluded_because(candidate, suppressed, states, definition.channels)
        if reason is not None:
            resolution.excluded[reason] += 1
            continue
        language = text_language(definition, candidate.language)
        for channel in definition.channels:
            if states.get((candidate.pseudonym, channel), RowState.PENDING) == RowState.PENDING:
                resolution.recipients.append(Recipient(
                    candidate.pseudonym, candidate.phone, language, channel,
                    definition.texts[language]))
    return resolution


def _excluded_because(candidate: Candidate, suppressed: Mapping[str, str],
                      states: Mapping[tuple[str, str], str],
                      channels: Iterable[str]) -> str | None:
    if candidate.opted_out:
        return "opted_out"
    if candidate.phone in suppressed:
        return SUPPRESSION_EXCLUSION.get(suppressed[candidate.phone], "unreachable")
    if candidate.basis is not None and not candidate.basis.strip():
        return "no_consent_basis"
    if all(states.get((candidate.pseudonym, channel), RowState.PENDING) != RowState.PENDING
           for channel in channels):
        return "contacted_already"
    return None
