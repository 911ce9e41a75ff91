"""Provider names -> configured, guarded provider instances.

A :class:`Registry` holds what the providers of one process share: the settings, the clock, the
response cache (in-process, or Redis with ``NOX_REDIS_URL``) and one
:class:`~noxfx.data.providers.resilience.Guard` per provider name, so a provider's circuit
breaker and rate limiter persist across calls (the API service keeps one registry for its
lifetime; each CLI command builds one). Tests build their own with a
:class:`~noxfx.data.providers.resilience.ManualClock`.

Per-provider request rates (token bucket: requests per second, burst) are set below from each
source's documented limit, or a polite rate where none is published.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from noxfx.data.providers._http import HttpClient
from noxfx.data.providers.base import Provider
from noxfx.data.providers.resilience import (
    Cache,
    CircuitBreaker,
    Clock,
    FallbackProvider,
    Guard,
    RetryPolicy,
    SystemClock,
    TokenBucket,
    make_cache,
)
from noxfx.data.providers.settings import ProviderSettings, get_provider_settings
from noxfx.errors import InvalidInput

if TYPE_CHECKING:
    from noxfx.data.store import BarStore

PROVIDER_NAMES: tuple[str, ...] = (
    "replay", "tradingview", "oanda", "yahoo", "alphavantage", "dukascopy",
)  # fmt: skip

#: name -> (requests per second, burst). OANDA documents 120/s per IP (we stay below); Alpha
#: Vantage's free plan allows 5/min; the others publish nothing, so we are polite.
RATE_LIMITS: dict[str, tuple[float, float]] = {
    "oanda": (100.0, 100.0), "tradingview": (1.0, 3.0), "yahoo": (2.0, 5.0),
    "alphavantage": (5 / 60, 5.0), "dukascopy": (10.0, 20.0),
}  # fmt: skip


class Registry:
    """Builds providers that share settings, clock, cache and per-provider guards."""

    def __init__(
        self,
        settings: ProviderSettings | None = None,
        *,
        clock: Clock | None = None,
        cache: Cache | None = None,
        store: BarStore | None = None,
        session_factory: Callable[[], Any] | None = None,
        rng: random.Random | None = None,
        jitter: bool = True,
    ) -> None:
        self.settings = settings if settings is not None else get_provider_settings()
        self.clock = clock or SystemClock()
        self.cache = cache if cache is not None else make_cache(self.settings.redis_url, self.clock)
        self._store = store
        self.session_factory = session_factory
        self.rng = rng or random.Random()
        self.policy = RetryPolicy(
            max_attempts=self.settings.provider_retries, base_s=self.settings.provider_backoff,
            max_s=self.settings.provider_backoff_max, jitter=jitter,
        )  # fmt: skip
        self._guards: dict[str, Guard] = {}
        self._clients: dict[str, HttpClient] = {}
        self._lock = threading.Lock()

    @property
    def store(self) -> BarStore:
        if self._store is None:
            from noxfx.data.store import BarStore

            self._store = BarStore.default()
        return self._store

    # ------------------------------------------------------------------ shared pieces
    def guard(self, name: str) -> Guard:
        """The guard (breaker, limiter, retries) of provider ``name``, created once."""
        with self._lock:
            if name not in self._guards:
                breaker = CircuitBreaker(
                    name, self.clock, failure_threshold=self.settings.provider_breaker_failures,
                    reset_s=self.settings.provider_breaker_reset,
                )  # fmt: skip
                rate = RATE_LIMITS.get(name)
                limiter = TokenBucket(rate[0], rate[1], self.clock) if rate else None
                self._guards[name] = Guard(name, self.clock, self.policy, breaker, limiter,
                                           self.rng)  # fmt: skip
            return self._guards[name]

    def client(self, name: str) -> HttpClient:
        """The HTTP client of provider ``name``, created once: its own ``requests.Session``
        (connection reuse), the shared cache and the provider's guard."""
        with self._lock:
            if name in self._clients:
                return self._clients[name]
        client = HttpClient(
            name, self.guard(name),
            session=self.session_factory() if self.session_factory else None,
            timeout_s=self.settings.provider_timeout,
            connect_timeout_s=self.settings.provider_connect_timeout, cache=self.cache,
        )  # fmt: skip
        with self._lock:
            return self._clients.setdefault(name, client)

    # ------------------------------------------------------------------ providers
    def create(self, name: str) -> Provider:
        """A provider by name (see :data:`PROVIDER_NAMES`)."""
        key = name.strip().lower()
        ttl = self.settings.provider_cache_ttl
        if key == "replay":
            from noxfx.data.providers.replay import ReplayProvider

            return ReplayProvider(self.store, clock=self.clock)
        if key == "tradingview":
            from noxfx.data.providers.tradingview import TradingViewProvider

            return TradingViewProvider(self.client(key))
        if key == "oanda":
            from noxfx.data.providers.oanda import OandaProvider

            s = self.settings
            return OandaProvider(self.client(key), token=s.secret("oanda_token"),
                                 environment=s.oanda_env, account_id=s.oanda_account,
                                 cache_ttl_s=ttl, stream_url=s.oanda_stream_url)  # fmt: skip
        if key == "yahoo":
            from noxfx.data.providers.yahoo import YahooProvider

            return YahooProvider(self.client(key), cache_ttl_s=ttl)
        if key == "alphavantage":
            from noxfx.data.providers.alphavantage import AlphaVantageProvider

            return AlphaVantageProvider(self.client(key),
                                        api_key=self.settings.secret("alphavantage_key"),
                                        cache_ttl_s=ttl)  # fmt: skip
        if key == "dukascopy":
            from noxfx.data.providers.dukascopy import DukascopyProvider

            return DukascopyProvider(self.client(key))
        if key == "chain":
            return self.chain()
        raise InvalidInput(
            f"Unknown provider {name!r}. Valid: {', '.join(PROVIDER_NAMES)} or chain "
            f"(NOX_PROVIDER_CHAIN={self.settings.provider_chain})."
        )

    def chain(self, names: Sequence[str] | None = None) -> FallbackProvider:
        """The fallback chain ``names`` (default: ``NOX_PROVIDER_CHAIN``)."""
        order = [n.strip().lower() for n in (names or self.settings.chain) if n.strip()]
        if not order:
            raise InvalidInput("The provider chain is empty: set NOX_PROVIDER_CHAIN.")
        return FallbackProvider([self.create(n) for n in order])

    def status(self, names: Sequence[str] | None = None) -> list[dict[str, Any]]:
        """Per provider: name, configured?, a note, circuit state, capabilities (plain JSON).

        Circuit states are this process's (breakers are in-process)."""
        rows = []
        for name in names or PROVIDER_NAMES:
            provider = self.create(name)
            row = provider.describe()
            breaker = self.guard(name).breaker
            row["circuit"] = breaker.as_dict() if breaker else None
            row["in_chain"] = name in self.settings.chain
            rows.append(row)
        return rows


_default: Registry | None = None
_default_lock = threading.Lock()


def default_registry() -> Registry:
    """The process-wide registry (settings read from the environment at first use)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = Registry()
        return _default


def create_provider(name: str, registry: Registry | None = None) -> Provider:
    """A provider by name from ``registry`` (default: the process-wide one)."""
    return (registry or default_registry()).create(name)


__all__ = ["PROVIDER_NAMES", "RATE_LIMITS", "Registry", "create_provider", "default_registry"]
