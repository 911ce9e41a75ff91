"""Rate-limit storage: the ``limits`` Redis moving window in one round trip per request.

Flask-Limiter asks its storage twice per request: ``acquire_entry`` (count this request, in
``before_request``) and ``get_moving_window`` (the ``X-RateLimit-*`` header values, in
``after_request``). With the stock :class:`limits.storage.RedisStorage` that is two Lua calls,
half the server time of a cached market-data request. :class:`OneTripRedisStorage` runs one
script that acquires *and* returns the window after it; the window is kept for the thread that
asked and handed to the ``get_moving_window`` call that follows for the same key (within one
second; otherwise, or for any other key, Redis is asked as before). The window semantics are
those of ``limits``: a list per key, newest first, of the request times (UNIX seconds) of the
last ``limit`` accepted requests.

It is registered with ``limits`` under the URI scheme ``nox+redis://`` (the rest of the URI is
a ``redis://`` URI); :func:`noxfx.service.ratelimit.init_rate_limits` uses it when
``NOX_REDIS_URL`` is set.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from limits.storage import RedisStorage

#: Acquire ``amount`` entries if the window allows, then return {acquired, oldest, count}:
#: the acquire step is ``limits``' acquire_moving_window.lua, the window step its
#: moving_window.lua (binary search for the oldest entry still inside the window).
ACQUIRE_AND_WINDOW = """
local now = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local expiry = tonumber(ARGV[3])
local amount = tonumber(ARGV[4])
local acquired = 0
if amount <= limit then
    local entry = redis.call('lindex', KEYS[1], limit - amount)
    if not (entry and tonumber(entry) >= now - expiry) then
        local entries = {}
        for i = 1, amount do
            entries[i] = now
        end
        for i = 1, #entries, 5000 do
            redis.call('lpush', KEYS[1], unpack(entries, i, math.min(i + 4999, #entries)))
        end
        redis.call('ltrim', KEYS[1], 0, limit - 1)
        redis.call('expire', KEYS[1], expiry)
        acquired = 1
    end
end
local target = now - expiry
local low = 0
local high = math.min(redis.call('llen', KEYS[1]), limit) - 1
local found = -1
while low <= high do
    local mid = math.floor((low + high) / 2)
    local val = tonumber(redis.call('lindex', KEYS[1], mid))
    if val and val >= target then
        found = mid
        low = mid + 1
    else
        high = mid - 1
    end
end
if found >= 0 then
    return {acquired, redis.call('lindex', KEYS[1], found), found + 1}
end
return {acquired, tostring(now), 0}
"""

_FRESH_SECONDS = 1.0
log = logging.getLogger(__name__)
_last_warning = [0.0]


def _warn_fallback(exc: BaseException) -> None:
    if time.monotonic() - _last_warning[0] < 60:
        return
    _last_warning[0] = time.monotonic()
    log.warning(
        "rate-limit storage (Redis) unreachable (%s): limits fall back to per-process memory, "
        "so each is multiplied by the number of API processes until Redis is back",
        type(exc).__name__,
    )


class OneTripRedisStorage(RedisStorage):
    """:class:`limits.storage.RedisStorage` with acquire + window in one script (see the
    module docstring). URI: ``nox+redis://host:port/db``."""

    STORAGE_SCHEME = ["nox+redis"]  # noqa: RUF012  (the limits registry reads this)

    def __init__(self, uri: str, **options: Any) -> None:
        super().__init__(uri.removeprefix("nox+"), **options)
        self._last = threading.local()

    def initialize_storage(self, uri: str) -> None:
        super().initialize_storage(uri)
        self._acquire_and_window = self.get_connection().register_script(
            ACQUIRE_AND_WINDOW.encode()
        )

    def acquire_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        """Count ``amount`` requests under ``key`` if the window has room; keep the window.
        A Redis error is logged (once a minute per process: the limiter now counts in memory)
        and raised, for Flask-Limiter to fall back."""
        full_key = self.prefixed_key(key)
        now = time.time()
        try:
            acquired, oldest, count = self._acquire_and_window(
                [full_key], [now, limit, expiry, amount]
            )
        except Exception as exc:
            _warn_fallback(exc)
            raise
        windows: dict[tuple[str, int, int], tuple[float, tuple[float, int]]]
        windows = getattr(self._last, "windows", None) or {}
        if len(windows) > 16:
            windows.clear()
        windows[(key, limit, expiry)] = (time.monotonic(), (float(oldest), int(count)))
        self._last.windows = windows
        return bool(acquired)

    def get_moving_window(self, key: str, limit: int, expiry: int) -> tuple[float, int]:
        """(start of the window as UNIX seconds, entries in it): the window this thread's last
        acquire on ``key`` returned, else asked from Redis."""
        windows = getattr(self._last, "windows", None)
        if windows:
            kept = windows.pop((key, limit, expiry), None)
            if kept is not None and time.monotonic() - kept[0] < _FRESH_SECONDS:
                return kept[1]
        window: tuple[float, int] = super().get_moving_window(key, limit, expiry)
        return window


__all__ = ["ACQUIRE_AND_WINDOW", "OneTripRedisStorage"]
