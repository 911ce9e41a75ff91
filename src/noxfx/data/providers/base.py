"""The one interface every market-data provider implements, its value types and its errors.

Conventions (the same as the bar store, see :mod:`noxfx.data.bars`):

* ``history(symbol, timeframe, start, end)`` returns a *bar frame*: a DataFrame indexed by the
  **UTC bar open time** (``DatetimeIndex`` named ``time``, ns), float64 ``open high low close
  volume`` (plus ``spread`` in points when the source has it), holding the bars whose open time
  lies in ``[start, end]`` (both inclusive, UTC; naive bounds are read as UTC). Prices are the
  **bid** wherever the source has one (OANDA, Dukascopy); Yahoo, Alpha Vantage and TradingView
  publish a single indicative price. The frame is returned as the source sent it (not sorted or
  de-duplicated): :mod:`noxfx.data.validation` judges it before anything is stored.
* ``quote(symbols)`` returns one :class:`Quote` per symbol: bid, ask, and the UTC time the price
  was made (or, for an indicative quote, the time of the price it is derived from).
* ``stream(symbols)`` yields :class:`Tick` objects (optional capability).
* Symbols are our six-letter names (``EURUSD``); each provider maps them to its own spelling
  with :meth:`Provider.source_symbol` (``FX_IDC:EURUSD``, ``EUR_USD``, ``EURUSD=X``, ...).
* Timeframes a source does not publish but can be built from a finer one it does (Yahoo 4h from
  1h) are resampled with :func:`noxfx.timeframes.resample` (forex conventions: 4h and 1d bars
  cut from the 17:00 New York day), after the finer bars pass validation.

Errors are :class:`ProviderError` (a :class:`~noxfx.errors.NoxError`), so the CLI prints them as
one line and exits non-zero. ``transient`` errors (timeouts, 429, 5xx) are retried by
:mod:`noxfx.data.providers.resilience`; the others (unknown symbol, bad key, malformed payload)
are not.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from noxfx.errors import InvalidBars, InvalidInput, NoxError
from noxfx.instruments import CATALOGUE, Instrument, get_instrument
from noxfx.timeframes import TIMEFRAMES, Timeframe, parse_timeframe

if TYPE_CHECKING:
    import pandas as pd


# ---------------------------------------------------------------------------------- errors
class ProviderError(NoxError):
    """A market-data source failed or refused a request.

    ``transient`` errors may succeed when retried (timeouts, HTTP 429 and 5xx); ``retry_after``
    is the wait in seconds the source asked for (``Retry-After``), if any; ``status`` the HTTP
    status when there was one.
    """

    exit_code = 6
    kind = "provider-error"
    transient: bool = False
    #: whether the failure says something about the source's health (counts for the breaker)
    counts_as_failure: bool = True

    def __init__(
        self,
        message: str,
        *,
        provider: str = "",
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(f"{provider}: {message}" if provider else message)
        self.provider = provider
        self.status = status
        self.retry_after = retry_after
        self.attempts = 1

    def add_context(self, text: str) -> None:
        """Append ``text`` to the message (what was done before the failure, how to resume)."""
        self.message = f"{self.message}; {text}"
        self.args = (self.message,)


class ProviderUnavailable(ProviderError):
    """Connection refused/reset or HTTP 5xx: the source is down for now."""

    kind = "provider-unavailable"
    transient = True


class ProviderTimeout(ProviderUnavailable):
    """The source did not answer within the configured timeout."""

    kind = "provider-timeout"


class RateLimited(ProviderError):
    """HTTP 429 or a throttle payload: too many requests; ``retry_after`` says how long to wait."""

    kind = "provider-rate-limited"
    transient = True


class QuotaExceeded(ProviderError):
    """A daily/plan quota is used up (waiting seconds will not help, so it is not retried)."""

    kind = "provider-quota"


class CircuitOpen(ProviderError):
    """The provider's circuit breaker is open after repeated failures: not called for now."""

    kind = "provider-circuit-open"
    counts_as_failure = False


class NotConfigured(ProviderError):
    """A setting the provider needs is missing or rejected (token, API key, account id)."""

    exit_code = 2
    kind = "provider-not-configured"
    counts_as_failure = False


class SymbolNotSupported(ProviderError):
    """The source does not carry this instrument."""

    exit_code = 2
    kind = "provider-symbol-unsupported"
    counts_as_failure = False


