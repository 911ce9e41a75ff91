"""TradingView scanner (tradingview-ta analysis, tradingview-screener screens/quotes)."""

from __future__ import annotations

import copy
import json

import pyarrow.parquet as pq
import pytest
import requests
import responses
from tradingview_ta import TA_Handler
from tradingview_ta.main import TradingView

from noxfx.analysis.ratings import technical_analysis
from noxfx.data.providers.base import (
    CapabilityMissing,
    MalformedPayload,
    ProviderTimeout,
    SymbolNotSupported,
)
from noxfx.data.providers.fetch import fetch
from noxfx.data.providers.registry import Registry
from noxfx.data.providers.tradingview import TradingViewProvider, compare_ratings
from noxfx.data.sample import sample_dir
from noxfx.data.store import BarStore
from tests.data.providers.conftest import load_json

FOREX = "https://scanner.tradingview.com/forex/scan"
SCAN = load_json("tradingview/scan_EURUSD_1h.json")


def tv(registry: Registry) -> TradingViewProvider:
    provider = registry.create("tradingview")
    assert isinstance(provider, TradingViewProvider)
    return provider


def test_analysis_is_what_ta_handler_computes(
    http: responses.RequestsMock, registry: Registry
) -> None:
    http.add(responses.POST, FOREX, json=SCAN)
    ours = tv(registry).analysis("EURUSD", "1h")
    body = json.loads(http.calls[0].request.body)
    assert body["symbols"]["tickers"] == ["FX_IDC:EURUSD"]
    assert body["columns"] == [c + "|60" for c in TradingView.indicators]
    # the library's own handler, on the same recorded answer, gives the same analysis
    http.add(responses.POST, FOREX, json=SCAN)
    ref = TA_Handler(
        symbol="EURUSD", screener="forex", exchange="FX_IDC", interval="1h", timeout=5
    ).get_analysis()
    assert ours.summary == ref.summary
    assert ours.oscillators == ref.oscillators and ours.moving_averages == ref.moving_averages
    assert ours.summary["RECOMMENDATION"] == "STRONG_BUY"
    assert ours.indicators["RSI"] == pytest.approx(62.875218)
    assert ours.time.tzinfo is not None and (ours.exchange, ours.interval) == ("FX_IDC", "1h")


def test_analysis_is_cached_briefly(
    http: responses.RequestsMock, registry: Registry, clock
) -> None:
    http.add(responses.POST, FOREX, json=SCAN)
    p = tv(registry)
    p.analysis("EURUSD", "1h")
    p.analysis("EURUSD", "1h")
    assert len(http.calls) == 1
    clock.advance(31)
    p.analysis("EURUSD", "1h")
    assert len(http.calls) == 2


def test_unknown_ticker(http: responses.RequestsMock, registry: Registry) -> None:
    http.add(responses.POST, FOREX, json=load_json("tradingview/scan_empty.json"))
    with pytest.raises(SymbolNotSupported, match="FX_IDC:USDINR not found"):
        tv(registry).analysis("USDINR", "1d")


def test_429_retry_after_5xx_and_timeout(
    http: responses.RequestsMock, registry: Registry, clock
) -> None:
    http.add(responses.POST, FOREX, status=429, headers={"Retry-After": "4"})
    http.add(responses.POST, FOREX, status=502)
    http.add(responses.POST, FOREX, json=SCAN)
    assert tv(registry).analysis("EURUSD", "1h").summary["RECOMMENDATION"] == "STRONG_BUY"
    assert clock.sleeps[0] == 4.0
    for _ in range(4):
        http.add(responses.POST, FOREX, body=requests.exceptions.ReadTimeout())
    with pytest.raises(ProviderTimeout):
        tv(registry).analysis("EURUSD", "4h")


