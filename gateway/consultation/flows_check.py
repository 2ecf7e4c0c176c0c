"""`civicline flows check`: validate consultation files and warn about costly texts.

Errors come from reading and checking the files (`catalogue.scan_catalog`). Warnings come
from the producers in WARNING_PRODUCERS, each a function Consultation -> list[str] run on
every valid consultation; add a producer to that tuple to add a kind of warning.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from gateway.consultation import segments
from gateway.consultation.audio import prompt_recording_warnings
from gateway.consultation.catalogue import scan_catalog
from gateway.consultation.model import Consultation
from gateway.consultation.outreach_texts import reminder_warnings
from gateway.consultation.reading import FlowError
from gateway.consultation.render import sms_texts

WarningProducer = Callable[[Consultation], list[str]]

SHOWN_NON_GSM = 5  # how many offending characters a warning names


@dataclass(frozen=True)
class CheckReport:
    errors: list[FlowError]
    warnings: list[str]
    consultations: tuple[Consultation, ...]  # the valid ones
    files: tuple[str, ...] = field(default=())  # every consultation file read

    @property
    def ok(self) -> bool:
        return not self.errors


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _describe_non_gsm(chars: Sequence[str]) -> str:
    shown = ", ".join(f"{c!r} U+{ord(c):04X}" for c in chars[:SHOWN_NON_GSM])
    more = f" and {len(chars) - SHOWN_NON_GSM} more" if len(chars) > SHOWN_NON_GSM else ""
    return f"not in GSM-7: {shown}{more}"


def sms_segment_warnings(consultation: Consultation) -> list[str]:
    """A warning for each SMS text that costs participants more than one segment.

    UCS-2 texts name their non-GSM characters: replacing a curly quote or an accented
    letter often brings a text back to GSM-7 and one segment.
    """
    warnings = []
    for key, text in sms_texts(consultation).items():
        count = segments.segment_count(text)
        if count <= 1:
            continue
        encoding = segments.encoding(text)
        details = [encoding, _plural(len(text), "character")]
        units = segments.length(text)
        if encoding == "GSM-7" and units != len(text):
            details.append(f"{units} septets")
        elif encoding == "UCS-2":
            if units != len(text):
                details.append(f"{units} UTF-16 units")
            details.append(_describe_non_gsm(segments.non_gsm_characters(text)))
        warnings.append(
            f"{consultation.id} {key}: {count} SMS segments ({', '.join(details)}): {text}"
        )
    return warnings


WARNING_PRODUCERS: tuple[WarningProducer, ...] = (
    sms_segment_warnings,
    prompt_recording_warnings,  # voice prompts lacking a recording, per language
    reminder_warnings,  # built-in reminders too long for one SMS once the title is in
)


def check(
    paths: Sequence[Path], producers: Sequence[WarningProducer] = WARNING_PRODUCERS
) -> CheckReport:
    """Load every consultation under `paths`; collect all errors and warnings."""
    scan = scan_catalog(paths)
    warnings: list[str] = []
    if not scan.files and not scan.errors:
        shown = ", ".join(str(p) for p in paths) or "(no paths given)"
        warnings.append(f"no consultation files (*.yaml, *.yml) found in {shown}")
    for consultation in scan.consultations:
        for produce in producers:
            warnings.extend(produce(consultation))
    return CheckReport(
        errors=list(scan.errors),
        warnings=warnings,
        consultations=scan.consultations,
        files=scan.files,
    )


def format_report(report: CheckReport) -> str:
    """Errors, then warnings, then a summary line."""
    lines = [str(error) for error in report.errors]
    lines += [f"warning: {warning}" for warning in report.warnings]
    checked = f"{_plural(len(report.files), 'consultation')} checked"
    if report.errors or report.warnings:
        counts = (
            f"{_plural(len(report.errors), 'error')}, {_plural(len(report.warnings), 'warning')}"
        )
        lines.append(f"{checked}: {counts}")
    else:
        lines.append(f"{checked}: ok")
    return "\n".join(lines)
