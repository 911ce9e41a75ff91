"""The service cache against the real Redis: the near (in-process) copy and its bounds."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from typing import Any

import pandas as pd
import redis

from noxfx.data.store import BarStore
from noxfx.service.cache import Cache, MemoryBackend, RedisBackend


def test_near_copy_saves_the_round_trip_and_never_outlives_the_entry(redis_url: str) -> None:
    raw = redis.Redis.from_url(redis_url)
    cache = Cache(RedisBackend(redis_url, prefix="t:"), MemoryBackend(), near_ttl_seconds=0.3)
    other = Cache(RedisBackend(redis_url, prefix="t:"), MemoryBackend(), near_ttl_seconds=0.3)
    cache.set("k", b"v", ttl_seconds=60)
    assert other.get("k", 60) == b"v"  # shared through Redis
    raw.delete("t:k")
    assert cache.get("k") == b"v" and other.get("k") == b"v"  # both served from the near copy
    time.sleep(0.35)
    assert cache.get("k") is None and other.get("k") is None  # near copies expired too
    cache.set("short", b"x", ttl_seconds=0.05)  # shorter than the near TTL: bounded by it
    time.sleep(0.1)
    assert cache.get("short") is None


def test_near_copy_is_bounded_by_the_ttl_given_on_read(redis_url: str) -> None:
    raw = redis.Redis.from_url(redis_url)
    writer = Cache(RedisBackend(redis_url, prefix="t:"))
    reader = Cache(RedisBackend(redis_url, prefix="t:"), MemoryBackend(), near_ttl_seconds=30)
    writer.set("q", b"quote", ttl_seconds=0.2)
    assert reader.get_or_set("q", 0.2, lambda: b"recomputed") == b"quote"
    raw.delete("t:q")
    time.sleep(0.25)
    assert reader.get_or_set("q", 0.2, lambda: b"recomputed") == b"recomputed"


def test_redis_outage_serves_near_copies_and_computes_the_rest() -> None:
    dead = Cache(RedisBackend("redis://127.0.0.1:1/0"), MemoryBackend(), near_ttl_seconds=5)
    assert dead.get_or_set("a", 10, lambda: b"1") == b"1"  # no error, computed
    assert dead.get_or_set("a", 10, lambda: b"2") == b"1"  # the near copy still answers


def test_data_version_follows_renames_into_an_old_folder(
    make_app: Any, sample_bars: Path, tmp_path: Path
) -> None:
    """The version is memoised per folder mtime; an import into a folder untouched for a long
    time must still change it (and the market data then show the new bar)."""
    from noxfx.service.services.market import data_version

    home = tmp_path / "home"
    shutil.copytree(sample_bars, home / "bars")
    folder = home / "bars" / "GBPUSD"
    past = time.time() - 3600
    os.utime(folder, (past, past))
    app = make_app(home=home)
    with app.app_context():
        before = data_version("GBPUSD")
        assert data_version("GBPUSD") == before  # memoised
        store = BarStore(home / "bars")
        last = store.read("GBPUSD", "1h").iloc[[-1]]
        last.index = last.index + pd.Timedelta(hours=1)
        store.write("GBPUSD", "1h", last)
        assert data_version("GBPUSD") != before
        assert data_version("EURCHF") == "empty"


def test_large_values_are_not_copied_near(redis_url: str) -> None:
    raw = redis.Redis.from_url(redis_url)
    cache = Cache(RedisBackend(redis_url, prefix="t:"), MemoryBackend(), near_ttl_seconds=30)
    big = b"x" * (Cache.NEAR_MAX_BYTES + 1)
    cache.set("big", big, ttl_seconds=60)
    assert cache.get("big") == big
    raw.delete("t:big")
    assert cache.get("big") is None  # only Redis had it
