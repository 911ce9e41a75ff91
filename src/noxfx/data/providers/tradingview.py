"""TradingView: its own technical analysis (tradingview-ta), screens and quotes
(tradingview-screener), and our rating put beside theirs.

Both libraries talk to TradingView's scanner, ``POST https://scanner.tradingview.com/{market}/
scan`` with ``{"symbols": {"tickers": ["FX_IDC:EURUSD"], ...}, "columns": [...]}`` answering
``{"totalCount": n, "data": [{"s": "FX_IDC:EURUSD", "d": [one value per column]}]}`` (an empty
``data`` list for an unknown ticker). We use the libraries for what they know (tradingview-ta's
column list, interval suffixes and its ``calculate`` that turns the columns into an
``Analysis``, exactly what ``TA_Handler(screener="forex", exchange="FX_IDC").get_analysis()``
does; tradingview-screener's ``Query`` to build screens) but send the request through our own
:class:`HttpClient`, because both libraries call ``requests.post`` without a session and
tradingview-ta reduces a 429 to a bare ``Exception`` (no ``Retry-After``), which would defeat the
retries, circuit breaker and cache every other provider gets.

TradingView serves no bar history through these libraries (``history`` raises
:class:`CapabilityMissing`). Quotes come from the scanner's ``close``/``bid``/``ask`` columns;
when bid/ask are empty the quote is indicative (close as a mid, typical spread) and its ``time``
is when we asked (the scanner sends no time stamp).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from noxfx.data.providers._http import HttpClient, HttpResult
from noxfx.data.providers.base import (
    Capabilities,
    MalformedPayload,
    Provider,
    ProviderError,
    Quote,
    SymbolNotSupported,
    TimeframeNotSupported,
    float_or_nan,
    indicative_quote,
)
from noxfx.instruments import Instrument, get_instrument, normalize_symbol

if TYPE_CHECKING:
    import pandas as pd

T = TypeVar("T")
SCREENER = "forex"
EXCHANGE = "FX_IDC"
SCAN_URL = "https://scanner.tradingview.com/{market}/scan"
#: our timeframe -> tradingview-ta interval
INTERVALS = {"1m": "1m", "5m": "5m", "15m": "15m", "30m": "30m", "1h": "1h", "4h": "4h",
             "1d": "1d", "1w": "1W"}  # fmt: skip
#: analysis is live data: cache it briefly so a burst of identical requests costs one call
ANALYSIS_TTL_S = 30.0


@dataclass
class TradingViewAnalysis:
    """TradingView's analysis, with the attributes of ``tradingview_ta.Analysis``; ``time`` is
    when it was fetched (UTC), ``interval`` our timeframe name."""

    exchange: str
    symbol: str
    screener: str
    interval: str
    time: datetime
    summary: dict[str, Any] = field(default_factory=dict)
    oscillators: dict[str, Any] = field(default_factory=dict)
    moving_averages: dict[str, Any] = field(default_factory=dict)
    indicators: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "exchange": self.exchange, "symbol": self.symbol, "screener": self.screener,
            "interval": self.interval, "time": self.time.isoformat(), "summary": self.summary,
            "oscillators": self.oscillators, "moving_averages": self.moving_averages,
            "indicators": self.indicators,
        }  # fmt: skip


class TradingViewProvider(Provider):
    """TradingView scanner: analysis, screens and quotes (no history)."""

    name = "tradingview"

    def __init__(self, client: HttpClient) -> None:
        self.client = client

    def capabilities(self) -> Capabilities:
        return Capabilities(
            history=False, quotes=True, native=tuple(INTERVALS),
            notes="TradingView's own ratings (analysis), screens and close/bid/ask quotes",
        )  # fmt: skip

    def _map_symbol(self, instrument: Instrument) -> str:
        return f"{EXCHANGE}:{instrument.symbol}"

    def _scan(
        self, market: str, body: Mapping[str, Any], ttl: float, parse: Callable[[list[Any]], T]
    ) -> T:
        """POST a scan and ``parse`` its ``data`` rows inside the guard (errors never cached)."""

        def parse_result(result: HttpResult) -> T:
            if result.status != 200:
                raise ProviderError(f"HTTP {result.status} from the scanner: "
                                    f"{result.text[:160]}", provider=self.name,
                                    status=result.status)  # fmt: skip
            payload = result.json(self.name)
            rows = payload.get("data") if isinstance(payload, dict) else None
            if not isinstance(rows, list):
                raise MalformedPayload("scanner answer has no 'data' list", provider=self.name)
            return parse(rows)

        url = SCAN_URL.format(market=market)
        return self.client.post_parsed(url, body, parse_result, cache_ttl_s=ttl)

    # ------------------------------------------------------------------ analysis
    def analysis(self, symbol: str, timeframe: str) -> TradingViewAnalysis:
        """TradingView's summary / oscillators / moving averages for ``symbol`` at
        ``timeframe`` (our names: 1m ... 1w)."""
        from tradingview_ta.main import TradingView, calculate

        from noxfx.data.providers.resilience import utc_now
        from noxfx.timeframes import parse_timeframe

        inst = self.instrument(symbol)
        tf = parse_timeframe(timeframe)
        if tf.name not in INTERVALS:
            raise TimeframeNotSupported(f"no analysis at {tf}", provider=self.name)
        columns = list(TradingView.indicators)
        interval = INTERVALS[tf.name]
        ticker = self._map_symbol(inst)

        def parse(rows: list[Any]) -> Any:
            if not rows:
                raise SymbolNotSupported(f"{ticker} not found on the scanner", provider=self.name)
            values = rows[0].get("d") if isinstance(rows[0], Mapping) else None
            if not isinstance(values, list) or len(values) != len(columns):
                got = len(values) if isinstance(values, list) else "none"
                raise MalformedPayload(f"expected {len(columns)} values for {ticker}, got {got}",
                                       provider=self.name)  # fmt: skip
            try:
                analysis = calculate(dict(zip(columns, values, strict=True)), columns, SCREENER,
                                     inst.symbol, EXCHANGE, interval)  # fmt: skip
            except (TypeError, ValueError, KeyError) as exc:
                raise MalformedPayload(f"analysis values not understood ({exc})",
                                       provider=self.name) from exc  # fmt: skip
            if analysis is None:  # tradingview-ta: the Recommend.* columns were empty
                raise MalformedPayload("the scanner sent no recommendation values",
                                       provider=self.name)  # fmt: skip
            return analysis

        body = TradingView.data([ticker], interval, columns)
        result = self._scan(SCREENER, body, ANALYSIS_TTL_S, parse)
        when = utc_now(self.client.guard.clock)
        return TradingViewAnalysis(
            exchange=EXCHANGE, symbol=inst.symbol, screener=SCREENER, interval=tf.name,
            time=when.floor("us").to_pydatetime(), summary=dict(result.summary),
            oscillators=dict(result.oscillators), moving_averages=dict(result.moving_averages),
            indicators=dict(result.indicators),
        )  # fmt: skip

    # ------------------------------------------------------------------ screens
    def screen(
        self,
        columns: Sequence[str] = ("name", "close", "change", "Recommend.All"),
        *,
        limit: int = 50,
        order_by: str | None = None,
        ascending: bool = False,
        tickers: Sequence[str] | None = None,
    ) -> pd.DataFrame:
        """A forex screen built with tradingview-screener's ``Query``: one row per pair
        (``ticker`` like ``FX_IDC:EURUSD``, then ``columns``)."""
        import pandas as pd
        from tradingview_screener import Query

        q = Query().select(*columns).where().limit(limit)  # where(): drop the stock filters
        if tickers:
            q = q.set_tickers(*tickers)
        q = q.set_markets(SCREENER)  # after set_tickers, which resets the market to global
        body: dict[str, Any] = dict(q.query)
        body.pop("filter2", None)  # Query's default: stock types only
        body.pop("sort", None)  # Query's default: market_cap_basic (stocks)
        if order_by:
            body["sort"] = {"sortBy": order_by, "sortOrder": "asc" if ascending else "desc"}
        cols = ["ticker", *body.get("columns", ())]

        def parse(rows: list[Any]) -> pd.DataFrame:
            try:
                return pd.DataFrame([[r["s"], *r["d"]] for r in rows], columns=cols)
            except (KeyError, TypeError, ValueError, AssertionError) as exc:
                raise MalformedPayload(f"screen rows not understood ({exc})",
                                       provider=self.name) from exc  # fmt: skip

        return self._scan(SCREENER, body, 0.0, parse)

    # ------------------------------------------------------------------ quotes
    def quote(self, symbols: Sequence[str]) -> list[Quote]:
        from noxfx.data.providers.resilience import utc_now

        insts = [self.instrument(s) for s in symbols]
        frame = self.screen(("name", "close", "bid", "ask"), limit=len(insts),
                            tickers=[self._map_symbol(i) for i in insts])  # fmt: skip
        when = utc_now(self.client.guard.clock)
        by_symbol = {}
        for row in frame.to_dict("records"):
            sym = get_instrument(normalize_symbol(str(row["ticker"]))).symbol
            bid, ask, close = (float_or_nan(row.get(k)) for k in ("bid", "ask", "close"))
            if bid > 0 and ask >= bid:
                by_symbol[sym] = Quote(sym, bid, ask, when, self.name)
            elif close > 0:
                by_symbol[sym] = indicative_quote(sym, close, when, self.name)
        missing = [i.symbol for i in insts if i.symbol not in by_symbol]
        if missing:
            raise SymbolNotSupported(f"no price for {', '.join(missing)}", provider=self.name)
        return [by_symbol[i.symbol] for i in insts]


# ---------------------------------------------------------------------------------- comparison
@dataclass
class RatingComparison:
    """Our rating and TradingView's for one symbol and interval, side by side.

    ``rows``: one per group (summary, oscillators, moving averages) with both recommendations;
    ``votes``: one per indicator both sides rated, with both votes; ``agreement`` is the share of
    those votes that agree. ``ours_time`` is the UTC open time of the bar we rated, ``theirs_time``
    when TradingView was asked: if they are far apart, the comparison says more about the age of
    the stored bars than about the method.
    """

    symbol: str
    interval: str
    ours_time: datetime
    theirs_time: datetime
    rows: list[dict[str, Any]]
    votes: list[dict[str, Any]]
    agreement: float | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "symbol": self.symbol, "interval": self.interval,
            "ours_time": self.ours_time.isoformat(), "theirs_time": self.theirs_time.isoformat(),
            "rows": self.rows, "votes": self.votes, "agreement": self.agreement,
        }  # fmt: skip


def compare_ratings(ours: Any, theirs: Any) -> RatingComparison:
    """Put ``ours`` (a :class:`noxfx.analysis.ratings.Analysis`) beside ``theirs`` (a
    :class:`TradingViewAnalysis` or ``tradingview_ta.Analysis``): both share the attributes
    ``summary``, ``oscillators``, ``moving_averages`` (with ``RECOMMENDATION`` and ``COMPUTE``).

    Takes both analyses rather than computing ours, so the data layer does not import the
    analysis layer (the CLI's ``compare-tradingview`` does the wiring).
    """
    groups = (("summary", "summary"), ("oscillators", "oscillators"),
              ("moving_averages", "moving averages"))  # fmt: skip
    rows = []
    for attr, label in groups:
        a, b = getattr(ours, attr, {}) or {}, getattr(theirs, attr, {}) or {}
        rows.append({
            "group": label, "ours": a.get("RECOMMENDATION"), "theirs": b.get("RECOMMENDATION"),
            "agree": a.get("RECOMMENDATION") == b.get("RECOMMENDATION"),
            "ours_buy_sell_neutral": [a.get("BUY"), a.get("SELL"), a.get("NEUTRAL")],
            "theirs_buy_sell_neutral": [b.get("BUY"), b.get("SELL"), b.get("NEUTRAL")],
        })  # fmt: skip
    votes = []
    for attr in ("oscillators", "moving_averages"):
        mine = (getattr(ours, attr, {}) or {}).get("COMPUTE", {})
        tv = (getattr(theirs, attr, {}) or {}).get("COMPUTE", {})
        for name in mine:
            if name in tv:
                votes.append({"indicator": name, "ours": mine[name], "theirs": tv[name],
                              "agree": mine[name] == tv[name]})  # fmt: skip
    agreement = sum(v["agree"] for v in votes) / len(votes) if votes else None
    return RatingComparison(
        symbol=str(getattr(ours, "symbol", "")), interval=str(getattr(ours, "interval", "")),
        ours_time=ours.time, theirs_time=theirs.time, rows=rows,
        votes=votes, agreement=agreement,
    )  # fmt: skip


__all__ = [
    "EXCHANGE",
    "INTERVALS",
    "SCREENER",
    "RatingComparison",
    "TradingViewAnalysis",
    "TradingViewProvider",
    "compare_ratings",
]
