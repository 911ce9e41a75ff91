"""Yahoo Finance: FX bars from the v8 chart JSON API, called directly with ``requests``.

Why not ``yfinance``: it talks to the same endpoint but through ``curl_cffi`` with its own cookie
and crumb handling, which ``responses`` cannot record and which cannot share our session,
timeouts, retries and cache. The chart endpoint needs no crumb, so we call it ourselves;
yfinance's parser (``yfinance/scrapers/history.py`` and ``utils.parse_quotes``) documents the
format we read:

``GET https://query1.finance.yahoo.com/v8/finance/chart/EURUSD=X?period1=<epoch s>&period2=<epoch
s>&interval=60m`` ->
``{"chart": {"result": [{"meta": {"symbol", "exchangeTimezoneName", "gmtoffset",
"regularMarketPrice", "regularMarketTime", "dataGranularity", ...}, "timestamp": [...],
"indicators": {"quote": [{"open": [...], "high": [...], "low": [...], "close": [...],
"volume": [...]}]}}], "error": null}}``; on failure ``{"chart": {"result": null, "error": {"code":
"Not Found", "description": "..."}}}`` (404 for an unknown symbol, 422 for a range Yahoo does not
keep at that interval).

Conventions: intraday stamps are UTC bar open times; rows whose stamp is off the bar grid (the
live, still-forming bar Yahoo appends) and rows that are all null (Yahoo's filler) are dropped.
**Daily bars** are Yahoo's London-midnight days; they are labelled 00:00 UTC of their date (the
same convention as the MT4 "GMT" daily files in the store), not NOX's 17:00 New York day, because
Yahoo does not publish the intraday detail to re-cut them. Prices are a single indicative price
(Yahoo does not say bid or ask); volume is 0 for FX. Depth limits (Yahoo's, from now): 1m 30
days (8 days per request), 5m/15m 60 days, 1h 730 days, daily unlimited.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from noxfx.data.providers._http import HttpClient, HttpResult
from noxfx.data.providers.base import (
    CURRENCY_PAIRS,
    Capabilities,
    MalformedPayload,
    Provider,
    ProviderError,
    Quote,
    SymbolNotSupported,
    TimeframeNotSupported,
    bars_from_columns,
    indicative_quote,
)
from noxfx.instruments import Instrument

if TYPE_CHECKING:
    import pandas as pd

    from noxfx.timeframes import Timeframe

T = TypeVar("T")
CHART_URL = "https://query1.finance.yahoo.com/v8/finance/chart/{ticker}"
#: our timeframe -> Yahoo interval (native)
INTERVALS = {"1m": "1m", "5m": "5m", "15m": "15m", "1h": "60m", "1d": "1d"}
#: built by resampling (Yahoo's 30m is unreliable, its 1wk weeks start Monday)
DERIVED = {"30m": "15m", "4h": "1h", "1w": "1d"}
MAX_DEPTH_DAYS: dict[str, float | None] = {"1m": 30, "5m": 60, "15m": 60, "30m": 60, "1h": 730,
                                           "4h": 730, "1d": None, "1w": None}  # fmt: skip
REQUEST_DAYS = {"1m": 7.0, "5m": 30.0, "15m": 30.0, "30m": 30.0, "1h": 180.0, "4h": 180.0,
                "1d": 3650.0, "1w": 3650.0}  # fmt: skip
#: Yahoo answers plain script user agents with 429; it serves a browser-like one
BROWSER_UA = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0 Safari/537.36"
)


class YahooProvider(Provider):
    """Yahoo chart API for FX history (indicative prices) and indicative quotes."""

    name = "yahoo"

    def __init__(self, client: HttpClient, *, cache_ttl_s: float = 300.0) -> None:
        self.client = client
        self.cache_ttl_s = cache_ttl_s

    def capabilities(self) -> Capabilities:
        return Capabilities(
            history=True, quotes=True, native=tuple(INTERVALS), derived=DERIVED,
            max_depth_days=MAX_DEPTH_DAYS, request_days=REQUEST_DAYS, symbols=CURRENCY_PAIRS,
            notes="indicative prices; daily bars cut at London midnight (labelled 00:00 UTC)",
        )  # fmt: skip

    def _map_symbol(self, instrument: Instrument) -> str:
        return f"{instrument.symbol}=X"

    def _get(
        self,
        instrument: Instrument,
        params: Mapping[str, Any],
        ttl: float,
        parse: Callable[[Any], T],
    ) -> T:
        """GET the chart and ``parse`` its JSON inside the guard (errors never cached)."""
        url = CHART_URL.format(ticker=self._map_symbol(instrument))

        def parse_result(result: HttpResult) -> T:
            try:
                payload = result.json(self.name)
            except MalformedPayload:
                if result.status == 200:
                    raise
                payload = None
            if result.status != 200 or _chart_error(payload):
                raise self._error(result, payload, instrument)
            return parse(payload)

        return self.client.get_parsed(url, parse_result, params, cache_ttl_s=ttl,
                                      headers={"User-Agent": BROWSER_UA})  # fmt: skip

    def _error(self, result: HttpResult, payload: Any, inst: Instrument) -> ProviderError:
        err = _chart_error(payload) or {}
        code, desc = str(err.get("code", "")), str(err.get("description", "")).strip()
        what = f"HTTP {result.status}: {code or 'error'}" + (f" ({desc})" if desc else "")
        if code == "Not Found" or result.status == 404:
            return SymbolNotSupported(f"{inst.symbol} ({self._map_symbol(inst)}) unknown: {what}",
                                      provider=self.name, status=result.status)  # fmt: skip
        if result.status in (400, 422) and ("range" in desc or "not available" in desc):
            return TimeframeNotSupported(what, provider=self.name, status=result.status)
        return ProviderError(what, provider=self.name, status=result.status)

    # ------------------------------------------------------------------ history
    def _history(
        self, instrument: Instrument, timeframe: Timeframe, start: pd.Timestamp, end: pd.Timestamp
    ) -> pd.DataFrame:
        import pandas as pd

        from noxfx.data.bars import empty_bars

        step = pd.Timedelta(seconds=timeframe.seconds)
        span = pd.Timedelta(days=REQUEST_DAYS[timeframe.name])
        stop = end + step
        frames = [empty_bars()]
        cursor = start
        while cursor < stop:
            window_end = min(cursor + span, stop)
            params = {"period1": int(cursor.timestamp()), "period2": int(window_end.timestamp()),
                      "interval": INTERVALS[timeframe.name], "includePrePost": "false"}  # fmt: skip
            frame = self._get(instrument, params, self.cache_ttl_s,
                              lambda p: parse_chart(p, timeframe, provider=self.name))  # fmt: skip
            keep = frame.index.isna() | ((frame.index >= cursor) & (frame.index < window_end))
            frames.append(frame[keep])
            cursor = window_end
        return pd.concat(frames)

    # ------------------------------------------------------------------ quotes
    def quote(self, symbols: Sequence[str]) -> list[Quote]:
        """Indicative quotes: the chart meta's ``regularMarketPrice`` taken as a mid, split by
        the instrument's typical spread; ``time`` is ``regularMarketTime``."""
        out = []
        for raw in symbols:
            inst = self.instrument(raw)
            price, when = self._get(inst, {"range": "1d", "interval": "1m"}, 0.0, self._last)
            out.append(indicative_quote(inst.symbol, price, when, self.name))
        return out

    def _last(self, payload: Any) -> tuple[float, pd.Timestamp]:
        import pandas as pd

        try:
            meta = payload["chart"]["result"][0]["meta"]
            price = float(meta["regularMarketPrice"])
            when = pd.Timestamp(int(meta["regularMarketTime"]), unit="s", tz="UTC")
        except (KeyError, IndexError, TypeError, ValueError) as exc:
            raise MalformedPayload("chart meta has no regularMarketPrice/Time",
                                   provider=self.name) from exc  # fmt: skip
        return price, when


