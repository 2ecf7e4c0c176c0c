"""The central link: how the sync reaches the central store, as the gateway side needs it.

A link makes a client for the central API and closes what it opened. The gateway side
defines it and holds the remote one (CENTRAL_URL over HTTP); the embedded centre (no
CENTRAL_URL: the central store in this process) is another, assembled by
gateway/embedded_centre.py. The sync path is the same either way.
"""

from __future__ import annotations

from typing import Protocol

from gateway.settings import Settings
from gateway.store.outbox import OutboxStore
from gateway.store.participants import LocalStore
from gateway.sync.client import CentralClient, HttpTransport
from gateway.sync.runner import Syncer


class CentralLink(Protocol):
    # Whether each pass fetches the published consultations (a remote centre publishes
    # them; the embedded one serves FLOWS_DIR, published at start-up: nothing to fetch).
    refresh_catalog: bool

    def client(self) -> CentralClient:
        """A client for the central API, made when the sync first needs one."""
        ...

    def close(self) -> None:
        """Release what the link opened (the client's own transport the Syncer closes)."""
        ...


class RemoteCentral:
    """The central store at CENTRAL_URL, over HTTP(S), with CENTRAL_TOKEN."""

    refresh_catalog = True

    def __init__(self, settings: Settings) -> None:
        self.url = settings.central_url
        self.token = settings.central_token

    def client(self) -> CentralClient:
        return CentralClient(HttpTransport(self.url), self.token)

    def close(self) -> None:
        return None


def build_syncer(settings: Settings, store: LocalStore, central: CentralLink) -> Syncer:
    """A sync pass from this gateway's outbox towards `central`."""
    return Syncer(settings, OutboxStore(store.engine), central.client,
                  refresh_catalog=central.refresh_catalog)
