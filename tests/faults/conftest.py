"""A fresh cluster of real processes per fault test (see cluster.py)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import _service_missing
from tests.faults.cluster import Cluster, running_cluster


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    if shutil.which("redis-server") is None:
        _service_missing("redis-server (the fault tests start and stop their own)")
    with running_cluster(tmp_path) as started:
        yield started
