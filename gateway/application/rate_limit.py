"""Sending rates shared by every worker: SMS_PER_SECOND and CALLS_PER_SECOND.

Each channel has a next free slot; a sender takes the slot and waits until it comes.
With REDIS_URL the slot is kept in Redis (one Lua step on Redis's own clock), so all
workers of the gateway share one rate; without it, or while Redis is down, a lock in
this process keeps it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Protocol

from redis import Redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

# KEYS[1]: the channel's next free slot (microseconds); ARGV[1]: interval (microseconds).
# Returns how long the caller waits (microseconds) before its slot.
TAKE_SLOT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local slot = tonumber(redis.call('GET', KEYS[1]) or '0')
if slot < now then slot = now end
local interval = tonumber(ARGV[1])
redis.call('SET', KEYS[1], slot + interval, 'PX', math.floor(interval / 1000) + 60000)
return slot - now
"""


class RateLimiter(Protocol):
    def wait(self, channel: str) -> float:
        """Block until this sender may send on `channel`; returns the seconds waited."""
        ...


def _interval(rates: Mapping[str, float], channel: str) -> float:
    rate = rates.get(channel, 0.0)
    return 1.0 / rate if rate > 0 else 0.0


class LocalRateLimiter:
    def __init__(self, rates: Mapping[str, float],
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.rates = dict(rates)
        self._next: dict[str, float] = {}
        self._lock = threading.Lock()
        self._clock = clock
        self._sleep = sleep

    def wait(self, channel: str) -> float:
        with self._lock:
            now = self._clock()
            slot = max(self._next.get(channel, now), now)
            self._next[channel] = slot + _interval(self.rates, channel)
        delay = slot - now
        if delay > 0:
            self._sleep(delay)
        return delay


class RedisRateLimiter:
    def __init__(self, redis: Redis, gateway_id: str, rates: Mapping[str, float],
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.redis = redis
        self.rates = dict(rates)
        self.prefix = f"civicline:{gateway_id}:rate:"
        self.fallback = LocalRateLimiter(rates, sleep=sleep)
        self._script = redis.register_script(TAKE_SLOT)
        self._sleep = sleep

    def wait(self, channel: str) -> float:
        interval = _interval(self.rates, channel)
        if interval <= 0:
            return 0.0
        try:
            micros = int(self._script(keys=[self.prefix + channel],
                                      args=[int(interval * 1_000_000)]))
        except RedisError as exc:
            log.warning("outreach rate: Redis unavailable (%s); limiting in this process", exc)
            return self.fallback.wait(channel)
        delay = micros / 1_000_000
        if delay > 0:
            self._sleep(delay)
        return delay
