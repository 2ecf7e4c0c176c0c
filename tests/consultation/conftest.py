"""Fixtures shared by the tests of the consultation core."""

from __future__ import annotations

import pytest

# The helpers' asserts (documents.only_error) report like the tests' own.
pytest.register_assert_rewrite("tests.consultation.documents")
