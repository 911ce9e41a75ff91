"""Alpha Vantage: FX_INTRADAY, FX_DAILY and CURRENCY_EXCHANGE_RATE.

``GET https://www.alphavantage.co/query?function=...&apikey=KEY`` (documentation:
alphavantage.co/documentation/#fx; key names as read by the reference client
RomelTorres/alpha_vantage ``foreignexchange.py``):

* ``function=FX_INTRADAY&from_symbol=EUR&to_symbol=USD&interval=60min&outputsize=full`` ->
  ``{"Meta Data": {"1. Information", "2. From Symbol", "3. To Symbol", "4. Last Refreshed",
  "5. Interval", "6. Output Size", "7. Time Zone"}, "Time Series FX (60min)": {"2024-01-05
  21:00:00": {"1. open": "1.09420", "2. high", "3. low", "4. close"}, ...}}`` (newest first).
  Intervals 1min 5min 15min 30min 60min. A premium endpoint on current plans.
* ``function=FX_DAILY&from_symbol=EUR&to_symbol=USD&outputsize=full`` -> the same with
  ``"Time Series FX (Daily)"`` keyed by date.
* ``function=CURRENCY_EXCHANGE_RATE&from_currency=EUR&to_currency=USD`` ->
  ``{"Realtime Currency Exchange Rate": {"1. From_Currency Code", ..., "5. Exchange Rate",
  "6. Last Refreshed", "7. Time Zone", "8. Bid Price", "9. Ask Price"}}``.

Errors arrive with HTTP 200 and one key instead of the data: ``"Error Message"`` (bad call or
symbol), ``"Note"`` (per-minute throttle: :class:`RateLimited`, retried after 60 s) and
``"Information"`` (daily quota or premium-only endpoint: :class:`QuotaExceeded`, not retried).
They are checked inside the guard, so they are retried when transient and never cached.

Conventions: intraday stamps are taken as bar **open** times in the time zone the meta data
names (UTC); daily bars are labelled 00:00 UTC of their date (Alpha Vantage does not document its
day cut). There is no volume for FX (0). ``outputsize=full`` returns the whole series in one
response, so a fetch is a single (cached) request however long the range.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from noxfx.data.providers._http import HttpClient, HttpResult
from noxfx.data.providers.base import (
    CURRENCY_PAIRS,
    Capabilities,
    MalformedPayload,
    NotConfigured,
    Provider,
    ProviderError,
    QuotaExceeded,
    Quote,
    RateLimited,
    SymbolNotSupported,
    bars_from_columns,
    float_or_nan,
    indicative_quote,
)
from noxfx.instruments import Instrument

if TYPE_CHECKING:
    import pandas as pd

    from noxfx.timeframes import Timeframe

T = TypeVar("T")
URL = "https://www.alphavantage.co/query"
INTRADAY = {"1m": "1min", "5m": "5min", "15m": "15min", "30m": "30min", "1h": "60min"}
DERIVED = {"4h": "1h", "1w": "1d"}
#: the per-minute throttle clears within a minute
NOTE_RETRY_AFTER_S = 60.0


class AlphaVantageProvider(Provider):
    """Alpha Vantage FX series and exchange rates (needs ``NOX_ALPHAVANTAGE_KEY``)."""

    name = "alphavantage"

    def __init__(self, client: HttpClient, *, api_key: str | None, cache_ttl_s: float = 300.0):
        self.client = client
        self.api_key = api_key
        self.cache_ttl_s = cache_ttl_s

    def capabilities(self) -> Capabilities:
        tfs = (*INTRADAY, "1d", *DERIVED)
        return Capabilities(
            history=True, quotes=True, native=(*INTRADAY, "1d"), derived=DERIVED,
            max_depth_days={tf: None for tf in tfs},
            request_days={tf: 36_500.0 for tf in tfs}, symbols=CURRENCY_PAIRS,
            needs=("NOX_ALPHAVANTAGE_KEY",),
            notes="one request returns the whole series; FX_INTRADAY is a premium endpoint",
        )  # fmt: skip

    def configured(self) -> tuple[bool, str]:
        return (True, "API key set") if self.api_key else (False, "set NOX_ALPHAVANTAGE_KEY")

    def _map_symbol(self, instrument: Instrument) -> str:
        return f"{instrument.base}/{instrument.quote}"

    def _query(
        self, params: Mapping[str, Any], ttl: float, what: str, parse: Callable[[Any], T]
    ) -> T:
        """GET ``params``; in-band errors and ``parse`` run inside the guard (never cached)."""
        if not self.api_key:
            raise NotConfigured("no API key: set NOX_ALPHAVANTAGE_KEY", provider=self.name)

        def parse_result(result: HttpResult) -> T:
            return parse(_payload(result, self.name, what))

        query = {**params, "apikey": self.api_key}
        return self.client.get_parsed(URL, parse_result, query, cache_ttl_s=ttl)

    # ------------------------------------------------------------------ history
    def _history(
        self, instrument: Instrument, timeframe: Timeframe, start: pd.Timestamp, end: pd.Timestamp
    ) -> pd.DataFrame:
        pair = {"from_symbol": instrument.base, "to_symbol": instrument.quote}
        if timeframe.name == "1d":
            params: dict[str, Any] = {"function": "FX_DAILY", **pair, "outputsize": "full"}
        else:
            params = {"function": "FX_INTRADAY", **pair, "interval": INTRADAY[timeframe.name],
                      "outputsize": "full"}  # fmt: skip
        what = f"{instrument.symbol} {timeframe}"
        return self._query(params, self.cache_ttl_s, what,
                           lambda p: parse_series(p, provider=self.name))  # fmt: skip

    # ------------------------------------------------------------------ quotes
    def _rate_parser(self, inst: Instrument) -> Callable[[Any], Quote]:
        return lambda payload: parse_exchange_rate(payload, inst, provider=self.name)

    def quote(self, symbols: Sequence[str]) -> list[Quote]:
        """One CURRENCY_EXCHANGE_RATE request per symbol; bid/ask as quoted (indicative from
        the exchange rate when Alpha Vantage leaves them out)."""
        out = []
        for raw in symbols:
            inst = self.instrument(raw)
            params = {"function": "CURRENCY_EXCHANGE_RATE", "from_currency": inst.base,
                      "to_currency": inst.quote}  # fmt: skip
            out.append(self._query(params, 0.0, inst.symbol, self._rate_parser(inst)))
        return out


def _payload(result: HttpResult, provider: str, what: str) -> Mapping[str, Any]:
    """The JSON object of ``result``; Alpha Vantage's in-band errors (HTTP 200 with a message)
    raised as provider errors."""
    if result.status != 200:
        raise ProviderError(f"HTTP {result.status} for {what}", provider=provider,
                            status=result.status)  # fmt: skip
    payload = result.json(provider)
    if not isinstance(payload, Mapping):
        raise MalformedPayload(f"expected a JSON object for {what}", provider=provider)
    if "Note" in payload:
        raise RateLimited(f"throttled: {str(payload['Note'])[:160]}", provider=provider,
                          retry_after=NOTE_RETRY_AFTER_S)  # fmt: skip
    if "Information" in payload:
        raise QuotaExceeded(f"refused {what}: {str(payload['Information'])[:200]}",
                            provider=provider)  # fmt: skip
    if "Error Message" in payload:
        message = str(payload["Error Message"])
        if "apikey" in message.lower():
            raise NotConfigured(f"API key rejected: {message[:160]}", provider=provider)
        raise SymbolNotSupported(
            f"refused {what} (unknown pair or bad call): {message[:160]}",
            provider=provider,
        )
    return payload


def parse_series(payload: Any, *, provider: str = "alphavantage") -> pd.DataFrame:
    """Bars from an FX_INTRADAY / FX_DAILY response, oldest first."""
    import pandas as pd

    meta = payload.get("Meta Data") if isinstance(payload, Mapping) else None
    keys = [k for k in payload if str(k).startswith("Time Series FX")] if meta else []
    if not isinstance(meta, Mapping) or len(keys) != 1 or not isinstance(payload[keys[0]], Mapping):
        raise MalformedPayload("expected 'Meta Data' and one 'Time Series FX (...)' object",
                               provider=provider)  # fmt: skip
    series = payload[keys[0]]
    tz = next((str(v) for k, v in meta.items() if "Time Zone" in str(k)), "UTC")
    stamps = sorted(series)
    cols: dict[str, list[float]] = {"open": [], "high": [], "low": [], "close": []}
    for stamp in stamps:
        row = series[stamp] if isinstance(series[stamp], Mapping) else {}
        for i, col in enumerate(("open", "high", "low", "close"), start=1):
            cols[col].append(float_or_nan(row.get(f"{i}. {col}")))
    times = pd.to_datetime(pd.Series(stamps, dtype="object"), errors="coerce")
    index = pd.DatetimeIndex(times)
    index = index.tz_localize(tz if tz.upper() != "UTC" else "UTC").tz_convert("UTC")
    return bars_from_columns(index, cols)


def parse_exchange_rate(payload: Any, inst: Instrument, *, provider: str = "alphavantage") -> Quote:
    """A :class:`Quote` from a CURRENCY_EXCHANGE_RATE response."""
    import math

    import pandas as pd

    block = payload.get("Realtime Currency Exchange Rate") if isinstance(payload, Mapping) else None
    if not isinstance(block, Mapping):
        raise MalformedPayload("no 'Realtime Currency Exchange Rate' object", provider=provider)
    fields = {str(k).split(". ", 1)[-1]: v for k, v in block.items()}
    rate = float_or_nan(fields.get("Exchange Rate"))
    bid, ask = float_or_nan(fields.get("Bid Price")), float_or_nan(fields.get("Ask Price"))
    try:
        when = pd.Timestamp(str(fields.get("Last Refreshed")))
        when = when.tz_localize(str(fields.get("Time Zone") or "UTC")).tz_convert("UTC")
    except (ValueError, TypeError) as exc:
        raise MalformedPayload("exchange rate without a readable 'Last Refreshed'",
                               provider=provider) from exc  # fmt: skip
    if math.isfinite(bid) and math.isfinite(ask) and 0 < bid <= ask:
        return Quote(inst.symbol, bid, ask, when, provider)
    if math.isfinite(rate) and rate > 0:
        return indicative_quote(inst.symbol, rate, when, provider)
    raise MalformedPayload(f"no usable rate for {inst.symbol}: {dict(block)}", provider=provider)


__all__ = ["INTRADAY", "URL", "AlphaVantageProvider", "parse_exchange_rate", "parse_series"]
