"""Recorded human prompts: `<flows dir>/audio/<consultation>/<language>/<name>.(mp3|wav)`.

`<name>` is a question id (the question's prompt) or `<question id>.options` (the keys
read out after it). A recording, when present, replaces text-to-speech for that part.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from gateway.consultation.model import Consultation

AUDIO_DIR_NAME = "audio"
MIMETYPES: dict[str, str] = {".mp3": "audio/mpeg", ".wav": "audio/wav"}
AUDIO_EXTENSIONS: tuple[str, ...] = tuple(MIMETYPES)  # in order of preference
OPTIONS_SUFFIX = ".options"


def audio_dir(flows_dir: Path) -> Path:
    return flows_dir / AUDIO_DIR_NAME


def find_prompt(base: Path, consultation_id: str, language: str, name: str) -> str | None:
    """The file name of the recording of prompt `name`, or None when there is none."""
    folder = base / consultation_id / language
    for extension in AUDIO_EXTENSIONS:
        if (folder / f"{name}{extension}").is_file():
            return f"{name}{extension}"
    return None


def recorded_prompts(base: Path, consultation_id: str) -> dict[str, set[str]] | None:
    """Language -> names of the prompts recorded; None when the consultation has no folder."""
    folder = base / consultation_id
    if not folder.is_dir():
        return None
    recorded: dict[str, set[str]] = {}
    for language_dir in sorted(p for p in folder.iterdir() if p.is_dir()):
        recorded[language_dir.name] = {
            p.stem for p in language_dir.iterdir() if p.is_file() and p.suffix in MIMETYPES
        }
    return recorded


def missing_recording_warnings(
    consultation: Consultation, recorded: Mapping[str, set[str]] | None
) -> list[str]:
    """Which prompts lack a recording in which language, and recordings that match nothing.

    No audio folder at all (`recorded` None) is a consultation read by text-to-speech
    throughout, a choice rather than an omission: no warning.
    """
    if recorded is None:
        return []
    cid = consultation.id
    questions = [q.id for q in consultation.steps]
    known = set(questions) | {f"{q}{OPTIONS_SUFFIX}" for q in questions}
    warnings = []
    for language in consultation.languages:
        names = recorded.get(language, set())
        missing = [q for q in questions if q not in names]
        if missing:
            warnings.append(
                f"{cid} {language}: no recorded prompt for {', '.join(missing)} "
                f"(text-to-speech reads them; add {AUDIO_DIR_NAME}/{cid}/{language}/"
                "<question id>.mp3 or .wav)"
            )
    for language, names in sorted(recorded.items()):
        if language not in consultation.languages:
            warnings.append(
                f"{cid}: {AUDIO_DIR_NAME}/{cid}/{language}/ is not one of the consultation's "
                f"languages ({', '.join(consultation.languages)}); its recordings are not played"
            )
            continue
        for name in sorted(names - known):
            warnings.append(
                f"{cid} {language}: recording {name!r} matches no question id "
                "(or <question id>.options); it is not played"
            )
    return warnings


def prompt_recording_warnings(consultation: Consultation) -> list[str]:
    """A flows_check warning producer: the audio folder beside the consultation's file."""
    if not consultation.source:
        return []
    base = audio_dir(Path(consultation.source).parent)
    return missing_recording_warnings(consultation, recorded_prompts(base, consultation.id))
