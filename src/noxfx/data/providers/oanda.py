"""OANDA v20 REST: bid/ask candles, prices and the price stream.

Endpoints (OANDA v20 API reference, developer.oanda.com/rest-live-v20):

* ``GET {api}/v3/instruments/{EUR_USD}/candles?price=BA&granularity=H1&from=...&count=5000``
  -> ``{"instrument", "granularity", "candles": [{"time", "volume", "complete",
  "bid": {"o","h","l","c"}, "ask": {...}}]}``; prices are decimal strings, times RFC 3339 UTC.
  Daily/4h candles are aligned on 17:00 New York (``dailyAlignment=17``,
  ``alignmentTimezone=America/New_York``) and weeks on Sunday (``weeklyAlignment=Sunday``), which
  is exactly NOX's convention (:mod:`noxfx.timeframes`). Pagination: at most 5,000 candles per
  request, so long ranges are paged with ``from``/``to`` windows of at most that many bars.
* ``GET {api}/v3/accounts/{id}/pricing?instruments=EUR_USD,USD_JPY`` -> ``{"prices": [{"type":
  "PRICE", "instrument", "time", "bids": [{"price", "liquidity"}], "asks": [...],
  "closeoutBid", "closeoutAsk", "tradeable"}]}``.
* ``GET {stream}/v3/accounts/{id}/pricing/stream?instruments=...``: newline-delimited JSON, each
  line a ``PRICE`` (as above) or a ``HEARTBEAT`` (``{"type": "HEARTBEAT", "time": ...}``) about
  every 5 s.

Hosts: practice ``api-fxpractice.oanda.com`` / ``stream-fxpractice.oanda.com``; live
``api-fxtrade.oanda.com`` / ``stream-fxtrade.oanda.com``. Authentication: ``Authorization:
Bearer <token>``. Errors come as ``{"errorMessage": "..."}`` with 400 (bad instrument or
parameter), 401 (bad token), 404, 405; 429 when over the rate limit (120 requests/s per IP).

Bars are the **bid** candles (as the bar store expects); ``volume`` is OANDA's tick volume and
``spread`` the close ask minus close bid in points (10^-precision). Only ``complete`` candles
are returned: the forming one is left for the next fetch.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from noxfx.data.providers._http import HttpClient, HttpResult
from noxfx.data.providers.base import (
    ALL_TIMEFRAMES,
    Capabilities,
    MalformedPayload,
    NotConfigured,
    Provider,
    ProviderError,
    ProviderUnavailable,
    Quote,
    SymbolNotSupported,
    Tick,
    bars_from_columns,
    float_or_nan,
)
from noxfx.instruments import Instrument, get_instrument, normalize_symbol
from noxfx.timeframes import TIMEFRAMES

if TYPE_CHECKING:
    import pandas as pd

    from noxfx.timeframes import Timeframe

API_HOSTS = {
    "practice": "https://api-fxpractice.oanda.com",
    "live": "https://api-fxtrade.oanda.com",
}
STREAM_HOSTS = {
    "practice": "https://stream-fxpractice.oanda.com",
    "live": "https://stream-fxtrade.oanda.com",
}
#: our timeframe -> OANDA granularity
GRANULARITY = {"1m": "M1", "5m": "M5", "15m": "M15", "30m": "M30", "1h": "H1", "4h": "H4",
               "1d": "D", "1w": "W"}  # fmt: skip
#: OANDA's maximum ``count`` per candles request
MAX_CANDLES = 5000


class OandaProvider(Provider):
    """OANDA v20 candles (bid/ask), pricing and pricing stream. ``page_size`` is the ``count``
    per candles request (5,000 max)."""

    name = "oanda"

    def __init__(
        self,
        client: HttpClient,
        *,
        token: str | None,
        environment: str = "practice",
        account_id: str | None = None,
        page_size: int = MAX_CANDLES,
        cache_ttl_s: float = 300.0,
        stream_url: str | None = None,
    ) -> None:
        if environment not in API_HOSTS:
            raise NotConfigured(
                f"NOX_OANDA_ENV must be practice or live, not {environment!r}", provider=self.name
            )
        self.client = client
        self.token = token
        self.environment = environment
        self.account_id = account_id
        self.page_size = max(1, min(page_size, MAX_CANDLES))
        self.cache_ttl_s = cache_ttl_s
        self.stream_url = (stream_url or STREAM_HOSTS[environment]).rstrip("/")

    @property
    def api(self) -> str:
        return API_HOSTS[self.environment]

    def capabilities(self) -> Capabilities:
        return Capabilities(
            history=True, quotes=True, stream=True, native=ALL_TIMEFRAMES,
            max_depth_days={tf: None for tf in ALL_TIMEFRAMES},
            request_days={t: TIMEFRAMES[t].seconds * MAX_CANDLES / 86_400 for t in ALL_TIMEFRAMES},
            needs=("NOX_OANDA_TOKEN", "NOX_OANDA_ENV", "NOX_OANDA_ACCOUNT (quotes, stream)"),
            notes="bid candles; 17:00 New York daily alignment; 5,000 candles per request",
        )  # fmt: skip

    def configured(self) -> tuple[bool, str]:
        if not self.token:
            return False, "set NOX_OANDA_TOKEN (and NOX_OANDA_ENV=practice|live)"
        acct = "" if self.account_id else "; set NOX_OANDA_ACCOUNT for quotes/stream"
        return True, f"{self.environment} token set{acct}"

    def _map_symbol(self, instrument: Instrument) -> str:
        return f"{instrument.base}_{instrument.quote}"

    def _headers(self) -> dict[str, str]:
        if not self.token:
            raise NotConfigured("no access token: set NOX_OANDA_TOKEN", provider=self.name)
        return {"Authorization": f"Bearer {self.token}", "Accept-Datetime-Format": "RFC3339"}

    # ------------------------------------------------------------------ candles
    def _history(
        self, instrument: Instrument, timeframe: Timeframe, start: pd.Timestamp, end: pd.Timestamp
    ) -> pd.DataFrame:
        """Pages of at most ``page_size`` candles: ``from=cursor``, ``to=cursor + (page_size-1)
        bars`` (so the count limit holds whether ``to`` is inclusive or not), keeping candles
        in ``[cursor, to)`` and moving the cursor to ``to``. ``to`` never lies in the future
        (OANDA refuses that)."""
        import pandas as pd

        from noxfx.data.bars import empty_bars
        from noxfx.data.providers.resilience import utc_now

        code = self._map_symbol(instrument)
        url = f"{self.api}/v3/instruments/{code}/candles"
        step = pd.Timedelta(seconds=timeframe.seconds)
        now = utc_now(self.client.guard.clock)
        stop = min(end + step, now)
        pages: list[pd.DataFrame] = [empty_bars()]
        cursor = start
        while cursor < stop:
            page_end = min(cursor + step * (self.page_size - 1), stop)
            params = {
                "price": "BA", "granularity": GRANULARITY[timeframe.name],
                "from": _rfc3339(cursor), "to": _rfc3339(page_end), "dailyAlignment": 17,
                "alignmentTimezone": "America/New_York", "weeklyAlignment": "Sunday",
            }  # fmt: skip
            page = self.client.get_parsed(
                url, lambda r: parse_candles(self._payload(r, instrument), instrument, self.name),
                params, headers=self._headers(), cache_ttl_s=self.cache_ttl_s,
            )  # fmt: skip
            keep = page.index.isna() | ((page.index >= cursor) & (page.index < page_end))
            pages.append(page[keep])
            if page_end >= stop:
                break
            cursor = page_end
        return pd.concat(pages)

    def _payload(self, result: HttpResult, instrument: Instrument | None) -> Any:
        if result.status != 200:
            raise self._error(result, instrument)
        return result.json(self.name)

    def _error(self, result: HttpResult, instrument: Instrument | None) -> ProviderError:
        try:
            message = str(json.loads(result.content).get("errorMessage", "")).strip()
        except (ValueError, AttributeError):
            message = result.text[:160].strip()
        what = f"HTTP {result.status}: {message or 'no error message'}"
        if result.status in (401, 403):
            return NotConfigured(f"token rejected ({what}); check NOX_OANDA_TOKEN and "
                                 f"NOX_OANDA_ENV={self.environment}", provider=self.name,
                                 status=result.status)  # fmt: skip
        if instrument is not None and (
            result.status == 404 or (result.status == 400 and "instrument" in message.lower())
        ):
            return SymbolNotSupported(
                f"{instrument.symbol} ({self._map_symbol(instrument)}) is not available: {what}",
                provider=self.name, status=result.status,
            )  # fmt: skip
        return ProviderError(what, provider=self.name, status=result.status)

    # ------------------------------------------------------------------ prices
    def _account(self) -> str:
        if not self.account_id:
            raise NotConfigured("quotes need an account id: set NOX_OANDA_ACCOUNT",
                                provider=self.name)  # fmt: skip
        return self.account_id

    def quote(self, symbols: Sequence[str]) -> list[Quote]:
        insts = [self.instrument(s) for s in symbols]
        url = f"{self.api}/v3/accounts/{self._account()}/pricing"
        params = {"instruments": ",".join(self._map_symbol(i) for i in insts)}
        one = insts[0] if len(insts) == 1 else None
        payload = self.client.get_parsed(url, lambda r: self._payload(r, one), params,
                                         headers=self._headers())  # fmt: skip
        prices = payload.get("prices") if isinstance(payload, dict) else None
        if not isinstance(prices, list):
            raise MalformedPayload("pricing response has no 'prices' list", provider=self.name)
        by_symbol = {q.symbol: q for q in (parse_price(p, self.name) for p in prices)}
        missing = [i.symbol for i in insts if i.symbol not in by_symbol]
        if missing:
            raise SymbolNotSupported(f"no price for {', '.join(missing)}", provider=self.name)
        return [by_symbol[i.symbol] for i in insts]

    def stream(self, symbols: Sequence[str]) -> Iterator[Tick]:
        """Open the pricing stream now (errors surface here) and yield its ticks; heartbeats
        are skipped. Ends when the server closes the connection (no automatic reconnect)."""
        return (t for t in self.stream_with_heartbeats(symbols) if t is not None)

    def stream_with_heartbeats(self, symbols: Sequence[str]) -> Iterator[Tick | None]:
        """:meth:`stream` with None for each heartbeat line. A silent connection ends with
        ProviderUnavailable after the client's read timeout
        (:class:`noxfx.stream.live_sources.ProviderStreamSource` reconnects)."""
        insts = [self.instrument(s) for s in symbols]
        url = f"{self.stream_url}/v3/accounts/{self._account()}/pricing/stream"
        params = {"instruments": ",".join(self._map_symbol(i) for i in insts)}
        resp = self.client.open_stream(url, params, headers=self._headers())
        if resp.status_code != 200:
            content = resp.content
            resp.close()
            raise self._error(HttpResult(resp.status_code, content, url), None)
        return self._ticks(resp)

    def _ticks(self, resp: Any) -> Iterator[Tick | None]:
        import requests
        import urllib3

        try:
            for line in _lines_as_they_arrive(resp):
                tick = parse_stream_line(line, self.name)
                if tick is not None or line.strip():
                    yield tick  # None: a heartbeat
        except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
            # a read timeout (a silent stream) or a reset mid-stream
            raise ProviderUnavailable(f"price stream interrupted ({exc.__class__.__name__})",
                                      provider=self.name) from exc  # fmt: skip
        finally:
            resp.close()


def _lines_as_they_arrive(resp: Any) -> Iterator[bytes]:
    """The response's lines the moment each one is complete. ``requests``' ``iter_lines`` reads
    fixed-size chunks (or until EOF), which holds a heartbeat or a price back until more bytes
    come; urllib3's ``read1`` returns what has arrived."""
    pending = b""
    while True:
        data = resp.raw.read1(65536, decode_content=True)
        if not data:
            if pending:
                yield pending
            return
        pending += data
        *lines, pending = pending.split(b"\n")
        yield from lines


