"""Fixtures of the officials' side's tests."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine, insert

from gateway.central.officials.reports import Reports
from gateway.central.store.accounts import Accounts
from gateway.central.store.schema import gateways
from gateway.settings import Settings
from tests.central.officials.dashboard import CID, NOW, PASSWORD, Clock, Dashboard, make_dashboard
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
