"""Market-data providers: one interface, six sources, resilient fetching into the bar store.

=============== ============================================================================
module          what it owns
=============== ============================================================================
base            :class:`Provider` interface, :class:`Quote`, :class:`Tick`,
                :class:`Capabilities`, the :class:`ProviderError` tree
replay          stored bars as history, quotes and a (paced) tick stream: the embedded default
tradingview     TradingView's own analysis and screens (tradingview-ta / -screener), and
                :func:`compare_ratings` (ours beside theirs)
oanda           OANDA v20 REST: bid/ask candles, pricing, pricing stream
yahoo           Yahoo chart JSON API (direct, via requests)
alphavantage    Alpha Vantage FX_INTRADAY / FX_DAILY / CURRENCY_EXCHANGE_RATE
dukascopy       Dukascopy hourly ``.bi5`` tick files -> bid bars
resilience      timeouts, retries with backoff + jitter, circuit breaker, token bucket,
                TTL/Redis cache, fallback chain; injectable clock
registry        names -> configured providers sharing guards and cache
settings        ``NOX_OANDA_*``, ``NOX_ALPHAVANTAGE_KEY``, ``NOX_PROVIDER_CHAIN`` ...
fetch           :func:`fetch` (chunked, validated, resumable) and :func:`crosscheck`
=============== ============================================================================

Typical use::

    from noxfx.data.providers import Registry, fetch
    from noxfx.data.store import BarStore

    registry = Registry()
    fetch(BarStore.default(), registry.create("dukascopy"), "EURUSD", "1h", "2024-01-01")
"""

from __future__ import annotations

from noxfx.data.providers.base import (
    AllProvidersFailed,
    Capabilities,
    CapabilityMissing,
    CircuitOpen,
    MalformedPayload,
    NotConfigured,
    Provider,
    ProviderError,
    ProviderTimeout,
    ProviderUnavailable,
    QuotaExceeded,
    Quote,
    RateLimited,
    SymbolNotSupported,
    Tick,
    TimeframeNotSupported,
)
from noxfx.data.providers.fetch import (
    CrossCheckReport,
    FetchProgress,
    FetchResult,
    crosscheck,
    fetch,
)
from noxfx.data.providers.registry import PROVIDER_NAMES, Registry, create_provider
from noxfx.data.providers.resilience import FallbackProvider, ManualClock, SystemClock

__all__ = [
    "PROVIDER_NAMES",
    "AllProvidersFailed",
    "Capabilities",
    "CapabilityMissing",
    "CircuitOpen",
    "CrossCheckReport",
    "FallbackProvider",
    "FetchProgress",
    "FetchResult",
    "MalformedPayload",
    "ManualClock",
    "NotConfigured",
    "Provider",
    "ProviderError",
    "ProviderTimeout",
    "ProviderUnavailable",
    "QuotaExceeded",
    "Quote",
    "RateLimited",
    "Registry",
    "SymbolNotSupported",
    "SystemClock",
    "Tick",
    "TimeframeNotSupported",
    "create_provider",
    "crosscheck",
    "fetch",
]