class TimeframeNotSupported(ProviderError):
    """The source cannot serve this timeframe (or this far back at this timeframe)."""

    exit_code = 2
    kind = "provider-timeframe-unsupported"
    counts_as_failure = False


class CapabilityMissing(ProviderError):
    """The source has no such service (history from TradingView, quotes from Dukascopy...)."""

    exit_code = 2
    kind = "provider-capability-missing"
    counts_as_failure = False


class MalformedPayload(ProviderError):
    """The source answered, but not in its documented format (nothing from it is stored)."""

    kind = "provider-malformed-payload"


class AllProvidersFailed(ProviderError):
    """Every provider of a fallback chain failed; the message lists why, one per provider."""

    kind = "provider-chain-failed"


# ---------------------------------------------------------------------------------- values
@dataclass(frozen=True, slots=True)
class Quote:
    """A two-sided price. ``time`` is UTC. ``indicative`` is true when bid/ask were derived from
    a single price (a bar close, a mid) with the instrument's typical spread, not quoted."""

    symbol: str
    bid: float
    ask: float
    time: pd.Timestamp
    source: str
    indicative: bool = False

    @property
    def mid(self) -> float:
        return (self.bid + self.ask) / 2

    @property
    def spread_pips(self) -> float:
        """Ask minus bid, in pips of the instrument."""
        return get_instrument(self.symbol).to_pips(self.ask - self.bid)

    def as_dict(self) -> dict[str, Any]:
        return {
            "symbol": self.symbol, "bid": self.bid, "ask": self.ask, "mid": self.mid,
            "spread_pips": round(self.spread_pips, 2), "time": self.time.isoformat(),
            "source": self.source, "indicative": self.indicative,
        }  # fmt: skip


@dataclass(frozen=True, slots=True)
class Tick:
    """One price update. ``time`` is UTC; volumes are in the source's units (Dukascopy:
    millions of base units; OANDA: liquidity of the best bucket) and NaN when unknown."""

    symbol: str
    time: pd.Timestamp
    bid: float
    ask: float
    source: str
    bid_volume: float = float("nan")
    ask_volume: float = float("nan")

    def as_dict(self) -> dict[str, Any]:
        return {"symbol": self.symbol, "time": self.time.isoformat(), "bid": self.bid,
                "ask": self.ask, "source": self.source}  # fmt: skip


ALL_TIMEFRAMES: tuple[str, ...] = tuple(TIMEFRAMES)


@dataclass(frozen=True)
class Capabilities:
    """What a provider can do.

    * ``native``: timeframes the source publishes itself; ``derived``: timeframe -> the finer
      native one it is resampled from.
    * ``max_depth_days``: how far back (days before now) each timeframe can be requested; ``None``
      means no documented limit.
    * ``request_days``: how many days one request (or one fetch chunk) should span per timeframe.
    * ``symbols``: our symbols the source carries; ``None`` means the whole catalogue.
    * ``needs``: the ``NOX_*`` settings it requires.
    """

    history: bool
    quotes: bool
    stream: bool = False
    native: tuple[str, ...] = ()
    derived: Mapping[str, str] = field(default_factory=dict)
    max_depth_days: Mapping[str, float | None] = field(default_factory=dict)
    request_days: Mapping[str, float] = field(default_factory=dict)
    symbols: frozenset[str] | None = None
    needs: tuple[str, ...] = ()
    notes: str = ""

    @property
    def timeframes(self) -> tuple[str, ...]:
        """Every timeframe served (native or derived), finest first."""
        have = set(self.native) | set(self.derived)
        return tuple(tf for tf in ALL_TIMEFRAMES if tf in have)

    def supports_symbol(self, symbol: str) -> bool:
        return self.symbols is None or symbol in self.symbols

    def as_dict(self) -> dict[str, Any]:
        return {
            "history": self.history, "quotes": self.quotes, "stream": self.stream,
            "timeframes": list(self.timeframes), "native": list(self.native),
            "derived": dict(self.derived), "max_depth_days": dict(self.max_depth_days),
            "symbols": "all" if self.symbols is None else sorted(self.symbols),
            "needs": list(self.needs), "notes": self.notes,
        }  # fmt: skip


