"""Fixtures of the officials' side's tests."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, insert

from gateway.central.officials.reports import Reports
from gateway.central.store.accounts import Accounts
from gateway.central.store.schema import gateways
from gateway.settings import Settings
from tests.central.officials.dashboard import CID, NOW, PASSWORD, Clock, Dashboard, make_dashboard
from tests.central.officials.population import event as make_event
from tests.central.officials.population import generate, insert_events, publish, survey


@pytest.fixture
def reports(central_engine: Engine) -> Reports:
    """Reports on the central store, with the test survey published as survey-test."""
    _consultation, definition = survey()
    publish(central_engine, definition, "survey-test")
    return Reports(central_engine, small_cell_k=5)


@pytest.fixture
def dashboard(central_engine: Engine, officials_settings: Settings) -> Dashboard:
    accounts = Accounts(central_engine)
    accounts.add("ada", PASSWORD, admin=False, now=NOW)
    accounts.add("root", PASSWORD, admin=True, now=NOW)
    return make_dashboard(central_engine, officials_settings, Clock())


@pytest.fixture
def with_results(dashboard: Dashboard) -> Dashboard:
    consultation, definition = survey()
    publish(dashboard.engine, definition, CID)
    insert_events(dashboard.engine, generate(consultation, 90, seed=11))
    with dashboard.engine.begin() as conn:
        conn.execute(
            insert(gateways).values(
                name="gw-1",
                token_hash="0" * 64,
                created_at=NOW,
                last_contact_at=NOW - timedelta(hours=3),
                newest_event_at=NOW - timedelta(hours=4),
                backlog=12,
            )
        )
    return dashboard


@pytest.fixture
def formula_rows(central_engine: Engine) -> list[dict[str, Any]]:
    """The test survey with a population, and a comment a spreadsheet would run."""
    consultation, definition = survey()
    publish(central_engine, definition, CID)
    generated = generate(consultation, 80, seed=7)
    generated.append(make_event(CID, "comment", "f" * 64, value='=HYPERLINK("http://x")'))
    insert_events(central_engine, generated)
    return generated


@pytest.fixture
def rows(formula_rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The population most export tests read (exports/test_open_data.py has its own)."""
    return formula_rows