def test_malformed_answers(http: responses.RequestsMock, registry: Registry) -> None:
    short = copy.deepcopy(SCAN)
    short["data"][0]["d"] = short["data"][0]["d"][:10]
    http.add(responses.POST, FOREX, json=short)
    with pytest.raises(MalformedPayload, match="expected 91 values"):
        tv(registry).analysis("EURUSD", "1h")
    empty = copy.deepcopy(SCAN)
    empty["data"][0]["d"][:3] = [None, None, None]
    http.add(responses.POST, FOREX, json=empty)
    with pytest.raises(MalformedPayload, match="no recommendation"):
        tv(registry).analysis("EURUSD", "1d")
    http.add(responses.POST, FOREX, json={"error": "bad request"})
    with pytest.raises(MalformedPayload, match="no 'data' list"):
        tv(registry).analysis("EURUSD", "1w")


def test_no_history_to_fetch(registry: Registry, store: BarStore) -> None:
    with pytest.raises(CapabilityMissing, match="no price history"):
        fetch(store, tv(registry), "EURUSD", "1h", "2017-01-03", "2017-01-04")
    assert not store.path("EURUSD", "1h").exists()


def test_quotes_from_the_screener(http: responses.RequestsMock, registry: Registry) -> None:
    http.add(responses.POST, FOREX, json=load_json("tradingview/screen_quotes.json"))
    eur, gbp = tv(registry).quote(["EURUSD", "GBPUSD"])
    body = json.loads(http.calls[0].request.body)
    assert body["markets"] == ["forex"] and body["columns"] == ["name", "close", "bid", "ask"]
    assert body["symbols"]["tickers"] == ["FX_IDC:EURUSD", "FX_IDC:GBPUSD"]
    assert "filter2" not in body and "sort" not in body and body["filter"] == []
    assert (eur.bid, eur.ask, eur.indicative) == (1.22448, 1.22456, False)
    assert gbp.indicative and gbp.mid == pytest.approx(1.34921)  # no bid/ask: from close


def test_screen_returns_a_frame(http: responses.RequestsMock, registry: Registry) -> None:
    http.add(
        responses.POST,
        FOREX,
        json={
            "totalCount": 2,
            "data": [
                {"s": "FX_IDC:EURUSD", "d": ["EURUSD", 1.0853, 0.12, 0.4]},
                {"s": "FX_IDC:USDJPY", "d": ["USDJPY", 151.2, -0.3, -0.1]},
            ],
        },
    )
    frame = tv(registry).screen(limit=2, order_by="change")
    assert list(frame.columns) == ["ticker", "name", "close", "change", "Recommend.All"]
    assert frame["ticker"].tolist() == ["FX_IDC:EURUSD", "FX_IDC:USDJPY"]
    body = json.loads(http.calls[0].request.body)
    assert body["sort"] == {"sortBy": "change", "sortOrder": "desc"} and body["range"] == [0, 2]


def test_our_rating_beside_theirs(http: responses.RequestsMock, registry: Registry) -> None:
    """The recorded values were taken from our own indicators on the sample's last bar, so the
    votes that depend only on those values must agree; the comparison says which do not."""
    http.add(responses.POST, FOREX, json=SCAN)
    bars = pq.read_table(sample_dir() / "EURUSD_1h.parquet").to_pandas()
    ours = technical_analysis(bars, "EURUSD", "1h")
    theirs = tv(registry).analysis("EURUSD", "1h")
    cmp = compare_ratings(ours, theirs)
    assert [r["group"] for r in cmp.rows] == ["summary", "oscillators", "moving averages"]
    assert cmp.rows[2]["ours"] == "STRONG_BUY"
    votes = {v["indicator"]: v for v in cmp.votes}
    assert {"RSI", "MACD", "EMA10", "SMA200"} <= set(votes)
    for name in ("RSI", "MACD", "EMA10", "SMA200", "CCI", "ADX"):
        assert votes[name]["agree"], votes[name]
    assert cmp.agreement is not None and cmp.agreement > 0.7
    assert cmp.as_dict()["ours_time"].startswith("2020-12-29T08:00")
