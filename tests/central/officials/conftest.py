"""Fixtures of the officials' side's tests."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from gateway.central.officials.reports import Reports
from tests.central.officials.population import publish, survey


@pytest.fixture
def reports(central_engine: Engine) -> Reports:
    """Reports on the central store, with the test survey published as survey-test."""
    _consultation, definition = survey()
    publish(central_engine, definition, "survey-test")
    return Reports(central_engine, small_cell_k=5)
