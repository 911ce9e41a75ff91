"""Yahoo chart API against recorded responses."""

from __future__ import annotations

import copy
import itertools
import json
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pandas as pd
import pytest
import requests
import responses

from noxfx.data.providers import yahoo as yahoo_module
from noxfx.data.providers.base import (
    MalformedPayload,
    ProviderTimeout,
    SymbolNotSupported,
    TimeframeNotSupported,
)
from noxfx.data.providers.fetch import fetch
from noxfx.data.providers.registry import Registry
from noxfx.data.providers.yahoo import YahooProvider
from noxfx.data.store import BarStore
from noxfx.errors import InvalidBars
from noxfx.timeframes import resample
from tests.data.providers.conftest import load_json

URL = "https://query1.finance.yahoo.com/v8/finance/chart/EURUSD=X"
H1 = load_json("yahoo/chart_EURUSDX_60m.json")
D1 = load_json("yahoo/chart_EURUSDX_1d.json")


def yahoo(registry: Registry) -> YahooProvider:
    provider = registry.create("yahoo")
    assert isinstance(provider, YahooProvider)
    return provider


def chart_server(recorded: dict, seen: list[dict]):
    """Answers like Yahoo: the recorded bars with period1 <= stamp < period2."""

    def reply(request: requests.PreparedRequest):  # type: ignore[no-untyped-def]
        q = {k: v[0] for k, v in parse_qs(urlsplit(request.url).query).items()}
        seen.append(q)
        assert "Mozilla" in request.headers["User-Agent"]
        out = copy.deepcopy(recorded)
        res = out["chart"]["result"][0]
        keep = [
            i for i, t in enumerate(res["timestamp"]) if int(q["period1"]) <= t < int(q["period2"])
        ]
        res["timestamp"] = [res["timestamp"][i] for i in keep]
        quote = res["indicators"]["quote"][0]
        for k in quote:
            quote[k] = [quote[k][i] for i in keep]
        if not keep:  # Yahoo leaves the arrays out when nothing is in range
            del res["timestamp"]
        return 200, {}, json.dumps(out)

    return reply


def recorded_frame(payload: dict) -> pd.DataFrame:
    res = payload["chart"]["result"][0]
    q = res["indicators"]["quote"][0]
    frame = pd.DataFrame(
        {
            k: np.array([np.nan if v is None else v for v in q[k]], dtype=float)
            for k in ("open", "high", "low", "close")
        },
        index=pd.DatetimeIndex(pd.to_datetime(res["timestamp"], unit="s", utc=True), name="time"),
    )
    return frame.dropna()


def test_hourly_bars_drop_yahoos_null_filler(
    http: responses.RequestsMock, registry: Registry
) -> None:
    http.add(responses.GET, URL, json=H1)
    bars = yahoo(registry).history("EURUSD", "1h", "2017-01-02", "2017-01-06 21:00")
    expected = recorded_frame(H1)
    assert len(bars) == len(H1["chart"]["result"][0]["timestamp"]) - 1  # one all-null row
    pd.testing.assert_frame_equal(
        bars[["open", "high", "low", "close"]], expected, check_freq=False, check_index_type=False
    )
    assert (bars["volume"] == 0).all()
    assert http.calls[0].request.params["interval"] == "60m"  # type: ignore[attr-defined]


