"""The one-round-trip moving window against the real Redis, next to the stock ``limits`` one."""

from __future__ import annotations

from typing import Any

import pytest
from limits import parse
from limits.storage import RedisStorage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

from noxfx.service.limits_storage import OneTripRedisStorage


def test_same_decisions_and_windows_as_the_stock_storage(redis_url: str) -> None:
    ours = storage_from_string("nox+" + redis_url, key_prefix="ours")
    stock = RedisStorage(redis_url, key_prefix="stock")
    assert isinstance(ours, OneTripRedisStorage)
    item = parse("4/minute")
    a, b = MovingWindowRateLimiter(ours), MovingWindowRateLimiter(stock)
    for step in range(7):
        assert a.hit(item, "ip:1") == b.hit(item, "ip:1") == (step < 4)
        ours_stats, stock_stats = a.get_window_stats(item, "ip:1"), b.get_window_stats(item, "ip:1")
        assert ours_stats.remaining == stock_stats.remaining == max(0, 3 - step)
        assert ours_stats.reset_time == pytest.approx(stock_stats.reset_time, abs=0.5)
    assert a.hit(item, "ip:2", cost=3) and not a.hit(item, "ip:2", cost=2)
    assert a.get_window_stats(item, "ip:2").remaining == 1


def test_the_kept_window_is_used_once_then_redis_answers(redis_url: str) -> None:
    storage: Any = storage_from_string("nox+" + redis_url)
    other: Any = storage_from_string("nox+" + redis_url)  # another gunicorn worker
    item = parse("10/minute")
    limiter, elsewhere = MovingWindowRateLimiter(storage), MovingWindowRateLimiter(other)
    limiter.hit(item, "user:7")
    elsewhere.hit(item, "user:7")
    elsewhere.hit(item, "user:7")
    # the kept window is the one seen right after this thread's own hit ...
    assert limiter.get_window_stats(item, "user:7").remaining == 9
    # ... and only once: the next question goes to Redis and sees the other worker's hits
    assert limiter.get_window_stats(item, "user:7").remaining == 7
    assert storage.get_moving_window(item.key_for("user:7"), 10, 60)[1] == 3
