"""Alpha Vantage against recorded responses, including its in-band throttle payloads."""

from __future__ import annotations

import pandas as pd
import pytest
import requests
import responses
from responses import matchers

from noxfx.data.providers.alphavantage import AlphaVantageProvider
from noxfx.data.providers.base import (
    MalformedPayload,
    NotConfigured,
    ProviderTimeout,
    QuotaExceeded,
    RateLimited,
    SymbolNotSupported,
)
from noxfx.data.providers.fetch import fetch
from noxfx.data.providers.registry import Registry
from noxfx.data.store import BarStore
from noxfx.timeframes import resample
from tests.data.providers.conftest import load_json

URL = "https://www.alphavantage.co/query"
INTRADAY = load_json("alphavantage/fx_intraday_60min.json")
DAILY = load_json("alphavantage/fx_daily.json")
INTRADAY_QUERY = {
    "function": "FX_INTRADAY",
    "from_symbol": "EUR",
    "to_symbol": "USD",
    "interval": "60min",
    "outputsize": "full",
    "apikey": "demo-key",
}


def av(registry: Registry) -> AlphaVantageProvider:
    provider = registry.create("alphavantage")
    assert isinstance(provider, AlphaVantageProvider)
    return provider


def recorded(payload: dict, key: str) -> pd.DataFrame:
    series = payload[key]
    times = pd.DatetimeIndex(pd.to_datetime(sorted(series)), name="time").tz_localize("UTC")
    times = times.as_unit("ns")
    return pd.DataFrame(
        {
            c: [float(series[t][f"{i}. {c}"]) for t in sorted(series)]
            for i, c in enumerate(("open", "high", "low", "close"), 1)
        },
        index=times,
    )


def test_intraday_series_oldest_first(http: responses.RequestsMock, registry: Registry) -> None:
    http.add(
        responses.GET, URL, json=INTRADAY, match=[matchers.query_param_matcher(INTRADAY_QUERY)]
    )
    bars = av(registry).history("EURUSD", "1h", "2017-01-03", "2017-01-06 21:00")
    ref = recorded(INTRADAY, "Time Series FX (60min)")
    pd.testing.assert_frame_equal(bars[["open", "high", "low", "close"]], ref, check_freq=False)
    assert (bars["volume"] == 0).all()


def test_one_cached_request_serves_every_chunk_of_a_long_fetch(
    http: responses.RequestsMock, registry: Registry, store: BarStore, clock
) -> None:
    http.add(responses.GET, URL, json=DAILY)
    p = av(registry)
    assert p.request_span("1d") >= pd.Timedelta(days=3650)  # the whole series comes at once
    fetch(store, p, "EURUSD", "1d", "2017-01-02", "2017-01-15", clock=clock)
    fetch(store, p, "EURUSD", "1d", "2017-01-16", "2017-01-31", clock=clock)
    assert len(http.calls) == 1  # the second fetch was served by the cache
    assert store.info("EURUSD", "1d").bars == 22


def test_4h_and_1w_are_derived(http: responses.RequestsMock, registry: Registry) -> None:
    http.add(responses.GET, URL, json=INTRADAY)
    bars = av(registry).history("EURUSD", "4h", "2017-01-03 02:00", "2017-01-06 14:00")
    ref = resample(recorded(INTRADAY, "Time Series FX (60min)"), "4h", source="1h")
    ref = ref[(ref.index >= "2017-01-03 02:00") & (ref.index <= "2017-01-06 14:00")]
    pd.testing.assert_frame_equal(bars[["open", "high", "low", "close"]], ref, check_freq=False)


def test_note_is_a_throttle_retried_after_a_minute(
    http: responses.RequestsMock, registry: Registry, clock
) -> None:
    http.add(responses.GET, URL, json=load_json("alphavantage/note.json"))
    http.add(responses.GET, URL, json=DAILY)
    assert len(av(registry).history("EURUSD", "1d", "2017-01-02", "2017-01-31")) == 22
    assert 60.0 in clock.sleeps


