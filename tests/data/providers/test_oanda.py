"""OANDA v20 against recorded responses (candles, pricing, pricing stream)."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pandas as pd
import pytest
import requests
import responses
import urllib3

from noxfx.data.providers.base import (
    MalformedPayload,
    NotConfigured,
    ProviderTimeout,
    ProviderUnavailable,
    SymbolNotSupported,
)
from noxfx.data.providers.fetch import fetch
from noxfx.data.providers.oanda import OandaProvider, parse_stream_line
from noxfx.data.providers.registry import Registry
from noxfx.data.store import BarStore
from noxfx.errors import InvalidBars, UnknownInstrument
from tests.data.providers.conftest import fixture_path, load_json

API = "https://api-fxpractice.oanda.com/v3"
CANDLES_URL = f"{API}/instruments/EUR_USD/candles"
H1 = load_json("oanda/candles_EUR_USD_H1.json")


def oanda(registry: Registry, page_size: int = 5000) -> OandaProvider:
    provider = registry.create("oanda")
    assert isinstance(provider, OandaProvider)
    provider.page_size = page_size
    return provider


def candle_server(recorded: dict, seen: list[dict]):
    """A callback answering like OANDA: candles with from <= time <= to (inclusive to, the
    stricter reading), at most 5000, refusing 'to' in the future of the recorded week."""

    def reply(request: requests.PreparedRequest):  # type: ignore[no-untyped-def]
        q = {k: v[0] for k, v in parse_qs(urlsplit(request.url).query).items()}
        seen.append(q)
        assert request.headers["Authorization"] == "Bearer test-token"
        lo, hi = pd.Timestamp(q["from"]), pd.Timestamp(q["to"])
        picked = [c for c in recorded["candles"] if lo <= pd.Timestamp(c["time"]) <= hi]
        assert len(picked) <= 5000
        return 200, {}, json.dumps({**recorded, "candles": picked})

    return reply


def test_candles_are_bid_bars_with_spread_in_points(
    http: responses.RequestsMock, registry: Registry
) -> None:
    seen: list[dict] = []
    http.add_callback(responses.GET, CANDLES_URL, callback=candle_server(H1, seen))
    bars = oanda(registry).history("EURUSD", "1h", "2017-01-03", "2017-01-06 21:00")
    first = H1["candles"][2]  # 2017-01-03 00:00
    assert bars.index[0] == pd.Timestamp("2017-01-03 00:00", tz="UTC")
    assert bars["open"].iloc[0] == float(first["bid"]["o"])
    expected_spread = (float(first["ask"]["c"]) - float(first["bid"]["c"])) * 1e5
    assert bars["spread"].iloc[0] == pytest.approx(expected_spread)
    assert bars["volume"].iloc[0] == first["volume"]
    # the last recorded candle is still forming ("complete": false): not returned
    assert bars.index[-1] == pd.Timestamp("2017-01-06 20:00", tz="UTC")
    assert bars.index.is_unique and bars.index.is_monotonic_increasing
    assert seen[0]["price"] == "BA" and seen[0]["granularity"] == "H1"
    assert (seen[0]["dailyAlignment"], seen[0]["alignmentTimezone"]) == ("17", "America/New_York")


def test_long_range_is_paged_without_gaps_or_duplicates(
    http: responses.RequestsMock, registry: Registry
) -> None:
    seen: list[dict] = []
    http.add_callback(responses.GET, CANDLES_URL, callback=candle_server(H1, seen))
    paged = oanda(registry, page_size=10).history(
        "EURUSD", "1h", "2017-01-02 22:00", "2017-01-06 20:00"
    )
    assert len(seen) == 11  # 95 hours in pages of at most 10 candles
    expected = [pd.Timestamp(c["time"]) for c in H1["candles"] if c["complete"]]
    assert list(paged.index) == expected
    for q in seen:  # each page spans at most page_size candles, whichever way 'to' is read
        span = pd.Timestamp(q["to"]) - pd.Timestamp(q["from"])
        assert span <= pd.Timedelta(hours=9)


def test_daily_candles_open_at_17h_new_york(
    http: responses.RequestsMock, registry: Registry
) -> None:
    http.add(responses.GET, CANDLES_URL, json=load_json("oanda/candles_EUR_USD_D.json"))
    bars = oanda(registry).history("EURUSD", "1d", "2017-01-02", "2017-01-06")
    assert [t.strftime("%d %H:%M") for t in bars.index] == ["02 22:00", "03 22:00", "04 22:00"]


def test_429_honours_retry_after(http: responses.RequestsMock, registry: Registry, clock) -> None:
    http.add(
        responses.GET,
        CANDLES_URL,
        status=429,
        headers={"Retry-After": "3"},
        json={"errorMessage": "Requests are being rate limited"},
    )
    http.add(responses.GET, CANDLES_URL, json=load_json("oanda/candles_EUR_USD_D.json"))
    bars = oanda(registry).history("EURUSD", "1d", "2017-01-02", "2017-01-06")
    assert len(bars) == 3
    assert clock.sleeps == [3.0]


def test_5xx_then_success(http: responses.RequestsMock, registry: Registry, clock) -> None:
    http.add(responses.GET, CANDLES_URL, status=503, body="Service Unavailable")
    http.add(responses.GET, CANDLES_URL, status=502, body="Bad Gateway")
    http.add(responses.GET, CANDLES_URL, json=load_json("oanda/candles_EUR_USD_D.json"))
    assert len(oanda(registry).history("EURUSD", "1d", "2017-01-02", "2017-01-06")) == 3
    assert clock.sleeps == [0.5, 1.0]  # exponential backoff (jitter off in tests)
    assert registry.guard("oanda").breaker.state == "closed"  # type: ignore[union-attr]


def test_timeout_is_retried_then_reported(
    http: responses.RequestsMock, registry: Registry, clock
) -> None:
    for _ in range(4):
        http.add(responses.GET, CANDLES_URL, body=requests.exceptions.ReadTimeout("timed out"))
    with pytest.raises(ProviderTimeout, match=r"oanda: no answer .* within 15 s.*4 attempts"):
        oanda(registry).history("EURUSD", "1d", "2017-01-02", "2017-01-06")
    assert len(clock.sleeps) == 3


def test_malformed_payload_is_a_clear_error_and_nothing_is_stored(
    http: responses.RequestsMock, registry: Registry, store: BarStore
) -> None:
    http.add(responses.GET, CANDLES_URL, json={"instrument": "EUR_USD", "granularity": "H1"})
    with pytest.raises(MalformedPayload, match=r"no 'candles' list.*nothing stored yet"):
        fetch(store, oanda(registry), "EURUSD", "1h", "2017-01-03", "2017-01-03 05:00")
    assert not store.path("EURUSD", "1h").exists()


def test_defective_candles_are_refused_by_validation(
    http: responses.RequestsMock, registry: Registry, store: BarStore
) -> None:
    bad = load_json("oanda/candles_EUR_USD_D.json")
    bad["candles"][1]["bid"]["h"] = "0.99000"  # high below low: a defect, not a format error
    http.add(responses.GET, CANDLES_URL, json=bad)
    with pytest.raises(InvalidBars, match="ohlc") as err:
        fetch(store, oanda(registry), "EURUSD", "1d", "2017-01-02", "2017-01-06")
    assert err.value.report.errors[0].check == "ohlc"  # type: ignore[attr-defined]
    assert not store.path("EURUSD", "1d").exists()


def test_unknown_instrument_and_bad_token(http: responses.RequestsMock, registry: Registry) -> None:
    http.add(
        responses.GET,
        f"{API}/instruments/USD_INR/candles",
        status=400,
        json=load_json("oanda/error_instrument.json"),
    )
    with pytest.raises(SymbolNotSupported, match=r"USDINR .*Invalid value specified"):
        oanda(registry).history("USDINR", "1h", "2017-01-03", "2017-01-04")
    with pytest.raises(UnknownInstrument, match="Did you mean"):  # not in our catalogue
        oanda(registry).history("EURXYZ", "1h", "2017-01-03", "2017-01-04")
    http.add(responses.GET, CANDLES_URL, status=401, json=load_json("oanda/error_token.json"))
    with pytest.raises(NotConfigured, match="token rejected"):
        oanda(registry).history("EURUSD", "1h", "2017-01-03", "2017-01-04")


def test_no_token_is_not_configured(registry: Registry) -> None:
    provider = oanda(registry)
    provider.token = None
    assert provider.configured()[0] is False
    with pytest.raises(NotConfigured, match="NOX_OANDA_TOKEN"):
        provider.history("EURUSD", "1h", "2017-01-03", "2017-01-04")


def test_pricing_returns_best_bid_and_ask(http: responses.RequestsMock, registry: Registry) -> None:
    http.add(
        responses.GET,
        f"{API}/accounts/101-004-1234567-001/pricing",
        json=load_json("oanda/pricing.json"),
        match=[responses.matchers.query_param_matcher({"instruments": "EUR_USD,USD_JPY"})],
    )
    eur, jpy = oanda(registry).quote(["EURUSD", "usd/jpy"])
    assert (eur.symbol, eur.bid, eur.ask, eur.indicative) == ("EURUSD", 1.05312, 1.05326, False)
    assert eur.time == pd.Timestamp("2017-01-06 21:59:58.123456789", tz="UTC")
    assert eur.spread_pips == pytest.approx(1.4)
    assert (jpy.symbol, jpy.bid, jpy.ask) == ("USDJPY", 116.952, 116.968)


def test_pricing_stream_yields_ticks_and_skips_heartbeats(
    http: responses.RequestsMock, registry: Registry
) -> None:
    body = fixture_path("oanda/stream.jsonl").read_bytes()
    http.add(
        responses.GET,
        "https://stream-fxpractice.oanda.com/v3/accounts/101-004-1234567-001/pricing/stream",
        body=body,
    )
    ticks = list(oanda(registry).stream(["EURUSD"]))
    assert [(t.bid, t.ask) for t in ticks] == [
        (1.05312, 1.05326),
        (1.05314, 1.05327),
        (1.05311, 1.05325),
    ]
    assert all(t.symbol == "EURUSD" and t.bid_volume == 1_000_000 for t in ticks)
    assert ticks[0].time < ticks[1].time < ticks[2].time


def test_stream_parser_rejects_garbage() -> None:
    assert parse_stream_line(b"") is None
    assert parse_stream_line('{"type": "HEARTBEAT", "time": "2017-01-06T21:57:15Z"}') is None
    with pytest.raises(MalformedPayload):
        parse_stream_line(b"<html>")
    with pytest.raises(MalformedPayload):
        parse_stream_line('{"type": "PRICE", "instrument": "EUR_USD"}')


def test_quotes_need_an_account(registry: Registry) -> None:
    provider = oanda(registry)
    provider.account_id = None
    with pytest.raises(NotConfigured, match="NOX_OANDA_ACCOUNT"):
        provider.quote(["EURUSD"])


def test_fetch_stores_oanda_bars_with_provenance(
    http: responses.RequestsMock, registry: Registry, store: BarStore, clock
) -> None:
    seen: list[dict] = []
    http.add_callback(responses.GET, CANDLES_URL, callback=candle_server(H1, seen))
    result = fetch(
        store,
        oanda(registry, page_size=24),
        "EURUSD",
        "1h",
        "2017-01-03",
        "2017-01-06 21:00",
        clock=clock,
    )
    info = store.info("EURUSD", "1h")
    assert info.source == "provider:oanda"
    assert info.first == pd.Timestamp("2017-01-03", tz="UTC")
    assert info.last == pd.Timestamp("2017-01-06 20:00", tz="UTC")
    assert result.added == info.bars == 93 and result.sources == ["oanda"]


def test_a_stream_cut_mid_way_is_a_provider_error(registry: Registry) -> None:
    first = fixture_path("oanda/stream.jsonl").read_bytes().splitlines()[0]

    class CutRaw:  # what urllib3 gives when the connection resets mid-stream
        def __init__(self) -> None:
            self.sent = False

        def read1(self, _amt: int, decode_content: bool = True) -> bytes:
            if not self.sent:
                self.sent = True
                return first + b"\n"
            raise urllib3.exceptions.ProtocolError("connection reset")

    class CutResponse:
        closed = False
        raw = CutRaw()

        def close(self) -> None:
            self.closed = True

    resp = CutResponse()
    ticks = oanda(registry)._ticks(resp)
    assert next(ticks).bid == 1.05312
    with pytest.raises(ProviderUnavailable, match="price stream interrupted"):
        next(ticks)
    assert resp.closed