def _rfc3339(ts: pd.Timestamp) -> str:
    return ts.tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%S.000000000Z")


def parse_candles(payload: Any, instrument: Instrument, provider: str = "oanda") -> pd.DataFrame:
    """Parse a candles response into bid bars of its ``complete`` candles.

    ``spread`` is close ask minus close bid in points (10^-precision). Missing bid/ask blocks or
    prices become NaN, and unreadable times NaT, which validation then refuses.
    """
    import pandas as pd

    candles = payload.get("candles") if isinstance(payload, Mapping) else None
    if not isinstance(candles, list):
        raise MalformedPayload("candles response has no 'candles' list", provider=provider)
    times: list[Any] = []
    cols: dict[str, list[float]] = {k: [] for k in ("open", "high", "low", "close", "volume",
                                                    "spread")}  # fmt: skip
    point = 10.0**instrument.precision
    for c in candles:
        if not isinstance(c, Mapping) or "time" not in c:
            raise MalformedPayload(f"candle without a time: {str(c)[:80]}", provider=provider)
        if not c.get("complete", True):
            continue  # the forming candle: left for the next fetch
        bid, ask = c.get("bid") or {}, c.get("ask") or {}
        times.append(c["time"])
        for key, col in zip("ohlc", ("open", "high", "low", "close"), strict=True):
            cols[col].append(float_or_nan(bid.get(key)))
        cols["volume"].append(float_or_nan(c.get("volume", 0)))
        cols["spread"].append((float_or_nan(ask.get("c")) - float_or_nan(bid.get("c"))) * point)
    return bars_from_columns(pd.to_datetime(times, utc=True, errors="coerce"), cols)


