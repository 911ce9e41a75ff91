"""Dukascopy tick files (LZMA .bi5 built from real EURUSD minutes) -> bid bars."""

from __future__ import annotations

import lzma

import numpy as np
import pandas as pd
import pytest
import requests
import responses

from noxfx.data.providers import dukascopy as duka_module
from noxfx.data.providers.base import (
    CapabilityMissing,
    MalformedPayload,
    ProviderTimeout,
    SymbolNotSupported,
)
from noxfx.data.providers.dukascopy import (
    TICK_DTYPE,
    DukascopyProvider,
    decode_ticks,
    point_factor,
    tick_url,
)
from noxfx.data.providers.fetch import fetch
from noxfx.data.providers.registry import Registry
from noxfx.data.store import BarStore
from noxfx.instruments import get_instrument
from noxfx.timeframes import parse_timeframe, resample
from tests.conftest import shared
from tests.data.providers.conftest import load_bytes

HOURS = pd.date_range("2017-01-03 00:00", periods=4, freq="h", tz="UTC")


@pytest.fixture(scope="module")
def minutes() -> pd.DataFrame:
    """The real EURUSD minutes the tick fixtures were built from."""
    from noxfx.data.formats import read_file

    frame = read_file(shared("histdata/DAT_ASCII_EURUSD_M1_201701.csv.gz")).frame
    return frame.drop(columns="line").loc["2017-01-03 00:00":"2017-01-03 03:59"]


def duka(registry: Registry) -> DukascopyProvider:
    provider = registry.create("dukascopy")
    assert isinstance(provider, DukascopyProvider)
    return provider


def serve_hours(http: responses.RequestsMock, hours=HOURS) -> None:  # type: ignore[no-untyped-def]
    for h in hours:
        http.add(
            responses.GET,
            tick_url("EURUSD", h),
            body=load_bytes(f"dukascopy/EURUSD/2017/00/03/{h.hour:02d}h_ticks.bi5"),
        )


def test_url_counts_months_from_zero() -> None:
    assert tick_url("EURUSD", pd.Timestamp("2017-01-03 07:00", tz="UTC")) == (
        "https://datafeed.dukascopy.com/datafeed/EURUSD/2017/00/03/07h_ticks.bi5"
    )
    assert tick_url("USDJPY", pd.Timestamp("2016-12-31 23:00", tz="UTC")).endswith(
        "/USDJPY/2016/11/31/23h_ticks.bi5"
    )


def test_point_factors() -> None:
    assert point_factor(get_instrument("EURUSD")) == 1e5
    assert point_factor(get_instrument("USDJPY")) == 1e3
    assert point_factor(get_instrument("XAUUSD")) == 1e3


def test_decoded_ticks_rebuild_the_real_minutes(minutes: pd.DataFrame) -> None:
    ticks = decode_ticks(load_bytes("dukascopy/EURUSD/2017/00/03/00h_ticks.bi5"), HOURS[0], 1e5)
    assert len(ticks) == 4 * 60
    assert ticks.index[0] == HOURS[0] and ticks.index[-1] == HOURS[0] + pd.Timedelta("59min59s")
    assert (ticks["ask"] > ticks["bid"]).all()
    from noxfx.data.providers.dukascopy import ticks_to_bars

    bars = ticks_to_bars(ticks, parse_timeframe("1m"), 1e5)
    ref = minutes.loc[: HOURS[0] + pd.Timedelta("59min")]
    np.testing.assert_allclose(
        bars[["open", "high", "low", "close"]].to_numpy(),
        ref[["open", "high", "low", "close"]].to_numpy(),
        atol=1e-9,
    )
    assert (bars["spread"].between(10, 20)).all()  # 1.0-2.0 pips in points


def test_hourly_bars_equal_the_minutes_resampled(
    http: responses.RequestsMock, registry: Registry, minutes: pd.DataFrame
) -> None:
    serve_hours(http)
    bars = duka(registry).history("EURUSD", "1h", "2017-01-03 00:00", "2017-01-03 03:00")
    ref = resample(minutes, "1h", source="1m")
    np.testing.assert_allclose(
        bars[["open", "high", "low", "close"]].to_numpy(),
        ref[["open", "high", "low", "close"]].to_numpy(),
        atol=1e-9,
    )
    assert list(bars.index) == list(HOURS)
    assert len(http.calls) == 4


