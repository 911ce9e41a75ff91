"""The provider commands, registered on a root and a data Typer app as ``noxfx.cli`` will."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import responses
import typer
from typer.testing import CliRunner

from noxfx.cli.providers import register
from noxfx.data.providers.base import NotConfigured
from noxfx.data.providers.dukascopy import tick_url
from noxfx.data.sample import bootstrap
from noxfx.data.store import BarStore
from tests.data.providers.conftest import load_bytes, load_json

HOURS = pd.date_range("2017-01-03 00:00", periods=4, freq="h", tz="UTC")


@pytest.fixture
def app() -> typer.Typer:
    root = typer.Typer()
    data = typer.Typer()
    register(root, data)
    root.add_typer(data, name="data")
    return root


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    from noxfx.config import get_settings

    home = tmp_path / "home"
    monkeypatch.setenv("NOX_HOME", str(home))
    for var in (
        "NOX_OANDA_TOKEN",
        "NOX_OANDA_ACCOUNT",
        "NOX_ALPHAVANTAGE_KEY",
        "NOX_REDIS_URL",
        "NOX_QUOTE_PROVIDER",
    ):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NOX_PROVIDER_CHAIN", "oanda,dukascopy")
    get_settings.cache_clear()
    bootstrap(BarStore(home / "bars"))
    yield home
    get_settings.cache_clear()


def run(app: typer.Typer, *args: str) -> object:
    result = CliRunner().invoke(app, list(args), catch_exceptions=True)
    return result


def test_providers_json(app: typer.Typer, home: Path) -> None:
    result = run(app, "providers", "--json")
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    rows = {r["name"]: r for r in json.loads(result.stdout)}  # type: ignore[attr-defined]
    assert rows["oanda"]["configured"] is False and "NOX_OANDA_TOKEN" in rows["oanda"]["note"]
    assert rows["replay"]["configured"] is True and rows["dukascopy"]["in_chain"] is True
    assert rows["yahoo"]["circuit"]["state"] == "closed"
    table = run(app, "providers")
    assert "Market-data providers" in table.stdout  # type: ignore[attr-defined]


def test_quote_defaults_to_replay(app: typer.Typer, home: Path) -> None:
    result = run(app, "quote", "EURUSD", "GBPUSD", "--json")
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    eur, gbp = json.loads(result.stdout)  # type: ignore[attr-defined]
    assert eur["source"] == "replay" and eur["indicative"] is True
    assert eur["spread_pips"] == pytest.approx(0.8) and gbp["symbol"] == "GBPUSD"


def test_fetch_with_progress_then_crosscheck(
    app: typer.Typer, home: Path, http: responses.RequestsMock
) -> None:
    for h in HOURS:
        http.add(
            responses.GET,
            tick_url("EURUSD", h),
            body=load_bytes(f"dukascopy/EURUSD/2017/00/03/{h.hour:02d}h_ticks.bi5"),
        )
    result = run(
        app,
        "data",
        "fetch",
        "EURUSD",
        "-t",
        "1m",
        "--source",
        "dukascopy",
        "--start",
        "2017-01-03 00:00",
        "--end",
        "2017-01-03 03:59",
        "--json",
    )
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    out = json.loads(result.stdout)  # type: ignore[attr-defined]
    assert out["sources"] == ["dukascopy"] and out["added"] == 239
    store = BarStore(home / "bars")
    assert store.info("EURUSD", "1m").source == "provider:dukascopy"
    # the bundled 1h sample (another vendor) against Dukascopy's ticks, same four hours
    check = run(
        app,
        "data",
        "crosscheck",
        "EURUSD",
        "-t",
        "1h",
        "--sources",
        "store,dukascopy",
        "--start",
        "2017-01-03 00:00",
        "--end",
        "2017-01-03 03:00",
        "--threshold",
        "0.1",
        "--json",
    )
    assert check.exit_code == 0, check.output  # type: ignore[attr-defined]
    report = json.loads(check.stdout)  # type: ignore[attr-defined]
    (pair,) = report["pairs"]
    assert (pair["a"], pair["b"], pair["common"]) == ("store", "dukascopy", 4)
    assert report["threshold_pips"] == 0.1 and report["ok"] is (not report["disagreements"])


def test_fetch_without_a_token_is_a_clear_error(app: typer.Typer, home: Path) -> None:
    result = run(
        app,
        "data",
        "fetch",
        "AUDUSD",
        "--source",
        "oanda",
        "--start",
        "2017-01-03",
        "--end",
        "2017-01-04",
    )
    exc = result.exception  # type: ignore[attr-defined]
    assert isinstance(exc, NotConfigured) and exc.exit_code == 2
    assert str(exc) == "oanda: set NOX_OANDA_TOKEN (and NOX_OANDA_ENV=practice|live)"


def test_compare_tradingview(app: typer.Typer, home: Path, http: responses.RequestsMock) -> None:
    http.add(
        responses.POST,
        "https://scanner.tradingview.com/forex/scan",
        json=load_json("tradingview/scan_EURUSD_1h.json"),
    )
    result = run(app, "compare-tradingview", "EURUSD", "-t", "1h", "--json")
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    out = json.loads(result.stdout)  # type: ignore[attr-defined]
    assert out["symbol"] == "EURUSD" and len(out["rows"]) == 3 and out["agreement"] > 0.7
    table = run(app, "compare-tradingview", "EURUSD", "-t", "1h")
    assert "of the votes agree" in table.stdout  # type: ignore[attr-defined]
