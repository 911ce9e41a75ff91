"""Resilient calls to market-data sources: retries, circuit breakers, rate limits, cache, fallback.

Every outbound call of a provider goes through its :class:`Guard`::

    guard.call(fn)  =  circuit breaker check -> token-bucket rate limit -> fn() -> retry policy

* **Timeouts** are set on every HTTP request by :class:`noxfx.data.providers._http.HttpClient`
  (connect and read timeouts in seconds); a timeout is a transient :class:`ProviderTimeout`.
* **Retries** (:class:`RetryPolicy`): transient errors (timeouts, connection errors, HTTP 429 and
  5xx) are retried up to ``max_attempts`` times with exponential backoff and jitter
  (``base_s * 2**(attempt-1)``, capped at ``max_s``, then "equal jitter": half fixed, half
  random). A ``Retry-After`` from the source (seconds or an HTTP date) replaces the backoff; if
  it asks for more than ``max_retry_after_s`` the error is raised at once, so a fallback chain can
  move on instead of stalling.
* **Circuit breaker** (:class:`CircuitBreaker`, one per provider): after ``failure_threshold``
  consecutive failures the circuit opens and calls fail fast with :class:`CircuitOpen` for
  ``reset_s`` seconds; then one trial call is let through (half-open): success closes it,
  failure opens it again.
* **Rate limiter** (:class:`TokenBucket`, one per provider): ``rate_per_s`` tokens per second,
  bursts up to ``capacity``; a call without a token waits for one.
* **Cache** (:class:`TTLCache` in-process, or :class:`RedisCache` when ``NOX_REDIS_URL`` is set):
  byte values with a time-to-live, shared by all providers of a process (or of all processes, with
  Redis). The HTTP client caches successful GET/POST bodies under a hash of the request.
* **Fallback** (:class:`FallbackProvider`): a chain such as ``oanda,dukascopy,yahoo`` (setting
  ``NOX_PROVIDER_CHAIN``) that asks each provider in turn and returns the first answer.

Sleeping and time are injected through a :class:`Clock`, so tests use :class:`ManualClock` and
never sleep: its ``sleep`` only advances its time and records the wait.
"""

from __future__ import annotations

import hashlib
import logging
import random
import threading
import time as _time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from noxfx.data.providers.base import (
    AllProvidersFailed,
    Capabilities,
    CircuitOpen,
    Provider,
    ProviderError,
    Quote,
    Tick,
)
from noxfx.instruments import Instrument

if TYPE_CHECKING:
    import pandas as pd

    from noxfx.timeframes import Timeframe

log = logging.getLogger(__name__)
T = TypeVar("T")