# ---------------------------------------------------------------------------------- helpers
def utc_timestamp(value: Any, what: str = "time") -> pd.Timestamp:
    """Parse a bound or stamp as a UTC timestamp (naive values are UTC)."""
    import pandas as pd

    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError) as exc:
        raise InvalidInput(f"Not a date/time for {what}: {value!r} (use e.g. 2020-01-31).") from exc
    if ts is pd.NaT:
        raise InvalidInput(f"Not a date/time for {what}: {value!r}.")
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def bars_from_columns(times: Any, columns: Mapping[str, Any]) -> pd.DataFrame:
    """Build a bar frame from parallel arrays; ``times`` are UTC stamps (unreadable -> NaT)."""
    import numpy as np
    import pandas as pd

    index = pd.DatetimeIndex(pd.to_datetime(times, utc=True, errors="coerce"), name="time")
    data = {k: np.asarray(v, dtype="float64") for k, v in columns.items()}
    frame = pd.DataFrame(data, index=index.as_unit("ns"))
    if "volume" not in frame:
        frame["volume"] = 0.0
    return frame


def float_or_nan(value: Any) -> float:
    """``float(value)``, with ``None``/empty/unparseable as NaN (validation flags those rows)."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


def indicative_quote(
    symbol: str, price: float, time: pd.Timestamp, source: str, *, price_is: str = "mid"
) -> Quote:
    """A quote built from one price and the instrument's typical spread.

    ``price_is="bid"`` puts the spread above the price (bars are bid prices); ``"mid"`` splits it.
    """
    inst = get_instrument(symbol)
    spread = inst.from_pips(inst.typical_spread_pips)
    bid = price if price_is == "bid" else price - spread / 2
    return Quote(inst.symbol, inst.round_price(bid), inst.round_price(bid + spread), time, source,
                 indicative=True)  # fmt: skip


# ---------------------------------------------------------------------------------- interface
class Provider(ABC):
    """A market-data source. Subclasses implement :meth:`capabilities`, :meth:`_map_symbol`,
    and whichever of :meth:`_history`, :meth:`quote`, :meth:`stream` they support."""

    name: ClassVar[str] = "provider"

    @abstractmethod
    def capabilities(self) -> Capabilities:
        """What this provider serves (see :class:`Capabilities`)."""

    def configured(self) -> tuple[bool, str]:
        """Whether the settings it needs are present, and a short note saying so."""
        return True, "no settings needed"

    # -------------------------------------------------------------- symbols
    @abstractmethod
    def _map_symbol(self, instrument: Instrument) -> str:
        """The source's spelling of a catalogue instrument."""

    def instrument(self, symbol: str) -> Instrument:
        """The catalogue instrument for ``symbol``, if this provider carries it."""
        inst = get_instrument(symbol)
        if not self.capabilities().supports_symbol(inst.symbol):
            raise SymbolNotSupported(f"{inst.symbol} is not available", provider=self.name)
        return inst

    def source_symbol(self, symbol: str) -> str:
        """Map our symbol (``EURUSD``) to the source's (``EUR_USD``, ``EURUSD=X``, ...)."""
        return self._map_symbol(self.instrument(symbol))

    def supports(self, symbol: str, timeframe: str | Timeframe | None = None) -> bool:
        """True when the provider carries ``symbol`` (and serves ``timeframe`` history)."""
        caps = self.capabilities()
        sym = get_instrument(symbol).symbol
        if not caps.supports_symbol(sym):
            return False
        return timeframe is None or (
            caps.history and parse_timeframe(timeframe).name in caps.timeframes
        )

    # -------------------------------------------------------------- history
    def history(
        self, symbol: str, timeframe: str | Timeframe, start: Any, end: Any
    ) -> pd.DataFrame:
        """Bars of ``symbol`` opened in ``[start, end]`` (UTC), see the module docstring."""
        from noxfx.data.bars import as_bar_frame

        caps = self.capabilities()
        if not caps.history:
            raise CapabilityMissing("serves no price history", provider=self.name)
        inst = self.instrument(symbol)
        tf = parse_timeframe(timeframe)
        lo, hi = utc_timestamp(start, "start"), utc_timestamp(end, "end")
        if lo > hi:
            raise InvalidInput(f"start {lo:%Y-%m-%d %H:%M} is after end {hi:%Y-%m-%d %H:%M}.")
        if tf.name in caps.native:
            frame = self._history(inst, tf, lo, hi)
        elif tf.name in caps.derived:
            frame = self._derived_history(inst, tf, parse_timeframe(caps.derived[tf.name]), lo, hi)
        else:
            raise TimeframeNotSupported(
                f"no {tf} bars (serves {', '.join(caps.timeframes)})", provider=self.name
            )
        frame = as_bar_frame(frame)
        # keep unparseable stamps (NaT): validation must see and report them
        frame = frame[frame.index.isna() | ((frame.index >= lo) & (frame.index <= hi))]
        frame.attrs["provider"] = self.name
        return frame

    def _history(
        self, instrument: Instrument, timeframe: Timeframe, start: pd.Timestamp, end: pd.Timestamp
    ) -> pd.DataFrame:
        """Native bars for ``[start, end]`` (may include bars just outside; trimmed by caller)."""
        raise CapabilityMissing("serves no price history", provider=self.name)

    def _derived_history(
        self,
        inst: Instrument,
        tf: Timeframe,
        base: Timeframe,
        start: pd.Timestamp,
        end: pd.Timestamp,
    ) -> pd.DataFrame:
        """``tf`` bars resampled from validated ``base`` bars covering whole ``tf`` buckets."""
        import pandas as pd

        from noxfx.data.bars import as_bar_frame
        from noxfx.data.validation import validate
        from noxfx.timeframes import bucket_close, bucket_open, resample

        lo = bucket_open(pd.DatetimeIndex([start]), tf)[0]
        hi = bucket_close(bucket_open(pd.DatetimeIndex([end]), tf)[0], tf) - pd.Timedelta(1, "ns")
        raw = as_bar_frame(self._history(inst, base, lo, hi))
        raw = raw[raw.index.isna() | ((raw.index >= lo) & (raw.index <= hi))]
        report = validate(raw, base, source=f"{self.name} {inst.symbol} {base}")
        if not report.ok:
            raise InvalidBars(
                f"{self.name}: {inst.symbol} {base} bars (to build {tf}) failed validation: "
                + "; ".join(report.lines(limit=3)),
                report=report,
            )
        return resample(raw, tf, source=base)

    # -------------------------------------------------------------- quotes and ticks
    def quote(self, symbols: Sequence[str]) -> list[Quote]:
        """Latest two-sided price of each symbol."""
        raise CapabilityMissing("serves no quotes", provider=self.name)

    def stream(self, symbols: Sequence[str]) -> Iterator[Tick]:
        """Live (or replayed) ticks of ``symbols``; runs until the source ends or the caller
        stops iterating."""
        raise CapabilityMissing("serves no tick stream", provider=self.name)

    # -------------------------------------------------------------- fetching
    def request_span(self, timeframe: str | Timeframe) -> pd.Timedelta:
        """How much time one fetch chunk should cover at ``timeframe`` (default 5,000 bars)."""
        import pandas as pd

        tf = parse_timeframe(timeframe)
        days = self.capabilities().request_days.get(tf.name)
        if days is not None:
            return pd.Timedelta(days=days)
        return pd.Timedelta(seconds=tf.seconds * 5000)

    def describe(self) -> dict[str, Any]:
        """Name, whether configured, and capabilities (plain JSON)."""
        ok, note = self.configured()
        return {"name": self.name, "configured": ok, "note": note,
                "capabilities": self.capabilities().as_dict()}  # fmt: skip


#: every catalogue symbol except the metals (for sources that only carry currencies)
CURRENCY_PAIRS: frozenset[str] = frozenset(s for s, i in CATALOGUE.items() if i.kind != "metal")


__all__ = [
    "ALL_TIMEFRAMES",
    "CURRENCY_PAIRS",
    "AllProvidersFailed",
    "Capabilities",
    "CapabilityMissing",
    "CircuitOpen",
    "MalformedPayload",
    "NotConfigured",
    "Provider",
    "ProviderError",
    "ProviderTimeout",
    "ProviderUnavailable",
    "QuotaExceeded",
    "Quote",
    "RateLimited",
    "SymbolNotSupported",
    "Tick",
    "TimeframeNotSupported",
    "bars_from_columns",
    "float_or_nan",
    "indicative_quote",
    "utc_timestamp",
]
