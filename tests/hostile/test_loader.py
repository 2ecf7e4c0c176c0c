"""The consultation loader turns any input into a Consultation or a list of errors."""

from __future__ import annotations

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.consultation.catalogue import parse_consultation
from gateway.consultation.reading import FlowsInvalid
from tests.conftest import FIXTURE_FLOWS

EXAMPLES = settings(max_examples=1000, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])
VALID = (FIXTURE_FLOWS / "water.yaml").read_text(encoding="utf-8")

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True),
    st.text(max_size=40), st.datetimes(),
)
documents = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=5),
        st.dictionaries(st.one_of(st.text(max_size=12), st.integers()), children, max_size=6),
    ),
    max_leaves=40,
)


def load(text: str) -> None:
    try:
        parse_consultation(text, "hostile.yaml")
    except FlowsInvalid as exc:
        assert exc.errors
        for error in exc.errors:
            assert error.file == "hostile.yaml"
            assert error.message


@EXAMPLES
@given(text=st.text(max_size=2000))
def test_arbitrary_text(text: str) -> None:
    load(text)


@EXAMPLES
@given(document=documents)
def test_arbitrary_structures(document: object) -> None:
    load(yaml.safe_dump(document, allow_unicode=True))


@EXAMPLES
@given(data=st.data())
def test_valid_file_with_one_part_replaced(data: st.DataObject) -> None:
    document = yaml.safe_load(VALID)
    key = data.draw(st.sampled_from(sorted(document)))
    document[key] = data.draw(documents)
    load(yaml.safe_dump(document, allow_unicode=True, default_flow_style=False))


@EXAMPLES
@given(cut=st.integers(0, len(VALID)))
def test_truncated_file(cut: int) -> None:
    load(VALID[:cut])
