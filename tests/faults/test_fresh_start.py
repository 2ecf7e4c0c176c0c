"""A fresh deployment starts: four web workers building the app at the same moment on
new databases (no release step run first) all boot; twenty times in a row.

Each process does what a gunicorn worker does when it boots (`create_app()` from the
environment's settings), released together by a barrier so that they meet where a new
database is set up: switching it to WAL, creating tables, publishing the consultations
to the embedded centre and issuing its token.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier
from pathlib import Path

import pytest

from tests.conftest import FIXTURE_FLOWS

pytestmark = pytest.mark.faults

WORKERS = 4
ROUNDS = 20
SETUP_ROUNDS = 100  # the set-up alone is quick: a closer race, many more times


def boot_every_round(folder: Path, barrier: Barrier, results: Queue) -> None:
    from gateway.app import create_app
    from gateway.settings import Settings

    for round_ in range(ROUNDS):
        place = folder / f"round-{round_}"
        settings = Settings(
            database_url=f"sqlite:///{place / 'civicline.db'}",
            central_database_url=f"sqlite:///{place / 'central.db'}",
            data_dir=place,
            flows_dir=FIXTURE_FLOWS,
            twilio_auth_token="fresh-start-auth-token-0123456789",
            pseudonym_key="fresh-start-pseudonym-key-0123456789",
            secret_key="fresh-start-secret-key-0123456789",
        )
        barrier.wait(timeout=120)
        try:
            create_app(settings)
        except Exception as exc:  # noqa: BLE001 - reported to the test
            results.put((round_, f"{exc.__class__.__name__}: {exc}"))
        else:
            results.put((round_, "booted"))


def set_up_every_round(folder: Path, barrier: Barrier, results: Queue) -> None:
    from gateway.central.store.central_store import CentralStore
    from gateway.database import make_engine
    from gateway.store.participants import LocalStore

    for round_ in range(SETUP_ROUNDS):
        barrier.wait(timeout=120)
        try:
            local = LocalStore(make_engine(f"sqlite:///{folder / f'local-{round_}.db'}"))
            local.create_schema()
            central = CentralStore.from_url(f"sqlite:///{folder / f'central-{round_}.db'}")
            central.create_schema()
        except Exception as exc:  # noqa: BLE001 - reported to the test
            results.put((round_, f"{exc.__class__.__name__}: {exc}"))
        else:
            local.engine.dispose()
            central.engine.dispose()
            results.put((round_, "booted"))


def run_together(target: Callable[[Path, Barrier, Queue], None], folder: Path,
                 rounds: int) -> list[tuple[int, str]]:
    """`target` in WORKERS fresh processes released together each round; the rounds
    that did not boot, with their errors."""
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(WORKERS)
    results = context.Queue()
    workers = [context.Process(target=target, args=(folder, barrier, results))
               for _ in range(WORKERS)]
    for worker in workers:
        worker.start()
    outcomes = [results.get(timeout=300) for _ in range(WORKERS * rounds)]
    for worker in workers:
        worker.join(60)
    results.close()
    assert sorted(round_ for round_, _ in outcomes) == sorted(list(range(rounds)) * WORKERS)
    return sorted(outcome for outcome in outcomes if outcome[1] != "booted")


def test_four_workers_boot_at_once_on_new_databases_twenty_times(tmp_path: Path) -> None:
    assert run_together(boot_every_round, tmp_path, ROUNDS) == []


def test_four_processes_set_up_a_new_database_at_the_same_moment(tmp_path: Path) -> None:
    """What the boot does first, raced more closely: switching a new file to WAL and
    creating both stores' tables."""
    assert run_together(set_up_every_round, tmp_path, SETUP_ROUNDS) == []