def test_long_ranges_are_requested_in_windows(
    http: responses.RequestsMock, registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(yahoo_module.REQUEST_DAYS, "1h", 1.0)
    seen: list[dict] = []
    http.add_callback(responses.GET, URL, callback=chart_server(H1, seen))
    bars = yahoo(registry).history("EURUSD", "1h", "2017-01-02 07:00", "2017-01-06 21:00")
    assert len(seen) == 5
    windows = [(int(q["period1"]), int(q["period2"])) for q in seen]
    assert all(b == a2 for (_, b), (a2, _) in itertools.pairwise(windows))
    assert bars.index.is_unique and len(bars) == len(recorded_frame(H1))


def test_4h_is_resampled_from_validated_1h(
    http: responses.RequestsMock, registry: Registry
) -> None:
    http.add(responses.GET, URL, json=H1)
    bars = yahoo(registry).history("EURUSD", "4h", "2017-01-03", "2017-01-05")
    ref = resample(recorded_frame(H1), "4h", source="1h")
    ref = ref[(ref.index >= "2017-01-03") & (ref.index <= "2017-01-05")]
    pd.testing.assert_frame_equal(bars[["open", "high", "low", "close"]], ref, check_freq=False)
    assert bars.index[0].hour in (2, 6, 10, 14, 18, 22)  # 4h cut from 17:00 New York (EST)


def test_daily_bars_are_labelled_by_their_date_at_midnight_utc(
    http: responses.RequestsMock, registry: Registry
) -> None:
    http.add(responses.GET, URL, json=D1)
    bars = yahoo(registry).history("EURUSD", "1d", "2017-01-02", "2017-01-31")
    assert (bars.index == bars.index.normalize()).all()
    assert bars.index[0] == pd.Timestamp("2017-01-02", tz="UTC")


def test_off_grid_live_bar_is_dropped(http: responses.RequestsMock, registry: Registry) -> None:
    live = copy.deepcopy(H1)
    res = live["chart"]["result"][0]
    res["timestamp"].append(res["timestamp"][-1] + 1800 + 17)  # Yahoo's still-forming bar
    for values in res["indicators"]["quote"][0].values():
        values.append(values[-1])
    http.add(responses.GET, URL, json=live)
    bars = yahoo(registry).history("EURUSD", "1h", "2017-01-02", "2017-01-07")
    assert len(bars) == len(recorded_frame(H1))


def test_429_with_retry_after_then_success(
    http: responses.RequestsMock, registry: Registry, clock
) -> None:
    http.add(
        responses.GET, URL, status=429, body="Too Many Requests", headers={"Retry-After": "20"}
    )
    http.add(responses.GET, URL, json=D1)
    assert len(yahoo(registry).history("EURUSD", "1d", "2017-01-02", "2017-01-31")) == 22
    assert clock.sleeps == [20.0]


def test_5xx_then_success(http: responses.RequestsMock, registry: Registry, clock) -> None:
    http.add(responses.GET, URL, status=500, body="<html>Will be right back</html>")
    http.add(responses.GET, URL, json=D1)
    assert len(yahoo(registry).history("EURUSD", "1d", "2017-01-02", "2017-01-31")) == 22
    assert clock.sleeps == [0.5]


def test_timeout(http: responses.RequestsMock, registry: Registry) -> None:
    for _ in range(4):
        http.add(responses.GET, URL, body=requests.exceptions.ConnectTimeout("connect timeout"))
    with pytest.raises(ProviderTimeout, match="yahoo"):
        yahoo(registry).history("EURUSD", "1d", "2017-01-02", "2017-01-31")


def test_malformed_payloads_are_clear_errors_and_nothing_is_stored(
    http: responses.RequestsMock, registry: Registry, store: BarStore
) -> None:
    broken = copy.deepcopy(D1)
    broken["chart"]["result"][0]["indicators"]["quote"][0]["close"].pop()
    http.add(responses.GET, URL, json=broken)
    with pytest.raises(MalformedPayload, match="different lengths"):
        fetch(store, yahoo(registry), "EURUSD", "1d", "2017-01-02", "2017-01-31")
    http.add(responses.GET, URL, body="<html>consent page</html>")
    with pytest.raises(MalformedPayload, match="not JSON"):
        fetch(store, yahoo(registry), "EURUSD", "1d", "2017-01-02", "2017-01-31")
    assert not store.path("EURUSD", "1d").exists()


def test_unknown_symbol_metal_and_range_errors(
    http: responses.RequestsMock, registry: Registry
) -> None:
    http.add(
        responses.GET,
        "https://query1.finance.yahoo.com/v8/finance/chart/USDINR=X",
        status=404,
        json=load_json("yahoo/chart_not_found.json"),
    )
    with pytest.raises(SymbolNotSupported, match="No data found"):
        yahoo(registry).history("USDINR", "1d", "2017-01-02", "2017-01-31")
    with pytest.raises(SymbolNotSupported, match="XAUUSD is not available"):
        yahoo(registry).history("XAUUSD", "1d", "2017-01-02", "2017-01-31")
    http.add(responses.GET, URL, status=422, json=load_json("yahoo/chart_range_422.json"))
    with pytest.raises(TimeframeNotSupported, match="730 days"):
        yahoo(registry).history("EURUSD", "1h", "2017-01-03", "2017-01-06")


def test_indicative_quote_from_chart_meta(http: responses.RequestsMock, registry: Registry) -> None:
    http.add(
        responses.GET,
        URL,
        json=H1,
        match=[responses.matchers.query_param_matcher({"range": "1d", "interval": "1m"})],
    )
    (q,) = yahoo(registry).quote(["EURUSD"])
    assert q.indicative and q.mid == pytest.approx(1.05312)
    assert q.spread_pips == pytest.approx(0.8)  # EURUSD's typical spread
    assert q.time == pd.Timestamp(
        H1["chart"]["result"][0]["meta"]["regularMarketTime"], unit="s", tz="UTC"
    )


def test_symbol_mapping() -> None:
    p = YahooProvider.__new__(YahooProvider)
    assert p.source_symbol("eur/usd") == "EURUSD=X"
    assert p.source_symbol("USD_JPY") == "USDJPY=X"


def test_defective_hours_refuse_the_derived_4h(
    http: responses.RequestsMock, registry: Registry, store: BarStore, clock
) -> None:
    bad = copy.deepcopy(H1)
    quote = bad["chart"]["result"][0]["indicators"]["quote"][0]
    quote["high"][30] = quote["low"][30] - 0.001  # high below low in one hour
    http.add(responses.GET, URL, json=bad)
    with pytest.raises(InvalidBars, match="to build 4h"):
        fetch(store, yahoo(registry), "EURUSD", "4h", "2017-01-03", "2017-01-06", clock=clock)
    assert not store.path("EURUSD", "4h").exists()