def parse_price(obj: Any, provider: str = "oanda") -> Quote:
    """A ``PRICE`` object (pricing endpoint or stream line) as a :class:`Quote` (best bid/ask)."""
    import pandas as pd

    try:
        symbol = get_instrument(normalize_symbol(obj["instrument"])).symbol
        bids, asks = obj.get("bids") or [], obj.get("asks") or []
        bid = float(bids[0]["price"]) if bids else float(obj["closeoutBid"])
        ask = float(asks[0]["price"]) if asks else float(obj["closeoutAsk"])
        when = pd.Timestamp(obj["time"]).tz_convert("UTC")
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise MalformedPayload(f"price object not understood: {str(obj)[:120]}",
                               provider=provider) from exc  # fmt: skip
    return Quote(symbol, bid, ask, when, provider)


def parse_stream_line(line: bytes | str, provider: str = "oanda") -> Tick | None:
    """One line of the pricing stream: a :class:`Tick` for ``PRICE``, None for ``HEARTBEAT`` and
    blank keep-alive lines; :class:`MalformedPayload` for anything else."""
    text = line.decode() if isinstance(line, bytes) else line
    if not text.strip():
        return None
    try:
        obj = json.loads(text)
    except ValueError as exc:
        raise MalformedPayload(
            f"stream line is not JSON: {text[:80]!r}", provider=provider
        ) from exc
    kind = obj.get("type") if isinstance(obj, dict) else None
    if kind == "HEARTBEAT":
        return None
    if kind != "PRICE":
        raise MalformedPayload(f"unexpected stream message: {text[:80]!r}", provider=provider)
    q = parse_price(obj, provider)
    bids, asks = obj.get("bids") or [{}], obj.get("asks") or [{}]
    return Tick(q.symbol, q.time, q.bid, q.ask, provider,
                bid_volume=float_or_nan(bids[0].get("liquidity")),
                ask_volume=float_or_nan(asks[0].get("liquidity")))  # fmt: skip


__all__ = [
    "API_HOSTS",
    "GRANULARITY",
    "MAX_CANDLES",
    "STREAM_HOSTS",
    "OandaProvider",
    "parse_candles",
    "parse_price",
    "parse_stream_line",
]