def _chart_error(payload: Any) -> Mapping[str, Any] | None:
    chart = payload.get("chart") if isinstance(payload, Mapping) else None
    err = chart.get("error") if isinstance(chart, Mapping) else None
    return err if isinstance(err, Mapping) and err else None


def parse_chart(payload: Any, timeframe: Timeframe, *, provider: str = "yahoo") -> pd.DataFrame:
    """Bars from a chart response (see the module docstring for the conventions)."""
    import numpy as np
    import pandas as pd

    try:
        result = payload["chart"]["result"][0]
        meta = result.get("meta") or {}
    except (KeyError, IndexError, TypeError) as exc:
        raise MalformedPayload("chart response has no chart.result[0]", provider=provider) from exc
    stamps = result.get("timestamp")
    if not stamps:  # Yahoo omits the arrays when the range holds no bar
        from noxfx.data.bars import empty_bars

        return empty_bars()
    try:
        q = result["indicators"]["quote"][0]
        cols = {k: np.array([np.nan if v is None else v for v in q[k]], dtype="float64")
                for k in ("open", "high", "low", "close")}  # fmt: skip
        volume = np.array([0.0 if v is None else v for v in q.get("volume") or []], dtype="float64")
    except (KeyError, IndexError, TypeError, ValueError) as exc:
        raise MalformedPayload(
            f"chart quote arrays not understood ({exc})", provider=provider
        ) from exc
    n = len(stamps)
    if any(len(v) != n for v in cols.values()) or len(volume) not in (0, n):
        raise MalformedPayload(
            f"chart arrays have different lengths ({n} stamps)", provider=provider
        )
    cols["volume"] = volume if len(volume) else np.zeros(n)
    secs = np.asarray(stamps, dtype="int64")
    prices = np.column_stack([cols[k] for k in ("open", "high", "low", "close")])
    keep = ~np.isnan(prices).all(axis=1)  # all-null rows: Yahoo's filler for missing bars
    if timeframe.seconds < 86_400:
        keep &= secs % timeframe.seconds == 0  # off-grid: the live bar
        times = pd.to_datetime(secs, unit="s", utc=True)
    else:
        tz = str(meta.get("exchangeTimezoneName") or "UTC")
        local = pd.to_datetime(secs, unit="s", utc=True).tz_convert(tz)
        times = pd.DatetimeIndex(local.tz_localize(None).normalize()).tz_localize("UTC")
    frame = bars_from_columns(times, cols)
    return frame[keep]


__all__ = ["CHART_URL", "DERIVED", "INTERVALS", "YahooProvider", "parse_chart"]
