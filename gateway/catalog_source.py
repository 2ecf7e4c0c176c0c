"""Where the gateway's consultations come from."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from gateway.consultation.loader import load_catalog
from gateway.consultation.model import Catalog


class CatalogSource(Protocol):
    def current(self) -> Catalog: ...


class StaticCatalog:
    """A catalog fixed at start-up, from ivr_flows/ or given by a test."""

    def __init__(self, catalog: Catalog) -> None:
        self._catalog = catalog

    @classmethod
    def from_dir(cls, flows_dir: Path) -> StaticCatalog:
        return cls(load_catalog([flows_dir]))

    def current(self) -> Catalog:
        return self._catalog