def test_chunked_fetch_stores_every_minute(
    http: responses.RequestsMock,
    registry: Registry,
    store: BarStore,
    clock,
    minutes: pd.DataFrame,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(duka_module.REQUEST_DAYS, "1m", 1 / 24)  # one hour per chunk
    serve_hours(http)
    seen = []
    result = fetch(
        store,
        duka(registry),
        "EURUSD",
        "1m",
        "2017-01-03 00:00",
        "2017-01-03 03:59",
        progress=seen.append,
        clock=clock,
    )
    assert result.chunks == 4 and [p.done for p in seen] == [1, 2, 3, 4]
    stored = store.read("EURUSD", "1m")
    assert len(stored) == len(minutes) and store.info("EURUSD", "1m").source == "provider:dukascopy"
    np.testing.assert_allclose(stored["close"].to_numpy(), minutes["close"].to_numpy())


def test_weekend_hours_are_not_requested(registry: Registry) -> None:
    hours = duka(registry).hours(
        parse_timeframe("1h"),
        pd.Timestamp("2017-01-06 20:00", tz="UTC"),
        pd.Timestamp("2017-01-08 23:00", tz="UTC"),
    )
    # Friday 17:00 New York = 22:00 UTC closes; Sunday 22:00 UTC opens
    assert [h.strftime("%a %H") for h in hours] == ["Fri 20", "Fri 21", "Sun 22", "Sun 23"]


def test_4h_and_daily_bars_download_their_whole_bucket(registry: Registry) -> None:
    p = duka(registry)
    four = p.hours(
        parse_timeframe("4h"),
        pd.Timestamp("2017-01-03 00:00", tz="UTC"),
        pd.Timestamp("2017-01-03 00:00", tz="UTC"),
    )
    assert [h.strftime("%d %H") for h in four] == ["02 22", "02 23", "03 00", "03 01"]
    day = p.hours(
        parse_timeframe("1d"),
        pd.Timestamp("2017-01-03 12:00", tz="UTC"),
        pd.Timestamp("2017-01-03 12:00", tz="UTC"),
    )
    assert len(day) == 24 and day[0] == pd.Timestamp("2017-01-02 22:00", tz="UTC")


def test_empty_and_missing_hours_are_no_ticks(
    http: responses.RequestsMock, registry: Registry
) -> None:
    http.add(responses.GET, tick_url("EURUSD", HOURS[0]), body=b"")
    http.add(responses.GET, tick_url("EURUSD", HOURS[1]), status=404)
    serve_hours(http, HOURS[2:])
    bars = duka(registry).history("EURUSD", "1h", HOURS[0], HOURS[-1])
    assert list(bars.index) == list(HOURS[2:])


def test_429_retry_after_and_5xx_then_success(
    http: responses.RequestsMock, registry: Registry, clock
) -> None:
    url = tick_url("EURUSD", HOURS[0])
    http.add(responses.GET, url, status=429, headers={"Retry-After": "2"})
    http.add(responses.GET, url, status=500)
    serve_hours(http, HOURS[:1])
    bars = duka(registry).history("EURUSD", "1h", HOURS[0], HOURS[0])
    assert len(bars) == 1
    assert clock.sleeps[:2] == [2.0, 1.0]  # Retry-After, then the 2nd backoff step


def test_timeout(http: responses.RequestsMock, registry: Registry) -> None:
    for _ in range(4):
        http.add(
            responses.GET, tick_url("EURUSD", HOURS[0]), body=requests.exceptions.ReadTimeout()
        )
    with pytest.raises(ProviderTimeout, match="dukascopy"):
        duka(registry).history("EURUSD", "1h", HOURS[0], HOURS[0])


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"this is not lzma", "not LZMA data"),
        (lzma.compress(b"\x00" * 30, format=lzma.FORMAT_ALONE), "whole 20-byte records"),
        (
            lzma.compress(
                np.array([(3_600_000, 104600, 104590, 1.0, 1.0)], dtype=TICK_DTYPE).tobytes(),
                format=lzma.FORMAT_ALONE,
            ),
            "beyond the hour",
        ),
    ],
)
def test_corrupt_tick_files_are_refused_and_nothing_is_stored(
    http: responses.RequestsMock,
    registry: Registry,
    store: BarStore,
    clock,
    body: bytes,
    message: str,
) -> None:
    http.add(responses.GET, tick_url("EURUSD", HOURS[0]), body=body)
    with pytest.raises(MalformedPayload, match=message):
        fetch(store, duka(registry), "EURUSD", "1h", HOURS[0], HOURS[0], clock=clock)
    assert not store.path("EURUSD", "1h").exists()


def test_unsupported_symbol_and_no_quotes(registry: Registry) -> None:
    with pytest.raises(SymbolNotSupported, match="USDINR"):
        duka(registry).history("USDINR", "1h", HOURS[0], HOURS[0])
    with pytest.raises(CapabilityMissing, match="no quotes"):
        duka(registry).quote(["EURUSD"])
