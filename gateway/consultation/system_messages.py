"""Messages that belong to no one consultation (STOP's confirmation, the keyword list,
the voice line's consultation menu), in any language a consultation brings."""

from __future__ import annotations

from gateway.consultation.messages import builtin_message, has_builtin
from gateway.consultation.model import Catalog


def catalog_message(catalog: Catalog, name: str, language: str, **values: object) -> str:
    """Built in, or, in a language CivicLine does not ship, as a consultation in that
    language gives it (`checking` makes each such consultation give every message)."""
    if not has_builtin(name, language):
        for consultation in catalog.consultations:
            if language in consultation.languages:
                return consultation.message(name, language, **values)
    return builtin_message(name, language).format(**values)
