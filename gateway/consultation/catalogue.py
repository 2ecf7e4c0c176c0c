"""Consultations from files: one text, one file, or the catalogue of a set of paths.

The entry points (`parse_consultation`, `load_file`, `scan_catalog`, `load_catalog`),
which files a path holds (a directory's *.yaml and *.yml), and the checks across files:
an id, a keyword or a voice number belongs to one file only. Each file is read by
`reading` and checked by `checking`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from gateway.consultation.checking import Identity, check_text
from gateway.consultation.model import Catalog, Consultation
from gateway.consultation.reading import FlowError, FlowsInvalid, read_file

FLOW_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True)
class CatalogScan:
    """What a set of paths holds: the files read, the valid consultations, all errors."""

    files: tuple[str, ...]
    consultations: tuple[Consultation, ...]
    errors: list[FlowError] = field(default_factory=list)


def parse_consultation(text: str, source: str, *, authoring: bool = False) -> Consultation:
    """Parse and validate one consultation; raises FlowsInvalid with every error found.

    `authoring`: the text is being written or published, not read back from a store, so
    the rules added since consultations were first published apply too (`authoring`).
    """
    consultation, errors, _ = check_text(text, source, authoring)
    if errors or consultation is None:
        raise FlowsInvalid(errors)
    return consultation


def load_file(path: Path | str) -> Consultation:
    """Load one consultation file; raises FlowsInvalid."""
    text, error = read_file(Path(path))
    if text is None:
        raise FlowsInvalid([error] if error else [])
    return parse_consultation(text, str(path), authoring=True)


def _flow_files(paths: Sequence[Path]) -> tuple[list[Path], list[FlowError]]:
    """The files to load: given files, and each directory's *.yaml/*.yml (not recursive)."""
    files: list[Path] = []
    errors: list[FlowError] = []
    seen: set[Path] = set()

    def add(file: Path) -> None:
        key = file.resolve()
        if key not in seen:
            seen.add(key)
            files.append(file)

    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for child in sorted(path.iterdir()):
                is_flow = child.suffix.lower() in FLOW_SUFFIXES
                if is_flow and child.is_file() and not child.name.startswith("."):
                    add(child)
        elif path.is_file():
            if path.suffix.lower() in FLOW_SUFFIXES:
                add(path)
            else:
                errors.append(FlowError(str(path), "", "not a .yaml or .yml file"))
        else:
            errors.append(FlowError(str(path), "", "no such file or directory"))
    return files, errors


def _cross_file_errors(identities: Sequence[Identity]) -> list[FlowError]:
    """Ids, keywords (case-insensitive) and voice numbers must each belong to one file."""
    errors: list[FlowError] = []
    ids: dict[str, str] = {}
    keywords: dict[str, tuple[str, str]] = {}
    numbers: dict[str, tuple[str, str]] = {}
    for identity in identities:
        source = identity.source
        if identity.id is not None:
            if identity.id in ids:
                errors.append(
                    FlowError(
                        source,
                        "id",
                        f"consultation id {identity.id!r} is also used by {ids[identity.id]}",
                    )
                )
            else:
                ids[identity.id] = source
        for path, word in identity.keywords:
            if word in keywords:
                other_source, other_path = keywords[word]
                errors.append(
                    FlowError(
                        source,
                        path,
                        f"keyword {word!r} is also used by {other_source} ({other_path}); "
                        "keywords are not case-sensitive",
                    )
                )
            else:
                keywords[word] = (source, path)
        for path, number in identity.numbers:
            if number in numbers:
                other_source, other_path = numbers[number]
                errors.append(
                    FlowError(
                        source,
                        path,
                        f"voice number {number} is also used by {other_source} ({other_path})",
                    )
                )
            else:
                numbers[number] = (source, path)
    return errors


def scan_catalog(paths: Sequence[Path]) -> CatalogScan:
    """Load what `paths` hold without raising: valid consultations and every error."""
    files, errors = _flow_files(paths)
    consultations: list[Consultation] = []
    identities: list[Identity] = []
    for file in files:
        text, error = read_file(file)
        if text is None:
            if error is not None:
                errors.append(error)
            continue
        consultation, file_errors, identity = check_text(text, str(file), authoring=True)
        errors.extend(file_errors)
        identities.append(identity)
        if consultation is not None:
            consultations.append(consultation)
    errors.extend(_cross_file_errors(identities))
    return CatalogScan(
        files=tuple(str(f) for f in files), consultations=tuple(consultations), errors=errors
    )


def load_catalog(paths: Sequence[Path]) -> Catalog:
    """Every consultation under `paths`; raises FlowsInvalid listing all files' errors."""
    scan = scan_catalog(paths)
    if scan.errors:
        raise FlowsInvalid(scan.errors)
    return Catalog(consultations=scan.consultations)