def test_http_429_with_retry_after(http: responses.RequestsMock, registry: Registry, clock) -> None:
    http.add(responses.GET, URL, status=429, headers={"Retry-After": "5"})
    http.add(responses.GET, URL, json=DAILY)
    assert len(av(registry).history("EURUSD", "1d", "2017-01-02", "2017-01-31")) == 22
    assert clock.sleeps[-1] == 5.0


def test_throttle_note_forever_gives_up(http: responses.RequestsMock, registry: Registry) -> None:
    for _ in range(4):
        http.add(responses.GET, URL, json=load_json("alphavantage/note.json"))
    with pytest.raises(RateLimited, match="throttled: Thank you for using Alpha Vantage"):
        av(registry).history("EURUSD", "1d", "2017-01-02", "2017-01-31")


def test_information_is_a_quota_error_not_retried(
    http: responses.RequestsMock, registry: Registry, clock
) -> None:
    http.add(responses.GET, URL, json=load_json("alphavantage/information.json"))
    with pytest.raises(QuotaExceeded, match="25 requests per day"):
        av(registry).history("EURUSD", "1d", "2017-01-02", "2017-01-31")
    assert len(http.calls) == 1 and all(s < 1 for s in clock.sleeps)


def test_5xx_then_success(http: responses.RequestsMock, registry: Registry, clock) -> None:
    http.add(responses.GET, URL, status=503)
    http.add(responses.GET, URL, json=DAILY)
    assert len(av(registry).history("EURUSD", "1d", "2017-01-02", "2017-01-31")) == 22


def test_timeout(http: responses.RequestsMock, registry: Registry) -> None:
    for _ in range(4):
        http.add(responses.GET, URL, body=requests.exceptions.ReadTimeout())
    with pytest.raises(ProviderTimeout):
        av(registry).history("EURUSD", "1d", "2017-01-02", "2017-01-31")


def test_malformed_payload_nothing_stored_and_not_cached(
    http: responses.RequestsMock, registry: Registry, store: BarStore, clock
) -> None:
    http.add(responses.GET, URL, json={"Meta Data": DAILY["Meta Data"]})  # series missing
    with pytest.raises(MalformedPayload, match="Time Series FX"):
        fetch(store, av(registry), "EURUSD", "1d", "2017-01-02", "2017-01-31", clock=clock)
    assert not store.path("EURUSD", "1d").exists()
    http.add(responses.GET, URL, json=DAILY)  # the broken answer was not cached
    fetch(store, av(registry), "EURUSD", "1d", "2017-01-02", "2017-01-31", clock=clock)
    assert store.info("EURUSD", "1d").bars == 22


def test_unknown_pair_metals_and_missing_key(
    http: responses.RequestsMock, registry: Registry
) -> None:
    http.add(responses.GET, URL, json=load_json("alphavantage/error.json"))
    with pytest.raises(SymbolNotSupported, match="Invalid API call"):
        av(registry).history("USDTHB", "1d", "2017-01-02", "2017-01-31")
    with pytest.raises(SymbolNotSupported):
        av(registry).history("XAGUSD", "1d", "2017-01-02", "2017-01-31")
    p = av(registry)
    p.api_key = None
    assert p.configured() == (False, "set NOX_ALPHAVANTAGE_KEY")
    with pytest.raises(NotConfigured):
        p.history("EURUSD", "1d", "2017-01-02", "2017-01-31")


def test_exchange_rate_quote(http: responses.RequestsMock, registry: Registry) -> None:
    http.add(
        responses.GET,
        URL,
        json=load_json("alphavantage/exchange_rate.json"),
        match=[
            matchers.query_param_matcher(
                {
                    "function": "CURRENCY_EXCHANGE_RATE",
                    "from_currency": "EUR",
                    "to_currency": "USD",
                    "apikey": "demo-key",
                }
            )
        ],
    )
    (q,) = av(registry).quote(["EUR/USD"])
    assert (q.bid, q.ask, q.indicative) == (1.05312, 1.05326, False)
    assert q.time == pd.Timestamp("2017-01-06 21:59:01", tz="UTC")
