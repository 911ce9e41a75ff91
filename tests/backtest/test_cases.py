"""Hand-worked cases: each expected number is computed in the comment above its assertion.

Bars here are a few hand-written hourly bars (the rules are easier to see on them); the engine's
agreement on real bars is in ``test_reference.py`` and ``test_backtesting_parity.py``.
Monday 2024-01-08 is in New York winter time (UTC-5): the rollover is at 22:00 UTC.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from noxfx.backtest import BacktestConfig, Distance, Signals, Target, rollover_days, simulate
from noxfx.errors import InvalidInput
from noxfx.timeframes import trading_day

MON = "2024-01-08 10:00"


def _bars(rows: list[tuple[float, float, float, float]], start: str = MON) -> pd.DataFrame:
    index = pd.date_range(start, periods=len(rows), freq="1h", tz="UTC", name="time")
    return pd.DataFrame(rows, index=index, columns=["open", "high", "low", "close"])


def _at(n: int, *bars: int) -> np.ndarray:
    out = np.zeros(n, dtype=bool)
    out[list(bars)] = True
    return out


def _one_trade(result) -> pd.Series:
    assert len(result.trades) == 1, result.trades
    return result.trades.iloc[0]


# ------------------------------------------------------------------ gaps, stop vs target
def test_gap_through_the_stop_fills_at_the_open() -> None:
    bars = _bars(
        [
            (1.1000, 1.1010, 1.0990, 1.1000),  # signal
            (1.1000, 1.1005, 1.0990, 1.0995),  # buy at the ask 1.1001, stop 1.0981 (bid)
            (1.0950, 1.0960, 1.0940, 1.0955),  # opens 31 pips below the stop
            (1.0955, 1.0960, 1.0950, 1.0955),
        ]
    )
    config = BacktestConfig(symbol="EURUSD", spread_pips=1.0, lots=1.0, stop_loss=Distance.pips(20))
    t = _one_trade(simulate(bars, Signals(long_entry=_at(4, 0)), config))
    assert (t.entry_bar, t.exit_bar, t.exit_reason) == (1, 2, "stop_loss")
    assert t.entry_price == pytest.approx(1.1001)
    assert t.exit_price == pytest.approx(1.0950)  # the open, not the stop 1.0981
    # (1.0950 - 1.1001) x 100,000 = -510 USD = -51 pips = -2.55 R (risk 20 pips x 10 USD)
    assert t.pnl == pytest.approx(-510.0)
    assert t.pnl_pips == pytest.approx(-51.0)
    assert t.r_multiple == pytest.approx(-2.55)


def test_short_gap_through_the_stop_fills_at_the_ask_open() -> None:
    bars = _bars(
        [
            (1.1000, 1.1010, 1.0990, 1.1000),
            (1.1000, 1.1005, 1.0990, 1.0995),  # sell at the bid 1.1000, stop 1.1020 (ask)
            (1.1050, 1.1060, 1.1040, 1.1055),  # ask opens at 1.1051
            (1.1055, 1.1060, 1.1050, 1.1055),
        ]
    )
    config = BacktestConfig(symbol="EURUSD", spread_pips=1.0, lots=1.0, stop_loss=Distance.pips(20))
    t = _one_trade(simulate(bars, Signals(short_entry=_at(4, 0)), config))
    # (1.1000 - 1.1051) x 100,000 = -510 USD
    assert (t.exit_bar, t.exit_price, t.pnl) == (2, pytest.approx(1.1051), pytest.approx(-510.0))


ENTRY_AND_BOTH = [
    (1.1000, 1.1010, 1.0990, 1.1000),  # 10:00 signal
    (1.1000, 1.1030, 1.0970, 1.1000),  # 11:00 buy at 1.1001; stop 1.0981 and target 1.1021 both
    (1.1000, 1.1005, 1.0995, 1.1000),  # 12:00
]
BOTH_CONFIG = BacktestConfig(
    symbol="EURUSD", spread_pips=1.0, lots=1.0,
    stop_loss=Distance.pips(20), take_profit=Distance.pips(20),
)  # fmt: skip


def test_stop_and_target_in_one_bar_takes_the_stop() -> None:
    t = _one_trade(simulate(_bars(ENTRY_AND_BOTH), Signals(long_entry=_at(3, 0)), BOTH_CONFIG))
    # conservative: the stop, -20 pips x 10 USD = -200
    assert (t.exit_bar, t.exit_reason, t.pnl) == (1, "stop_loss", pytest.approx(-200.0))


def _minutes(rows: list[tuple[float, float, float, float]], start: str) -> pd.DataFrame:
    index = pd.date_range(start, periods=len(rows), freq="1min", tz="UTC", name="time")
    return pd.DataFrame(rows, index=index, columns=["open", "high", "low", "close"])


@pytest.mark.parametrize(
    ("minutes", "reason", "pnl"),
    [
        # the high (target) comes in the first minute, the low (stop) later: +20 pips
        ([(1.1000, 1.1030, 1.0995, 1.1010), (1.1010, 1.1012, 1.0970, 1.1000)], "take_profit", 200),
        # the low first: -20 pips
        ([(1.1000, 1.1005, 1.0970, 1.0990), (1.0990, 1.1030, 1.0985, 1.1000)], "stop_loss", -200),
    ],
    ids=["target_first", "stop_first"],
)
def test_one_minute_bars_decide_which_was_hit_first(
    minutes: list[tuple[float, float, float, float]], reason: str, pnl: float
) -> None:
    fine = pd.concat(
        [
            _minutes([ENTRY_AND_BOTH[0]], "2024-01-08 10:00"),
            _minutes(minutes, "2024-01-08 11:00"),
            _minutes([ENTRY_AND_BOTH[2]], "2024-01-08 12:00"),
        ]
    )
    result = simulate(
        _bars(ENTRY_AND_BOTH), Signals(long_entry=_at(3, 0)), BOTH_CONFIG, fine_bars=fine
    )
    t = _one_trade(result)
    assert (t.exit_bar, t.exit_reason, t.pnl) == (1, reason, pytest.approx(pnl))


# ------------------------------------------------------------------ swaps and rollovers
def _week_of_hours(start: str = "2024-01-08 00:00", days: int = 5) -> pd.DataFrame:
    n = days * 24
    index = pd.date_range(start, periods=n, freq="1h", tz="UTC", name="time")
    price = np.full(n, 1.1000)
    return pd.DataFrame({"open": price, "high": price, "low": price, "close": price}, index=index)


def test_wednesday_rollover_is_charged_three_days() -> None:
    bars = _week_of_hours()
    days = rollover_days(bars.index)
    at = bars.index[days > 0]
    # 22:00 UTC = 17:00 New York in January, Monday to Friday
    assert [str(t) for t in at] == [f"2024-01-{d:02d} 22:00:00+00:00" for d in range(8, 13)]
    assert days[days > 0].tolist() == [1.0, 1.0, 3.0, 1.0, 1.0]
    # long 1 lot from Monday 12:00 to Friday 13:00: nights Mon, Tue, Wed x3, Thu = 6
    n = len(bars)
    config = BacktestConfig(symbol="EURUSD", spread_pips=0.0, lots=1.0, swap_long=-6.5)
    t = _one_trade(simulate(bars, Signals(long_entry=_at(n, 11), long_exit=_at(n, 108)), config))
    assert t.swap == pytest.approx(-6.5 * 6)
    assert t.pnl == pytest.approx(-39.0)
    # the same in points: 1 point = 0.00001 x 100,000 = 1 USD per lot on EURUSD; a short credit
    config = BacktestConfig(
        symbol="EURUSD", spread_pips=0.0, lots=0.5, swap_short=2.4, swap_unit="points"
    )
    t = _one_trade(simulate(bars, Signals(short_entry=_at(n, 11), short_exit=_at(n, 108)), config))
    assert t.swap == pytest.approx(2.4 * 0.5 * 6)


def test_rollover_days_follow_new_york_daylight_saving_and_weekends() -> None:
    summer = _week_of_hours("2024-07-08 00:00").index  # EDT, UTC-4: rollover at 21:00 UTC
    days = rollover_days(summer)
    assert [t.hour for t in summer[days > 0]] == [21] * 5
    # Friday's last minute (16:59 New York) to Sunday's first (17:00): Friday's rollover, once
    gap = pd.DatetimeIndex(["2024-01-12 21:59", "2024-01-14 22:00"], tz="UTC")
    assert rollover_days(gap).tolist() == [0.0, 1.0]
    # daily bars opened at 17:00 New York: one rollover per bar, Thursday's bar carries three
    daily = pd.date_range("2024-01-07 22:00", periods=5, freq="1D", tz="UTC")  # Sun..Thu
    assert rollover_days(daily).tolist() == [0.0, 1.0, 1.0, 3.0, 1.0]
    # the count agrees with trading-day changes (timeframes.trading_day) on real-like minutes
    minutes = pd.date_range("2024-03-04", "2024-03-16", freq="1min", tz="UTC")  # US DST starts
    days = rollover_days(minutes)
    changed = np.r_[False, np.diff(trading_day(minutes).asi8) > 0]
    weekday = trading_day(minutes).day_of_week  # Monday = 0 for the day that opens Sunday 17:00
    expected = np.where(changed & (weekday >= 1) & (weekday <= 5), 1.0, 0.0)
    expected[changed & (weekday == 3)] = 3.0
    np.testing.assert_array_equal(days, expected)


def test_triple_swap_weekday_can_be_friday() -> None:
    bars = _week_of_hours()
    assert rollover_days(bars.index, triple_weekday=4)[bars.index.day == 10].max() == 1.0


# ------------------------------------------------------------------ pip value and sizing
def test_jpy_pip_value_on_a_usd_account() -> None:
    bars = _bars([(150.0, 150.0, 150.0, 150.0), (150.0, 150.0, 150.0, 150.0)] + [
        (150.10, 150.10, 150.10, 150.10)
    ] * 2)  # fmt: skip
    config = BacktestConfig(symbol="USDJPY", spread_pips=0.0, lots=1.0)
    n = len(bars)
    t = _one_trade(simulate(bars, Signals(long_entry=_at(n, 0), long_exit=_at(n, 1)), config))
    # 10 pips x 1,000 JPY per pip per lot = 10,000 JPY; at 150.10 JPY per USD = 66.62 USD
    assert t.pnl_pips == pytest.approx(10.0)
    assert t.pnl == pytest.approx(10_000 / 150.10)
    assert round(t.pnl, 2) == 66.62


def test_cross_pip_value_with_conversion_series() -> None:
    bars = _bars([(0.8500,) * 4, (0.8500,) * 4, (0.8520,) * 4, (0.8520,) * 4])
    gbpusd = pd.Series(1.25, index=bars.index)
    n = len(bars)
    signals = Signals(long_entry=_at(n, 0), long_exit=_at(n, 1))
    config = BacktestConfig(symbol="EURGBP", spread_pips=0.0, lots=1.0)
    t = _one_trade(simulate(bars, signals, config, conversion=gbpusd))
    # 20 pips x 10 GBP x 1.25 USD per GBP = 250 USD
    assert t.pnl == pytest.approx(250.0)
    with pytest.raises(InvalidInput, match="GBP->USD"):
        simulate(bars, signals, config)


@pytest.mark.parametrize(
    ("symbol", "price", "stop_pips", "lots"),
    [
        # 1 % of 10,000 = 100 USD; 100 / (30 pips x 10 USD) = 0.333 -> 0.33
        ("EURUSD", 1.1, 30, 0.33),
        # USDJPY at 150: 1,000 JPY / 150 = 6.667 USD a pip; 100 / (25 x 6.667) = 0.6 exactly
        ("USDJPY", 150.0, 25, 0.60),
        # 100 / (7 x 10) = 1.4286 -> 1.42
        ("EURUSD", 1.1, 7, 1.42),
    ],
)
def test_risk_percent_sizing_rounds_down_to_the_lot_step(
    symbol: str, price: float, stop_pips: float, lots: float
) -> None:
    bars = _bars([(price,) * 4] * 3)
    config = BacktestConfig(
        symbol=symbol, spread_pips=0.0, risk_percent=1.0, stop_loss=Distance.pips(stop_pips)
    )
    t = _one_trade(simulate(bars, Signals(long_entry=_at(3, 0)), config))
    assert t.lots == pytest.approx(lots, abs=1e-12)


def test_risk_sizing_below_the_minimum_lot_skips_the_trade() -> None:
    bars = _bars([(1.1,) * 4] * 3)
    # 0.1 % of 1,000 = 1 USD over 50 pips x 10 USD = 0.002 lot < 0.01
    config = BacktestConfig(
        symbol="EURUSD", initial_balance=1_000, risk_percent=0.1, stop_loss=Distance.pips(50)
    )
    assert simulate(bars, Signals(long_entry=_at(3, 0)), config).trades.empty


# ------------------------------------------------------------------ stop management, costs
def test_trailing_stop_and_break_even() -> None:
    bars = _bars(
        [
            (1.1000, 1.1000, 1.1000, 1.1000),
            (1.1000, 1.1030, 1.0995, 1.1025),  # buy at 1.1001; best bid 1.1030
            (1.1025, 1.1026, 1.1015, 1.1020),  # trail 10 pips: stop 1.1020, hit
            (1.1020, 1.1020, 1.1020, 1.1020),
        ]
    )
    base = {"symbol": "EURUSD", "spread_pips": 1.0, "lots": 1.0}
    t = _one_trade(
        simulate(
            bars,
            Signals(long_entry=_at(4, 0)),
            BacktestConfig(**base, trailing_stop=Distance.pips(10)),
        )
    )
    # (1.1020 - 1.1001) = 19 pips
    assert (t.exit_bar, t.exit_reason, t.pnl_pips) == (2, "trailing_stop", pytest.approx(19.0))
    be = BacktestConfig(
        **base, stop_loss=Distance.pips(20), breakeven_trigger=Distance.pips(10),
        breakeven_offset_pips=1.0,
    )  # fmt: skip
    t = _one_trade(simulate(bars, Signals(long_entry=_at(4, 0)), be))
    # moved to 1.1001 + 1 pip = 1.1002 after bar 1; bar 2's low 1.1015 does not reach it
    assert t.exit_reason == "end_of_data"
    bars.iloc[2, 2] = 1.1000  # now bar 2 trades down to 1.1000
    t = _one_trade(simulate(bars, Signals(long_entry=_at(4, 0)), be))
    assert (t.exit_reason, t.exit_price) == ("break_even", pytest.approx(1.1002))


def test_partial_targets_time_exit_and_costs() -> None:
    bars = _bars(
        [
            (1.1000, 1.1000, 1.1000, 1.1000),
            (1.1000, 1.1012, 1.0995, 1.1005),  # buy 0.5 lot at 1.1001; TP1 (10 pips) 1.1011 hit
            (1.1005, 1.1008, 1.1000, 1.1006),
            (1.1006, 1.1006, 1.1006, 1.1006),  # time exit at this open (2 bars held)
        ]
    )
    config = BacktestConfig(
        symbol="EURUSD", spread_pips=1.0, lots=0.5, commission_per_lot=3.5, slippage_pips=0.5,
        stop_loss=Distance.pips(20), partial_targets=(Target(Distance.pips(10), 0.5),),
        max_bars_in_trade=2,
    )  # fmt: skip
    trades = simulate(bars, Signals(long_entry=_at(4, 0)), config).trades
    assert trades["exit_reason"].astype(str).tolist() == ["take_profit", "time_exit"]
    assert trades["lots"].tolist() == pytest.approx([0.25, 0.25])
    assert trades["partial"].tolist() == [True, False]
    # entry ask 1.1001 + 0.5 pip slippage = 1.10015; TP1 = 1.10115 (no slippage on a limit)
    first, last = trades.iloc[0], trades.iloc[1]
    assert first.exit_price == pytest.approx(1.10115)
    # 10 pips x 2.5 USD - 2 x 3.5 x 0.25 commission = 25 - 1.75
    assert first.pnl == pytest.approx(23.25)
    # time exit at the bid open 1.1006 - 0.5 pip = 1.10055: 4 pips x 2.5 - 1.75 = 8.25
    assert last.exit_price == pytest.approx(1.10055)
    assert last.pnl == pytest.approx(8.25)
    assert last.slippage_cost == pytest.approx(2.5)  # 1 pip of slippage on 0.25 lot
    assert last.spread_cost == pytest.approx(2.5)  # half + half a pip spread on 0.25 lot


def test_signals_act_on_the_next_open_and_conflicts_cancel() -> None:
    bars = _bars([(1.1,) * 4] * 4)
    both = Signals(long_entry=_at(4, 0), short_entry=_at(4, 0))
    assert simulate(bars, both, BacktestConfig(spread_pips=0)).trades.empty
    last = Signals(long_entry=_at(4, 3))  # nothing after the last bar to act on
    assert simulate(bars, last, BacktestConfig(spread_pips=0)).trades.empty
    series = pd.Series(True, index=bars.index[:1])  # a Series aligned by time
    t = _one_trade(simulate(bars, Signals(long_entry=series), BacktestConfig(spread_pips=0)))
    assert (t.entry_bar, t.exit_reason) == (1, "end_of_data")


# ------------------------------------------------------------------ input errors
def test_input_errors_are_actionable() -> None:
    from noxfx.errors import InvalidBars

    bars = _bars([(1.1,) * 4] * 3)
    ok = Signals(long_entry=_at(3, 0))
    with pytest.raises(InvalidBars, match="sorted"):
        simulate(bars.iloc[::-1], ok, BacktestConfig())
    with pytest.raises(InvalidBars, match="NaN"):
        simulate(bars.assign(close=[1.1, np.nan, 1.1]), ok, BacktestConfig())
    with pytest.raises(InvalidInput, match="one per bar"):
        simulate(bars, Signals(long_entry=[True, False]), BacktestConfig())
    with pytest.raises(InvalidInput, match="min_lot"):
        simulate(bars, ok, BacktestConfig(lots=0.001))
    with pytest.raises(InvalidInput, match="risk_percent"):
        simulate(bars, ok, BacktestConfig(risk_percent=150.0))
