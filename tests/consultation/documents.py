"""A valid consultation document to break one part at a time, and ways to read the errors.

Shared by the tests of reading, checking, question_checking, value_checking, authoring
and catalogue: each changes a copy of BASE and expects the errors of exactly that change.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from gateway.consultation.catalogue import load_catalog, parse_consultation
from gateway.consultation.reading import FlowsInvalid

BASE: dict[str, Any] = {
    "id": "water-2026",
    "title": {"en": "Water survey", "sw": "Utafiti wa maji"},
    "keywords": ["WATER", "maji"],
    "languages": ["en", "sw"],
    "opens": "2026-12-01T00:00:00+03:00",
    "closes": "2027-01-31T23:59:59+03:00",
    "voice": {"numbers": ["+254700000001"], "callback": True},
    "questions": [
        {
            "id": "priority",
            "type": "choice",
            "prompt": {"en": "Fix first?", "sw": "Kwanza nini?"},
            "options": [
                {
                    "id": "water",
                    "label": {"en": "Water points", "sw": "Vituo vya maji"},
                    "aliases": {"en": ["tap", "kiosk"], "sw": ["bomba"]},
                },
                {"id": "roads", "label": {"en": "Roads", "sw": "Barabara"}},
            ],
        },
        {
            "id": "satisfaction",
            "type": "scale",
            "min": 1,
            "max": 5,
            "prompt": {"en": "Satisfied?", "sw": "Umeridhika?"},
        },
        {
            "id": "comment",
            "type": "text",
            "optional": True,
            "prompt": {"en": "Comment?", "sw": "Maoni?"},
        },
    ],
    "profile": [
        {
            "id": "disability",
            "type": "yes_no",
            "prompt": {"en": "Disability?", "sw": "Ulemavu?"},
        }
    ],
}


def document(**changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(BASE)
    data.update(changes)
    return data


def dump(data: Any) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def errors_of(text: str, source: str = "flows/water.yaml") -> list[str]:
    with pytest.raises(FlowsInvalid) as caught:
        parse_consultation(text, source)
    return [str(error) for error in caught.value.errors]


def only_error(data: Any) -> str:
    errors = errors_of(dump(data))
    assert len(errors) == 1, errors
    return errors[0]


def question(index: int, data: dict[str, Any]) -> dict[str, Any]:
    return data["questions"][index]


def write(directory: Path, name: str, data: Any) -> Path:
    path = directory / name
    path.write_text(dump(data), encoding="utf-8")
    return path


def catalog_errors(paths: list[Path]) -> list[str]:
    with pytest.raises(FlowsInvalid) as caught:
        load_catalog(paths)
    return [str(error) for error in caught.value.errors]


def unseen_language(code: str, skip: str = "pass") -> dict[str, Any]:
    """What a language CivicLine does not ship must give: every text (here just the
    title, which every message may name) and its settings."""
    from gateway.consultation.messages import PLACEHOLDERS

    return {
        "messages": {name: {code: "{title}"} for name in PLACEHOLDERS},
        "language_settings": {
            code: {
                "name": f"lang-{code}",
                "yes": [f"yes{code}"],
                "no": [f"no{code}"],
                "words": {"stop": [f"stop{code}"], "start": [f"start{code}"],
                          "help": [f"help{code}"], "skip": [skip + code],
                          "lang": [f"lang{code}"]},
                "voice": "Polly.Test",
                "tts_language": f"{code}-XX",
            }
        },
    }
