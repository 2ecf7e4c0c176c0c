"""Fixtures shared by the tests of the consultation core."""

from __future__ import annotations

import pytest

from gateway.consultation.catalogue import load_catalog
from gateway.consultation.model import Catalog
from tests.conftest import FIXTURE_FLOWS

# The helpers' asserts (documents.only_error) report like the tests' own.
pytest.register_assert_rewrite("tests.consultation.documents")


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    """The consultations of tests/fixtures/flows: water-test (open) and roads-2025 (closed)."""
    return load_catalog([FIXTURE_FLOWS])
