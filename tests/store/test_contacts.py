"""Contact lists and suppressions on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from gateway.database import make_engine
from gateway.store.contacts import Contact, ContactList, ContactStore
from gateway.store.participants import LocalStore

NOW = datetime.now(UTC)


@pytest.fixture
def store(database_url: str) -> Iterator[ContactStore]:
    engine = make_engine(database_url)
    LocalStore(engine).create_schema()
    yield ContactStore(engine)
    engine.dispose()


def test_a_list_imported_again_updates_its_people_and_records_each_basis(
    store: ContactStore,
) -> None:
    assert store.add("l", [Contact("p1", "+1", "en", None), Contact("p2", "+2", "sw", "X")],
                     "form A", NOW) == (2, 0)
    assert store.add("l", [Contact("p2", "+2", "en", "Y"), Contact("p3", "+3", "en", None)],
                     "form B", NOW) == (1, 1)
    assert store.lists() == [ContactList("l", 3, ("form A", "form B"))]


def test_suppressions_keep_the_latest_reason(store: ContactStore) -> None:
    store.suppress("+1", "unreachable", NOW)
    store.suppress("+1", "invalid_number", NOW)
    store.suppress("+2", "not_mobile", NOW)
    assert store.suppressions() == {"+1": "invalid_number", "+2": "not_mobile"}
    assert store.suppressions(["+2", "+3"]) == {"+2": "not_mobile"}
