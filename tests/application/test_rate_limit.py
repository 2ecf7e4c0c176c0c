"""Sending rates: one slot per 1/rate seconds per channel, shared by every worker through
Redis, kept in the process when there is no Redis or it is down."""

from __future__ import annotations

import threading
import time

from redis import Redis

from gateway.application.rate_limit import LocalRateLimiter, RedisRateLimiter


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)


def test_the_local_limiter_spaces_sends_per_channel() -> None:
    clock = FakeClock()
    limiter = LocalRateLimiter({"sms": 4.0, "voice": 1.0}, clock=clock, sleep=clock.sleep)
    waits = [limiter.wait("sms") for _ in range(4)]
    assert waits == [0.0, 0.25, 0.5, 0.75]
    assert limiter.wait("voice") == 0.0  # its own slots
    clock.now += 10  # idle time is not saved up into a burst
    assert [limiter.wait("sms"), limiter.wait("sms")] == [0.0, 0.25]


def test_an_unset_rate_does_not_limit() -> None:
    assert LocalRateLimiter({}).wait("sms") == 0.0


def test_workers_share_one_rate_through_redis(redis_client: Redis) -> None:
    rate = 20.0
    limiters = [RedisRateLimiter(redis_client, "gw", {"sms": rate}) for _ in range(3)]
    stamps: list[float] = []
    lock = threading.Lock()

    def worker(limiter: RedisRateLimiter) -> None:
        for _ in range(5):
            limiter.wait("sms")
            with lock:
                stamps.append(time.monotonic())

    start = time.monotonic()
    threads = [threading.Thread(target=worker, args=(limiter,)) for limiter in limiters]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # 15 sends at 20/s: the last slot is 14 intervals after the first.
    assert max(stamps) - start >= 14 / rate - 0.02
    assert redis_client.exists("civicline:gw:rate:sms")


def test_with_redis_down_the_process_keeps_the_rate() -> None:
    down = Redis.from_url("redis://127.0.0.1:9/0", socket_connect_timeout=0.2)
    clock = FakeClock()
    limiter = RedisRateLimiter(down, "gw", {"sms": 2.0}, sleep=clock.sleep)
    limiter.fallback = LocalRateLimiter({"sms": 2.0}, clock=clock, sleep=clock.sleep)
    assert [limiter.wait("sms"), limiter.wait("sms")] == [0.0, 0.5]
