"""A thread that runs some work when woken and at least every `interval` seconds: how a
gateway without Redis places call-backs and sends outreach in its own process."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

log = logging.getLogger(__name__)


class BackgroundSweep:
    """The thread starts with the first notify(), so a gateway with nothing of this kind
    to do runs none. A failed run is logged and the next one comes at the interval."""

    def __init__(self, work: Callable[[], object], *, name: str, what: str,
                 interval: float) -> None:
        self._work = work
        self._name = name
        self._what = what  # for the log: "placing call-backs"
        self._interval = interval
        self._wake_at = time.monotonic() + interval
        self._condition = threading.Condition()
        self._thread: threading.Thread | None = None

    def notify(self, delay: float = 0.0) -> None:
        with self._condition:
            self._wake_at = min(self._wake_at, time.monotonic() + max(delay, 0.0))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
                self._thread.start()
            self._condition.notify()

    def _run(self) -> None:
        while True:
            with self._condition:
                while (wait := self._wake_at - time.monotonic()) > 0:
                    self._condition.wait(wait)
                self._wake_at = time.monotonic() + self._interval
            try:
                self._work()
            except Exception:  # keep the thread alive; the next sweep retries
                log.exception("%s failed; will retry", self._what)
