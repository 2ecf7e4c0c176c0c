"""One sync pass at a time per gateway: a lease row in the local store (gateway_state),
taken and renewed in a transaction, so it works with or without Redis.

The lease is an efficiency guard, not the correctness guard: the centre's unique key on
event ids is. A lease whose holder is a process on this host that no longer runs (a
killed worker) does not block the next pass.
"""

from __future__ import annotations

import os
import socket
import uuid
from datetime import UTC, datetime, timedelta

from gateway.store.sync_state import Lease, SyncStateStore

LEASE_SECONDS = 180.0  # longer than one batch can take (60 s read timeout), renewed per batch


class LeaseLost(Exception):
    """Another pass took the lease (ours had expired): stop, it carries on."""


def holder_alive(lease: Lease) -> bool:
    """False only when the holder is a process on this host that no longer runs."""
    if lease.host != socket.gethostname():
        return True
    try:
        os.kill(lease.pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a killed child not yet reaped by its parent still answers kill(0)
        with open(f"/proc/{lease.pid}/stat", encoding="ascii") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


class SyncLease:
    """One syncer's hold on the gateway's lease, under a holder id of its own."""

    def __init__(self, sync_state: SyncStateStore) -> None:
        self.sync_state = sync_state
        self.holder = uuid.uuid4().hex
        self._until: datetime | None = None

    def take(self, now: datetime) -> Lease | None:
        """Take the lease: None when taken, else the lease another pass holds."""
        lease = self._lease(now)
        held = self.sync_state.acquire_lease(lease, now, holder_alive)
        self._until = lease.expires_at if held is None else None
        return held

    def renew(self) -> None:
        """Extend the lease when half of it is used (not per batch: a commit each time);
        raises LeaseLost when another pass took it meanwhile."""
        now = datetime.now(UTC)
        if self._until is not None and self._until - now > timedelta(seconds=LEASE_SECONDS / 2):
            return
        lease = self._lease(now)
        if self.sync_state.acquire_lease(lease, now, holder_alive) is not None:
            raise LeaseLost()
        self._until = lease.expires_at

    def release(self) -> None:
        self.sync_state.release_lease(self.holder, datetime.now(UTC))

    def _lease(self, now: datetime) -> Lease:
        return Lease(self.holder, socket.gethostname(), os.getpid(),
                     now + timedelta(seconds=LEASE_SECONDS))
