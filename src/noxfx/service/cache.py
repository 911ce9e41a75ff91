"""A small TTL cache of bytes: Redis in server mode, in-process otherwise (same interface).

Callers build keys that include the *data version* of what they cache (see
``services/market.py``), so new bars make new keys and stale entries simply age out. A Redis
outage degrades to "no cache" (logged), never to an error response. :meth:`Cache.get_or_set`
computes a missing value once per process even when many threads ask at the same moment.

With Redis, each process also keeps a small in-process copy (the *near cache*) of what it
read or wrote, for at most ``near_ttl_seconds`` (default 5 s, never longer than the entry's own
TTL). Entries are immutable per key (the key carries the data version), so the near copy can
never disagree with Redis; it only saves the network round trip on hot keys (a cached
market-data request drops from two Redis round trips to none). The near cache holds at most
256 entries of at most 256 KiB each (64 MiB per process at worst).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Protocol

log = logging.getLogger(__name__)


class _Backend(Protocol):
    def get(self, key: str) -> bytes | None: ...
    def set(self, key: str, value: bytes, ttl_seconds: float) -> None: ...
    def clear(self) -> None: ...


class MemoryBackend:
    """Thread-safe in-process TTL store bounded to ``max_entries`` (oldest evicted first)."""

    def __init__(self, max_entries: int = 2048) -> None:
        self._data: OrderedDict[str, tuple[float, bytes]] = OrderedDict()
        self._lock = threading.Lock()
        self._max = max_entries

    def get(self, key: str) -> bytes | None:
        with self._lock:
            item = self._data.get(key)
            if item is None:
                return None
            if item[0] < time.monotonic():
                del self._data[key]
                return None
            return item[1]

    def set(self, key: str, value: bytes, ttl_seconds: float) -> None:
        with self._lock:
            self._data[key] = (time.monotonic() + ttl_seconds, value)
            self._data.move_to_end(key)
            while len(self._data) > self._max:
                self._data.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()


class RedisBackend:
    """Redis ``SET PX`` / ``GET`` under a key prefix."""

    def __init__(self, url: str, prefix: str = "nox:cache:") -> None:
        import redis

        self._client = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self._prefix = prefix

    def get(self, key: str) -> bytes | None:
        value = self._client.get(self._prefix + key)
        return value if isinstance(value, bytes) else None

    def set(self, key: str, value: bytes, ttl_seconds: float) -> None:
        self._client.set(self._prefix + key, value, px=max(1, int(ttl_seconds * 1000)))

    def clear(self) -> None:
        for key in self._client.scan_iter(match=self._prefix + "*", count=500):
            self._client.delete(key)


class Cache:
    """The service cache (see the module docstring)."""

    #: Values larger than this (bytes) are not copied to the near cache.
    NEAR_MAX_BYTES = 256 * 1024

    def __init__(self, backend: _Backend, near: MemoryBackend | None = None,
                 near_ttl_seconds: float = 5.0) -> None:  # fmt: skip
        self.backend = backend
        self.near = near
        self.near_ttl_seconds = near_ttl_seconds
        self._locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()
        self.hits = 0
        self.misses = 0

    @classmethod
    def from_url(cls, redis_url: str | None, near_ttl_seconds: float = 5.0) -> Cache:
        """Redis with a near cache when ``redis_url`` is set, else one in-process store."""
        if redis_url:
            return cls(RedisBackend(redis_url), MemoryBackend(256), near_ttl_seconds)
        return cls(MemoryBackend())

    def get(self, key: str, ttl_seconds: float | None = None) -> bytes | None:
        """The value under ``key`` or None. ``ttl_seconds``: the entry's TTL when known (a
        near copy then lives no longer than that)."""
        value = self.near.get(key) if self.near is not None else None
        if value is None:
            try:
                value = self.backend.get(key)
            except Exception as exc:  # a cache outage must not fail the request
                log.warning("cache get failed: %s", exc)
                return None
            if value is not None and self.near is not None and len(value) <= self.NEAR_MAX_BYTES:
                near_ttl = min(ttl_seconds or self.near_ttl_seconds, self.near_ttl_seconds)
                self.near.set(key, value, near_ttl)
        if value is None:
            self.misses += 1
        else:
            self.hits += 1
        return value

    def set(self, key: str, value: bytes, ttl_seconds: float) -> None:
        if self.near is not None and len(value) <= self.NEAR_MAX_BYTES:
            self.near.set(key, value, min(ttl_seconds, self.near_ttl_seconds))
        try:
            self.backend.set(key, value, ttl_seconds)
        except Exception as exc:
            log.warning("cache set failed: %s", exc)

    def get_or_set(self, key: str, ttl_seconds: float, compute: Callable[[], bytes]) -> bytes:
        """The cached value, or ``compute()`` stored for ``ttl_seconds`` (once per process)."""
        value = self.get(key, ttl_seconds)
        if value is not None:
            return value
        with self._locks_guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            value = self.get(key, ttl_seconds)  # another thread may have filled it meanwhile
            if value is None:
                value = compute()
                self.set(key, value, ttl_seconds)
        with self._locks_guard:
            if len(self._locks) > 4096:
                self._locks.clear()
        return value

    def clear(self) -> None:
        if self.near is not None:
            self.near.clear()
        try:
            self.backend.clear()
        except Exception as exc:
            log.warning("cache clear failed: %s", exc)


__all__ = ["Cache", "MemoryBackend", "RedisBackend"]
