"""The central link: the remote centre over HTTP, and a sync pass built on a link."""

from __future__ import annotations

from pathlib import Path

from gateway.application.services import open_local_store
from gateway.settings import Settings
from gateway.sync.client import CentralClient, HttpTransport
from gateway.sync.link import RemoteCentral, build_syncer


class InProcess:
    refresh_catalog = False

    def client(self) -> CentralClient:
        raise AssertionError("not before the first pass")

    def close(self) -> None:
        return None


def test_the_remote_centre_is_central_url_over_http_with_the_token(tmp_path: Path) -> None:
    settings = Settings(central_url="https://centre.example.org/", central_token="t0ken",
                        database_url=f"sqlite:///{tmp_path / 'g.db'}",
                        central_database_url=f"sqlite:///{tmp_path / 'c.db'}")
    link = RemoteCentral(settings)
    client = link.client()
    assert isinstance(client.transport, HttpTransport)
    assert client.transport.base_url == "https://centre.example.org"
    assert (client.token, client.compress) == ("t0ken", True)
    client.transport.close()
    store = open_local_store(settings)
    try:
        assert build_syncer(settings, store, link).refresh_catalog is True
        syncer = build_syncer(settings, store, InProcess())  # no client made yet
        assert syncer.refresh_catalog is False
        assert syncer.outbox.engine is store.engine
    finally:
        store.engine.dispose()
