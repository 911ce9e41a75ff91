"""The HTML report of a real EURUSD backtest: self-contained, charts and tables present."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from noxfx.backtest import BacktestConfig
from noxfx.backtest.optimize import optimize, parse_ranges
from noxfx.backtest.report import cost_summary, monthly_returns, render_report, write_report
from noxfx.backtest.strategy_spec import load_strategy


@pytest.fixture(scope="module")
def bars(h1_bars: pd.DataFrame) -> pd.DataFrame:
    return h1_bars.loc["2018-01-01":"2019-12-31"]


def test_report_renders_charts_and_tables(bars: pd.DataFrame, tmp_path: Path) -> None:
    strategy = load_strategy("sma_cross")
    config = BacktestConfig(symbol="EURUSD", risk_percent=1.0, commission_per_lot=3.5)
    opt = optimize(strategy, bars, parse_ranges(["fast=5,10", "slow=30,60"], strategy), config)
    path = write_report(tmp_path / "r.html", opt.best, bars, title="sma <cross> & co",
                        params=opt.best_params, optimization=opt)  # fmt: skip
    text = path.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    assert "<title>sma &lt;cross&gt; &amp; co</title>" in text  # escaped
    assert "<script" not in text and "<link" not in text and "src=" not in text
    assert not re.search(r"https?://(?!www\.w3\.org/2000/svg)", text)  # nothing fetched
    svgs = re.findall(r"<svg.*?</svg>", text, re.S)
    assert len(svgs) == 3  # price with trades, equity, drawdown
    for svg in svgs:
        ET.fromstring(svg)  # well-formed
    price = svgs[0]
    n_trades = opt.best.trades["trade_id"].nunique()
    assert price.count("<polygon") == n_trades and price.count("<circle") == n_trades
    for heading in ("Metrics", "Costs (included)", "Price and trades", "Equity", "Drawdown",
                    "Monthly returns", "Optimisation", "Trades", "Parameters"):  # fmt: skip
        assert f"<h2>{heading}" in text
    assert 'class="monthly"' in text and '<td class="l">2018</td>' in text
    assert "deflated Sharpe ratio" in text and "PBO (CSCV)" in text
    assert "3.5 USD per lot per side" in text and "0.8 pips (typical for EURUSD" in text


def test_monthly_returns_by_hand() -> None:
    index = pd.DatetimeIndex(["2020-01-05", "2020-01-31", "2020-02-10", "2020-04-01"], tz="UTC")
    equity = pd.Series([10_100.0, 10_200.0, 9_690.0, 10_659.0], index=index)
    table = monthly_returns(equity, 10_000.0)
    assert table.loc[2020, "Jan"] == pytest.approx(0.02)
    assert table.loc[2020, "Feb"] == pytest.approx(9_690 / 10_200 - 1)
    assert np.isnan(table.loc[2020, "Mar"])
    assert table.loc[2020, "Apr"] == pytest.approx(0.1)
    assert table.loc[2020, "Year"] == pytest.approx(10_659 / 10_000 - 1)


def test_report_monthly_table_matches_equity(bars: pd.DataFrame) -> None:
    result = load_strategy("ema_cross").backtest(bars)
    html = render_report(result, None)
    assert "<h2>Price and trades" not in html  # no bars given
    table = monthly_returns(result.equity, 10_000.0)
    compounded = float(np.prod(1 + table["Year"].to_numpy()) - 1)
    assert compounded == pytest.approx(result.metrics.net_profit_frac, rel=1e-9)
    assert list(table.index) == [2018, 2019]


def test_cost_summary_states_the_spread_source(bars: pd.DataFrame) -> None:
    assert "given" in cost_summary(BacktestConfig(spread_pips=1.2))["spread"]
    with_column = bars.assign(spread=8.0)  # MetaTrader points: 0.8 pips
    text = cost_summary(BacktestConfig(), with_column)["spread"]
    assert "spread column" in text and "0.80 pips" in text