# ---------------------------------------------------------------------------------- clocks
class Clock(Protocol):
    """Time source: ``monotonic()`` for intervals, ``time()`` for epoch seconds (UTC)."""

    def monotonic(self) -> float: ...

    def time(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """The real clock."""

    def monotonic(self) -> float:
        return _time.monotonic()

    def time(self) -> float:
        return _time.time()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            _time.sleep(seconds)


class ManualClock:
    """A clock that only moves when told: ``sleep`` advances it and records the wait."""

    def __init__(self, epoch: float = 1_700_000_000.0) -> None:
        self._epoch = float(epoch)
        self._mono = 0.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self._mono

    def time(self) -> float:
        return self._epoch + self._mono

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(float(seconds))
        self.advance(seconds)

    def advance(self, seconds: float) -> None:
        self._mono += max(0.0, float(seconds))


def utc_now(clock: Clock) -> pd.Timestamp:
    """The clock's wall time as a UTC timestamp."""
    import pandas as pd

    return pd.Timestamp(clock.time(), unit="s", tz="UTC")


# ---------------------------------------------------------------------------------- retries
@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter. Times in seconds."""

    max_attempts: int = 4
    base_s: float = 0.5
    max_s: float = 30.0
    max_retry_after_s: float = 120.0
    jitter: bool = True

    def delay(self, attempt: int, retry_after: float | None, rng: random.Random) -> float | None:
        """Wait before attempt ``attempt + 1``; ``None`` when the source asks for too long."""
        if retry_after is not None:
            return max(0.0, retry_after) if retry_after <= self.max_retry_after_s else None
        backoff = min(self.max_s, self.base_s * 2 ** (attempt - 1))
        if not self.jitter:
            return backoff
        return backoff / 2 + rng.uniform(0, backoff / 2)


def parse_retry_after(value: str | None, now_epoch: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta seconds or an HTTP date)."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - now_epoch)


# ---------------------------------------------------------------------------------- breaker
CLOSED, OPEN, HALF_OPEN = "closed", "open", "half-open"


class CircuitBreaker:
    """Consecutive-failure circuit breaker (see the module docstring)."""

    def __init__(
        self, name: str, clock: Clock, *, failure_threshold: int = 5, reset_s: float = 60.0
    ) -> None:
        self.name = name
        self.clock = clock
        self.failure_threshold = failure_threshold
        self.reset_s = reset_s
        self.failures = 0
        self._opened_at: float | None = None
        self._trial = False
        self._lock = threading.Lock()

    @property
    def state(self) -> str:
        if self._opened_at is None:
            return CLOSED
        if self.clock.monotonic() - self._opened_at >= self.reset_s:
            return HALF_OPEN
        return OPEN

    def before_call(self) -> None:
        """Raise :class:`CircuitOpen` unless a call may go through now."""
        with self._lock:
            state = self.state
            if state == CLOSED:
                return
            if state == HALF_OPEN and not self._trial:
                self._trial = True  # exactly one trial call
                return
            assert self._opened_at is not None
            wait = self.reset_s - (self.clock.monotonic() - self._opened_at)
            raise CircuitOpen(
                f"circuit open after {self.failures} consecutive failures; "
                f"next try in {max(wait, 0):.0f} s",
                provider=self.name,
                retry_after=max(wait, 0.0),
            )

    def record_success(self) -> None:
        with self._lock:
            self.failures = 0
            self._opened_at = None
            self._trial = False

    def record_failure(self) -> None:
        with self._lock:
            self.failures += 1
            if self._trial or self.failures >= self.failure_threshold:
                self._opened_at = self.clock.monotonic()
            self._trial = False

    def as_dict(self) -> dict[str, Any]:
        return {"state": self.state, "consecutive_failures": self.failures}


# ---------------------------------------------------------------------------------- limiter
class TokenBucket:
    """Token-bucket rate limiter: ``rate_per_s`` tokens per second, at most ``capacity`` saved.

    ``acquire`` reserves a token and sleeps (through the clock) until it is due, so concurrent
    callers queue fairly without holding the lock while they wait.
    """

    def __init__(self, rate_per_s: float, capacity: float, clock: Clock) -> None:
        if rate_per_s <= 0 or capacity < 1:
            raise ValueError("rate_per_s must be > 0 and capacity >= 1")
        self.rate = rate_per_s
        self.capacity = capacity
        self.clock = clock
        self._tokens = capacity
        self._last = clock.monotonic()
        self._lock = threading.Lock()

    def acquire(self) -> float:
        """Take one token; return the seconds waited for it."""
        with self._lock:
            now = self.clock.monotonic()
            self._tokens = min(self.capacity, self._tokens + (now - self._last) * self.rate)
            self._last = now
            self._tokens -= 1
            wait = -self._tokens / self.rate if self._tokens < 0 else 0.0
        if wait > 0:
            self.clock.sleep(wait)
        return wait


# ---------------------------------------------------------------------------------- cache
class Cache(Protocol):
    """Byte cache with per-entry time-to-live (seconds)."""

    def get(self, key: str) -> bytes | None: ...

    def set(self, key: str, value: bytes, ttl_s: float) -> None: ...


class TTLCache:
    """In-process LRU cache with expiry, thread-safe."""

    def __init__(self, clock: Clock, max_entries: int = 2048) -> None:
        self.clock = clock
        self.max_entries = max_entries
        self._data: OrderedDict[str, tuple[float, bytes]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        with self._lock:
            item = self._data.get(key)
            if item is None:
                return None
            expires, value = item
            if self.clock.monotonic() >= expires:
                del self._data[key]
                return None
            self._data.move_to_end(key)
            return value

    def set(self, key: str, value: bytes, ttl_s: float) -> None:
        if ttl_s <= 0:
            return
        with self._lock:
            self._data[key] = (self.clock.monotonic() + ttl_s, value)
            self._data.move_to_end(key)
            while len(self._data) > self.max_entries:
                self._data.popitem(last=False)

    def __len__(self) -> int:
        return len(self._data)


class RedisCache:
    """Cache in Redis (server mode), shared by all processes. Best effort: a Redis error is
    logged and treated as a miss, so a Redis outage never breaks fetching."""

    def __init__(self, client: Any, prefix: str = "noxfx:providers:") -> None:
        self.client = client
        self.prefix = prefix

    @classmethod
    def from_url(cls, url: str, prefix: str = "noxfx:providers:") -> RedisCache:
        import redis

        return cls(redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2), prefix)

    def get(self, key: str) -> bytes | None:
        try:
            value = self.client.get(self.prefix + key)
        except Exception as exc:  # redis.RedisError, OSError
            log.warning("redis cache get failed: %s", exc)
            return None
        return bytes(value) if value is not None else None

    def set(self, key: str, value: bytes, ttl_s: float) -> None:
        if ttl_s <= 0:
            return
        try:
            self.client.set(self.prefix + key, value, px=max(1, int(ttl_s * 1000)))
        except Exception as exc:
            log.warning("redis cache set failed: %s", exc)


def cache_key(*parts: Any) -> str:
    """A stable key for request ``parts`` (hashed, so API keys never appear in Redis)."""
    text = "\x1f".join(repr(p) for p in parts)
    return hashlib.sha256(text.encode()).hexdigest()


def make_cache(redis_url: str | None, clock: Clock) -> Cache:
    """Redis when ``redis_url`` is set, else an in-process TTL cache."""
    if redis_url:
        return RedisCache.from_url(redis_url)
    return TTLCache(clock)


# ---------------------------------------------------------------------------------- guard
@dataclass
class Guard:
    """Breaker + rate limit + retries around one provider's outbound calls."""

    name: str
    clock: Clock = field(default_factory=SystemClock)
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    breaker: CircuitBreaker | None = None
    limiter: TokenBucket | None = None
    rng: random.Random = field(default_factory=random.Random)

    def __post_init__(self) -> None:
        if self.breaker is None:
            self.breaker = CircuitBreaker(self.name, self.clock)

    def call(self, fn: Callable[[], T]) -> T:
        """Run ``fn`` with the breaker, the rate limit and the retry policy."""
        breaker = self.breaker
        assert breaker is not None
        attempt = 0
        while True:
            attempt += 1
            breaker.before_call()
            if self.limiter is not None:
                self.limiter.acquire()
            try:
                result = fn()
            except ProviderError as exc:
                if exc.counts_as_failure:
                    breaker.record_failure()
                else:
                    breaker.record_success()  # the source answered: it is up
                exc.attempts = attempt
                wait = self._wait(exc, attempt)
                if wait is None:
                    if attempt > 1:
                        exc.add_context(f"gave up after {attempt} attempts")
                    raise
                log.info("%s: %s; retry %d in %.1f s", self.name, exc, attempt, wait)
                self.clock.sleep(wait)
                continue
            breaker.record_success()
            return result

    def _wait(self, exc: ProviderError, attempt: int) -> float | None:
        if not exc.transient or attempt >= self.policy.max_attempts:
            return None
        return self.policy.delay(attempt, exc.retry_after, self.rng)


# ---------------------------------------------------------------------------------- fallback
class FallbackProvider(Provider):
    """Ask ``providers`` in order; the first that answers wins.

    A provider is skipped when it does not carry the symbol/timeframe or is not configured; any
    :class:`ProviderError` (after that provider's own retries) moves on to the next. When all
    fail, :class:`AllProvidersFailed` lists each reason. The returned frame's
    ``attrs["provider"]`` names the provider that served it.
    """

    name = "chain"

    def __init__(self, providers: Sequence[Provider]) -> None:
        if not providers:
            raise ValueError("a fallback chain needs at least one provider")
        self.providers = list(providers)

    @property
    def label(self) -> str:
        return ">".join(p.name for p in self.providers)

    def capabilities(self) -> Capabilities:
        caps = [p.capabilities() for p in self.providers]
        native = tuple(dict.fromkeys(tf for c in caps for tf in c.timeframes))
        symbols: frozenset[str] | None = frozenset()
        for c in caps:
            symbols = None if symbols is None or c.symbols is None else symbols | c.symbols
        return Capabilities(
            history=any(c.history for c in caps), quotes=any(c.quotes for c in caps),
            stream=any(c.stream for c in caps), native=native, symbols=symbols,
            notes=f"fallback chain {self.label}",
        )  # fmt: skip

    def configured(self) -> tuple[bool, str]:
        states = [(p.name, p.configured()[0]) for p in self.providers]
        ok = [n for n, c in states if c]
        return bool(ok), f"configured: {', '.join(ok) or 'none'}"

    def _map_symbol(self, instrument: Instrument) -> str:
        return instrument.symbol

    def _first(
        self, what: str, usable: Callable[[Provider], bool], fn: Callable[[Provider], T]
    ) -> T:
        reasons: list[str] = []
        for p in self.providers:
            ok, note = p.configured()
            if not ok:
                reasons.append(f"{p.name}: not configured ({note})")
                continue
            if not usable(p):
                reasons.append(f"{p.name}: does not serve this")
                continue
            try:
                return fn(p)
            except ProviderError as exc:
                log.warning("fallback: %s failed: %s", p.name, exc)
                reasons.append(str(exc) if str(exc).startswith(p.name) else f"{p.name}: {exc}")
        raise AllProvidersFailed(f"no provider could serve {what}: " + " | ".join(reasons))

    def history(
        self, symbol: str, timeframe: str | Timeframe, start: Any, end: Any
    ) -> pd.DataFrame:
        def one(p: Provider) -> pd.DataFrame:
            frame = p.history(symbol, timeframe, start, end)
            frame.attrs["provider"] = p.name
            return frame

        return self._first(
            f"{symbol} {timeframe} history", lambda p: p.supports(symbol, timeframe), one
        )

    def quote(self, symbols: Sequence[str]) -> list[Quote]:
        def usable(p: Provider) -> bool:
            return p.capabilities().quotes and all(p.supports(s) for s in symbols)

        return self._first(f"quotes for {', '.join(symbols)}", usable, lambda p: p.quote(symbols))

    def stream(self, symbols: Sequence[str]) -> Iterator[Tick]:
        def usable(p: Provider) -> bool:
            return p.capabilities().stream and all(p.supports(s) for s in symbols)

        return self._first("a tick stream", usable, lambda p: p.stream(symbols))

    def request_span(self, timeframe: str | Timeframe) -> pd.Timedelta:
        """The smallest span of the chain's members: a chunk any of them can serve."""
        return min(p.request_span(timeframe) for p in self.providers)


__all__ = [
    "CLOSED",
    "HALF_OPEN",
    "OPEN",
    "Cache",
    "CircuitBreaker",
    "Clock",
    "FallbackProvider",
    "Guard",
    "ManualClock",
    "RedisCache",
    "RetryPolicy",
    "SystemClock",
    "TTLCache",
    "TokenBucket",
    "cache_key",
    "make_cache",
    "parse_retry_after",
    "utc_now",
]
