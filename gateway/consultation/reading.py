"""Reading a consultation file: its text as YAML into a document, and how errors are named.

A document is what YAML makes of the file (mappings, lists, text, numbers). Nothing
here judges it: that is `checking`. What is here is shared by every step that reports a
problem: FlowError names the file, the path inside the document
(`questions[1].options[0].label.sw`, built with `key_path` and `index_path`) and the
reason.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml


@dataclass(frozen=True)
class FlowError:
    """One problem in one consultation file."""

    file: str
    path: str  # e.g. questions[1].options[0].label.sw; "" for the whole file
    message: str

    def __str__(self) -> str:
        if self.path:
            return f"{self.file}: {self.path}: {self.message}"
        return f"{self.file}: {self.message}"


class FlowsInvalid(Exception):
    """Raised with every error found, so an official can fix them all in one pass."""

    def __init__(self, errors: Sequence[FlowError]) -> None:
        self.errors: list[FlowError] = list(errors)
        super().__init__("\n".join(str(e) for e in self.errors))


def key_path(path: str, key: object) -> str:
    """The path of `key` inside the mapping at `path`: `questions[1].prompt`."""
    return f"{path}.{key}" if path else str(key)


def index_path(path: str, index: int) -> str:
    """The path of item `index` of the list at `path`: `questions[1]`."""
    return f"{path}[{index}]"


# --- YAML -------------------------------------------------------------------------------

_BOOL_TAG = "tag:yaml.org,2002:bool"
_INT_TAG = "tag:yaml.org,2002:int"
_MERGE_TAG = "tag:yaml.org,2002:merge"


class _FlowYamlLoader(yaml.SafeLoader):
    """A safe loader with YAML 1.2 booleans and integers, which records duplicate keys.

    PyYAML follows YAML 1.1, where `no` (a language code, an alias) is False, `yes` and
    `on` are True, `18_34` (an age-band id) is the integer 1834 and `1:30` is 90. Here
    only true/false are booleans and only plain decimal numbers are integers; the rest
    stays text. PyYAML also keeps the last of two equal keys silently: we report it.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.duplicate_keys: list[tuple[str, yaml.Mark]] = []

    def construct_yaml_timestamp(self, node: yaml.ScalarNode) -> date | datetime:
        """Report an impossible date (2026-13-01) with its line, like a syntax error."""
        try:
            return super().construct_yaml_timestamp(node)
        except ValueError as exc:
            raise yaml.constructor.ConstructorError(
                None, None, f"invalid date {node.value!r} ({exc})", node.start_mark
            ) from exc

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[tuple[str, str]] = set()
        for key_node, _ in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == _MERGE_TAG:
                continue
            key = (key_node.tag, key_node.value)
            if key in seen:
                self.duplicate_keys.append((key_node.value, key_node.start_mark))
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


_FlowYamlLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag not in (_BOOL_TAG, _INT_TAG)]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_FlowYamlLoader.add_constructor(
    "tag:yaml.org,2002:timestamp", _FlowYamlLoader.construct_yaml_timestamp
)
_FlowYamlLoader.add_implicit_resolver(
    _BOOL_TAG, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_FlowYamlLoader.add_implicit_resolver(
    _INT_TAG, re.compile(r"^[-+]?(?:0|[1-9][0-9]*)$"), list("-+0123456789")
)


_FLOW_QUOTING_HINT = (
    'inside {...} or [...], quote text that contains ? : , { } [ ] (e.g. {en: "Your age?"}) '
    "or write one language per line"
)


def _mark(mark: yaml.Mark | None) -> str:
    return "" if mark is None else f"line {mark.line + 1}, column {mark.column + 1}: "


def read_yaml(text: str, report: Callable[[str, str], None]) -> tuple[bool, Any]:
    """(parsed?, document); syntax errors and duplicate keys go to `report`."""
    try:
        loader = _FlowYamlLoader(text)  # reads the text: rejects control characters here
    except yaml.YAMLError as exc:
        report("", f"YAML error: {exc}")
        return False, None
    try:
        document = loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        reason = " ".join(part for part in (exc.context, exc.problem) if part)
        if exc.context and exc.context.startswith("while parsing a flow"):
            reason += f"; {_FLOW_QUOTING_HINT}"
        report("", f"{_mark(exc.problem_mark)}YAML syntax error: {reason}")
        return False, None
    except (yaml.YAMLError, ValueError, OverflowError) as exc:
        report("", f"YAML error: {exc}")
        return False, None
    finally:
        loader.dispose()
    for key, mark in loader.duplicate_keys:
        report("", f"{_mark(mark)}duplicate key {key!r} (only the last one would count)")
    return True, document


# --- files ----------------------------------------------------------------------------------


def read_file(path: Path) -> tuple[str | None, FlowError | None]:
    """(text, None), or (None, why the file cannot be read as UTF-8 text)."""
    try:
        return path.read_text(encoding="utf-8"), None
    except UnicodeDecodeError as exc:
        return None, FlowError(str(path), "", f"not UTF-8 text ({exc.reason} at byte {exc.start})")
    except OSError as exc:
        return None, FlowError(str(path), "", f"cannot read the file: {exc.strerror or exc}")

