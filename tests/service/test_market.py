"""Instruments, market data on the real bundled sample bars, caching and its invalidation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from noxfx.data.store import BarStore
from tests.service.conftest import assert_problem


def test_instruments(client: Any) -> None:
    everything = client.get("/api/v1/instruments").get_json()
    assert len(everything) >= 50 and {"EURUSD", "XAUUSD"} <= {i["symbol"] for i in everything}
    metals = client.get("/api/v1/instruments?kind=metal").get_json()
    assert {i["symbol"] for i in metals} == {"XAUUSD", "XAGUSD"}
    one = client.get("/api/v1/instruments/eur-usd").get_json()
    assert one["symbol"] == "EURUSD" and one["pip_size"] == 0.0001
    body = assert_problem(client.get("/api/v1/instruments/EURUSX"), 404)
    assert "Did you mean EURUSD" in body["detail"]
    assert_problem(client.get("/api/v1/instruments?kind=crypto"), 422)
    typo = assert_problem(client.get("/api/v1/instruments?knid=metal"), 422)
    assert typo["errors"] == [{"location": "query", "field": "knid", "message": "Unknown field."}]


def test_market_data_on_real_bars(market_app: Any) -> None:
    client = market_app.test_client()
    r = client.get("/api/v1/market-data/EURUSD?timeframe=1h&limit=3")
    assert r.status_code == 200 and r.mimetype == "application/json"
    body = r.get_json()
    assert body["symbol"] == "EURUSD" and body["timeframe"] == "1h"
    bars = body["bars"]["items"]
    assert body["bars"]["count"] == 3 and len(bars) == 3
    stored = BarStore(market_app.config["NOX_SETTINGS"].bars_dir).read("EURUSD", "1h")
    assert bars[-1]["time"] == stored.index[-1].isoformat()
    assert bars[-1]["close"] == pytest.approx(float(stored["close"].iloc[-1]))
    for bar in bars:
        assert (
            bar["low"]
            <= min(bar["open"], bar["close"])
            <= max(bar["open"], bar["close"])
            <= bar["high"]
        )
    quote = body["quote"]
    assert quote["bid"] < quote["mid"] < quote["ask"]
    assert quote["time"] == (stored.index[-1] + pd.Timedelta(hours=1)).isoformat()
    assert r.headers["X-RateLimit-Limit"] == "100"


def test_market_data_range_and_derived_timeframe(market_app: Any) -> None:
    client = market_app.test_client()
    r = client.get("/api/v1/market-data/eurusd?timeframe=4h&start=2020-03-02&end=2020-03-03")
    bars = r.get_json()["bars"]["items"]
    assert r.status_code == 200 and 1 <= len(bars) <= 12
    assert all("2020-03-02" <= b["time"][:10] <= "2020-03-03" for b in bars)


def test_market_data_errors(market_app: Any) -> None:
    client = market_app.test_client()
    body = assert_problem(client.get("/api/v1/market-data/EURUSDD?timeframe=1h"), 404)
    assert body["type"].endswith("unknown-instrument") and "Did you mean EURUSD?" in body["detail"]
    none = assert_problem(client.get("/api/v1/market-data/EURCHF?timeframe=1h"), 404)
    assert "noxfx data" in none["detail"]
    bad = assert_problem(client.get("/api/v1/market-data/EURUSD?timeframe=2h&limit=0"), 422)
    assert {e["field"] for e in bad["errors"]} == {"timeframe", "limit"}
    date = assert_problem(client.get("/api/v1/market-data/EURUSD?start=yesterday-ish"), 422)
    assert date["errors"][0]["field"] == "start"
    order = assert_problem(
        client.get("/api/v1/market-data/EURUSD?start=2020-02-01&end=2020-01-01"), 422
    )
    assert order["errors"][0]["field"] == "start"


def test_new_bars_invalidate_the_cache(make_app: Any, sample_bars: Path, tmp_path: Path) -> None:
    import shutil

    home = tmp_path / "home"
    shutil.copytree(sample_bars, home / "bars")
    app = make_app(home=home)
    client = app.test_client()
    first = client.get("/api/v1/market-data/GBPUSD?timeframe=1h&limit=2").get_json()
    again = client.get("/api/v1/market-data/GBPUSD?timeframe=1h&limit=2").get_json()
    assert again == first
    store = BarStore(home / "bars")
    last = store.read("GBPUSD", "1h").iloc[[-1]]
    new = last.copy()
    new.index = new.index + pd.Timedelta(hours=1)
    new[["open", "high", "low", "close"]] = [1.3, 1.31, 1.29, 1.305]
    store.write("GBPUSD", "1h", new)
    after = client.get("/api/v1/market-data/GBPUSD?timeframe=1h&limit=2").get_json()
    assert after["data_version"] != first["data_version"]
    assert after["bars"]["items"][-1]["close"] == 1.305
    assert after["quote"]["mid"] == 1.305


def test_redis_cache_backend(
    make_app: Any, sample_bars: Path, tmp_path: Path, redis_url: str
) -> None:
    import redis

    home = tmp_path / "home"
    home.mkdir(parents=True, exist_ok=True)
    (home / "bars").symlink_to(sample_bars, target_is_directory=True)
    app = make_app(home=home, redis_url=redis_url)
    client = app.test_client()
    first = client.get("/api/v1/market-data/USDJPY?timeframe=4h&limit=5")
    assert first.status_code == 200
    keys = {k.decode() for k in redis.Redis.from_url(redis_url).keys("nox:cache:*")}
    assert any(k.startswith("nox:cache:bars:USDJPY:4h") for k in keys)
    assert any(k.startswith("nox:cache:quote:USDJPY") for k in keys)
    ttl = redis.Redis.from_url(redis_url).pttl(next(k for k in keys if ":quote:" in k))
    assert 0 < ttl <= 2000
    assert client.get("/api/v1/market-data/USDJPY?timeframe=4h&limit=5").data == first.data
