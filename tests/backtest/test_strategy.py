"""Declarative strategies, templates, filters and the Python strategy API, on real EURUSD bars."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from noxfx.backtest import BacktestConfig, Distance, Signals, simulate
from noxfx.backtest.config import Target
from noxfx.backtest.sessions import fill_times, session_mask, weekday_mask
from noxfx.backtest.strategy import (
    Amount,
    Exits,
    Filters,
    Parameter,
    Strategy,
    TargetLevel,
)
from noxfx.backtest.strategy_spec import list_strategies, load_strategy, strategy_from_dict
from noxfx.errors import InvalidInput

TEMPLATES = (
    "bbands_breakout", "bbands_reversion", "donchian_breakout", "ema_cross", "ichimoku_trend",
    "london_breakout", "macd_trend", "rsi_reversion", "sma_cross", "supertrend_trend",
)  # fmt: skip


@pytest.fixture(scope="module")
def bars(h1_bars: pd.DataFrame) -> pd.DataFrame:
    """Two years of real EURUSD 1h bars (2018-2019, UTC), both DST changes included."""
    return h1_bars.loc["2018-01-01":"2019-12-31"]


def _spec(**overrides: object) -> dict[str, object]:
    spec: dict[str, object] = {
        "name": "t",
        "parameters": {"fast": {"default": 10, "min": 2, "max": 50, "step": 1},
                       "slow": {"default": 30, "min": 5, "max": 200, "step": 5}},
        "constraints": ["fast < slow"],
        "entry_long": "cross_over(sma(close, fast), sma(close, slow))",
        "entry_short": "cross_under(sma(close, fast), sma(close, slow))",
    }  # fmt: skip
    spec.update(overrides)
    return spec


def test_templates_are_shipped() -> None:
    assert tuple(list_strategies()) == TEMPLATES


@pytest.mark.parametrize("name", TEMPLATES)
def test_every_template_loads_validates_and_trades(name: str, bars: pd.DataFrame) -> None:
    strategy = load_strategy(name)
    assert strategy.name == name and strategy.description
    assert strategy.parameters, "every template is tunable"
    for p in strategy.parameters.values():
        assert p.min is not None and p.max is not None and p.step is not None
        assert p.min <= p.default <= p.max
    result = strategy.backtest(bars, None, BacktestConfig(symbol="EURUSD", risk_percent=1.0))
    assert result.metrics.trades > 20
    assert result.trades["r_multiple"].notna().all(), "every template has a stop (R defined)"


def test_sma_cross_signals_equal_a_pandas_computation(bars: pd.DataFrame) -> None:
    strategy = load_strategy("sma_cross")
    sig = strategy.trade_signals(bars, {"fast": 7, "slow": 25})
    fast = bars["close"].rolling(7).mean()
    slow = bars["close"].rolling(25).mean()
    up = (fast > slow) & (fast.shift(1) <= slow.shift(1))
    down = (fast < slow) & (fast.shift(1) >= slow.shift(1))
    np.testing.assert_array_equal(sig.long_entry, up.to_numpy())
    np.testing.assert_array_equal(sig.short_entry, down.to_numpy())
    assert not np.asarray(sig.long_exit).any() and not np.asarray(sig.short_exit).any()
    assert up.sum() > 100
    config = strategy.backtest_config({"fast": 7, "slow": 25})
    assert config.stop_loss == Distance.atr(3.0, 14)


def test_backtest_equals_simulate_with_the_same_signals(bars: pd.DataFrame) -> None:
    strategy = load_strategy("rsi_reversion")
    params = {"period": 10, "lower": 25, "upper": 75}
    base = BacktestConfig(symbol="EURUSD", risk_percent=0.5, commission_per_lot=3.5)
    ours = strategy.backtest(bars, params, base)
    config = strategy.backtest_config(params, base)
    assert config.take_profit == Distance.atr(1.5 * 1.5, 14)  # 1.5 R of a 1.5 ATR stop
    assert config.max_bars_in_trade == 48
    ref = simulate(bars, strategy.trade_signals(bars, params), config)
    pd.testing.assert_series_equal(ours.equity, ref.equity)
    assert (ours.trades["bars_held"] <= 48).all()


def test_signals_never_look_ahead(bars: pd.DataFrame) -> None:
    for name in ("ichimoku_trend", "london_breakout", "donchian_breakout"):
        strategy = load_strategy(name)
        full = strategy.trade_signals(bars, strategy.resolve_params())
        part = strategy.trade_signals(bars.iloc[:3000], strategy.resolve_params())
        for key in ("long_entry", "short_entry", "long_exit", "short_exit"):
            np.testing.assert_array_equal(np.asarray(getattr(full, key))[:3000],
                                          np.asarray(getattr(part, key)))  # fmt: skip


def test_session_mask_follows_daylight_saving() -> None:
    times = pd.DatetimeIndex(
        ["2019-01-15 07:30", "2019-01-15 08:00", "2019-01-15 16:30", "2019-01-15 17:00",
         "2019-07-15 06:30", "2019-07-15 07:00", "2019-07-15 15:30", "2019-07-15 16:00"],
        tz="UTC",
    )  # fmt: skip
    # London 08:00-17:00 local: GMT in January, BST (UTC+1) in July
    assert session_mask(times, ["london"]).tolist() == [False, True, True, False,
                                                        False, True, True, False]  # fmt: skip
    # New York 08:00-17:00 local: UTC-5 in January, UTC-4 in July
    ny = pd.DatetimeIndex(["2019-01-15 12:59", "2019-01-15 13:00", "2019-07-15 12:00",
                           "2019-07-15 21:00"], tz="UTC")  # fmt: skip
    assert session_mask(ny, ["new_york"]).tolist() == [False, True, True, False]
    # Sydney 07:00 local is 20:00 UTC the day before in January (AEDT, UTC+11)
    syd = pd.DatetimeIndex(["2019-01-14 20:00", "2019-07-14 21:00"], tz="UTC")
    assert session_mask(syd, ["sydney"]).tolist() == [True, True]
    assert weekday_mask(times[:1], [1]).tolist() == [True]  # 2019-01-15 was a Tuesday


def test_session_filter_on_real_bars_across_dst(bars: pd.DataFrame) -> None:
    spec = _spec(filters={"sessions": ["london"], "days": ["tue", "wed"]})
    strategy = strategy_from_dict(spec)
    sig = strategy.trade_signals(bars, strategy.resolve_params())
    raw = load_strategy("sma_cross").trade_signals(bars, {"fast": 10, "slow": 30})
    entries = np.asarray(sig.long_entry) | np.asarray(sig.short_entry)
    raw_entries = np.asarray(raw.long_entry) | np.asarray(raw.short_entry)
    fills = fill_times(bars.index)
    local = fills.tz_convert("Europe/London")
    allowed = (local.hour >= 8) & (local.hour < 17) & np.isin(fills.day_of_week, [1, 2])
    np.testing.assert_array_equal(entries, raw_entries & np.asarray(allowed))
    result = strategy.backtest(bars)
    entry_local = pd.DatetimeIndex(result.trades["entry_time"]).tz_convert("Europe/London")
    assert ((entry_local.hour >= 8) & (entry_local.hour < 17)).all()
    assert set(entry_local.day_of_week) == {1, 2}
    # an always-true rule: every allowed fill is an entry; London's open moves in UTC with DST
    spec = _spec(entry_long="close > 0", entry_short=None, direction="long",
                 filters={"sessions": ["london"]})  # fmt: skip
    always = strategy_from_dict(spec)
    allowed_fills = fills[
        np.asarray(always.trade_signals(bars, {"fast": 10, "slow": 30}).long_entry)
    ]
    july, january = allowed_fills[allowed_fills.month == 7], allowed_fills[allowed_fills.month == 1]
    assert set(july.hour) == set(range(7, 16))  # 08:00-17:00 BST
    assert set(january.hour) == set(range(8, 17))  # 08:00-17:00 GMT


def test_london_breakout_trades_the_asian_range(bars: pd.DataFrame) -> None:
    strategy = load_strategy("london_breakout")
    params = strategy.resolve_params({"buffer_pips": 2, "target_r": 2.0})
    sig = strategy.trade_signals(bars, params, "EURUSD")
    le, se = np.asarray(sig.long_entry), np.asarray(sig.short_entry)
    london = bars.index.tz_convert("Europe/London")
    day = london.normalize()
    # at most one long and one short per London day, all inside London hours
    assert pd.Series(le).groupby(np.asarray(day)).sum().max() == 1
    assert pd.Series(se).groupby(np.asarray(day)).sum().max() == 1
    # one day by hand: the range is the Tokyo-session bars before London's open
    i = int(np.flatnonzero(le)[10])
    today = (day == day[i]) & (london.hour < 8) & session_mask(bars.index, ["tokyo"])
    high, low = bars["high"][today].max(), bars["low"][today].min()
    close = bars["close"].iloc[i]
    assert close > high + 0.0002
    assert sig.stop_distance[i] == pytest.approx(close - (low - 0.0002))
    assert sig.target_distance[i] == pytest.approx(2.0 * sig.stop_distance[i])
    result = strategy.backtest(bars, params, BacktestConfig(symbol="EURUSD", risk_percent=1.0))
    reasons = set(result.trades["exit_reason"].astype(str))
    assert {"stop_loss", "take_profit", "exit_signal"} <= reasons  # session end = exit signal
    exit_times = pd.DatetimeIndex(result.trades["exit_time"])
    signal_exits = (result.trades["exit_reason"] == "exit_signal").to_numpy()
    # flat at the session's end: filled at the first bar outside London, normally 17:00 local
    assert not session_mask(exit_times[signal_exits], ["london"]).any()
    at_close = exit_times[signal_exits].tz_convert("Europe/London").hour == 17
    assert at_close.mean() > 0.9
    assert result.trades["r_multiple"].notna().all()


def test_exit_amounts_in_r_pips_percent_and_expressions() -> None:
    spec = _spec(
        parameters={"fast": 10, "slow": 30, "k": {"default": 1.5, "min": 1.0, "max": 3.0,
                                                  "step": 0.5}},
        exits={"stop": "20 pips", "targets": [{"r": 1, "close": 0.5}, {"r": "k * 2"}],
               "trailing_stop": {"percent": 0.3}, "break_even": {"r": 1, "offset_pips": 1},
               "time_exit": {"bars": "fast * 2"}},
    )  # fmt: skip
    strategy = strategy_from_dict(spec)
    config = strategy.backtest_config({"fast": 10, "slow": 30, "k": 2.0})
    assert config.stop_loss == Distance.pips(20)
    assert config.partial_targets == (Target(Distance.pips(20), 0.5),)
    assert config.take_profit == Distance.pips(80)
    assert config.trailing_stop == Distance.percent(0.3)
    assert config.breakeven_trigger == Distance.pips(20) and config.breakeven_offset_pips == 1
    assert config.max_bars_in_trade == 20


def test_python_strategy_subclass(bars: pd.DataFrame) -> None:
    class Momentum(Strategy):
        name = "momentum"
        parameters = {"period": Parameter("period", 20, 5, 100, 5)}  # noqa: RUF012
        exits = Exits(stop=Amount("atr", 2.0), targets=(TargetLevel(Amount("r", 2.0)),))
        filters = Filters(sessions=("london", "new_york"))

        def signals(self, bars: pd.DataFrame, params: dict[str, int | float]) -> Signals:
            change = bars["close"].pct_change(int(params["period"])).fillna(0.0)
            return Signals.from_direction(np.sign(change))

    strategy = Momentum()
    result = strategy.backtest(bars, {"period": 50})
    assert result.metrics.trades > 10
    assert strategy.backtest_config({"period": 50}).take_profit == Distance.atr(4.0)
    with pytest.raises(InvalidInput, match="below the minimum"):
        strategy.backtest(bars, {"period": 1})


def test_long_only_uses_the_opposite_entry_as_exit(bars: pd.DataFrame) -> None:
    strategy = strategy_from_dict(_spec(direction="long"))
    sig = strategy.trade_signals(bars, strategy.resolve_params())
    both = load_strategy("sma_cross").trade_signals(bars, {"fast": 10, "slow": 30})
    assert not np.asarray(sig.short_entry).any()
    np.testing.assert_array_equal(sig.long_exit, both.short_entry)
    assert (strategy.backtest(bars).trades["direction"] == "long").all()


def test_strategy_files_yaml_and_json(tmp_path: Path, bars: pd.DataFrame) -> None:
    (tmp_path / "mine.json").write_text(json.dumps(_spec(name="mine")))
    (tmp_path / "other.yaml").write_text(
        "parameters: {n: {default: 20, min: 5, max: 50, step: 5}}\n"
        "entry_long: close > highest(high, n)[1]\nentry_short: close < lowest(low, n)[1]\n"
        "exits: {stop: {atr: 2}, target: 3R}\n"
    )
    assert load_strategy(tmp_path / "mine.json").name == "mine"
    other = load_strategy(str(tmp_path / "other.yaml"))
    assert other.name == "other"
    assert other.backtest_config({"n": 20}).take_profit == Distance.atr(6.0)
    assert other.backtest(bars).metrics.trades > 10


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"entry_lng": "close > open"}, "unknown key.*entry_lng"),
        ({"entry_long": "close > sma(close, fastt)"}, "^entry_long: formula error"),
        ({"entry_long": "sma(close, fast)"}, "entry_long: .* not a condition"),
        ({"exits": {"stop": {"pip": 20}}}, "exits.stop: unknown key"),
        ({"exits": {"target": {"r": 2}}}, "exits.targets.*needs exits.stop"),
        ({"exits": {"stop": {"r": 1}}}, "exits.stop cannot be in R"),
        ({"exits": {"stop": {"pips": -5}}}, "exits.stop: the pips amount must be positive"),
        ({"exits": {"stop": {"pips": "nope"}}}, "exits.stop"),
        (
            {"parameters": {"fast": {"default": 1, "min": 2, "max": 5, "step": 1}, "slow": 30}},
            "parameters.fast.default: 1 is below the minimum 2",
        ),
        ({"parameters": {"close": 3}}, "parameters.close: a parameter name"),
        ({"constraints": ["fast > slow"]}, r"constraints\[0\]: the defaults break"),
        ({"filters": {"sessions": ["frankfurt"]}}, "filters.sessions: Unknown session"),
        ({"filters": {"days": ["funday"]}}, "filters.days: Unknown day"),
        ({"exits": {"opposite_signal": False}}, "exits.opposite_signal"),
        ({"exits": {"session_end": True}}, "exits.session_end needs filters.sessions"),
        ({"direction": "sideways"}, "direction must be"),
        ({"type": "neural"}, "type: unknown strategy type"),
        ({"define": "x = sma(close, fast"}, "^define: formula error"),
    ],
)
def test_validation_errors_name_the_field(overrides: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        strategy_from_dict(_spec(**overrides))


def test_unknown_strategy_and_parameter_errors(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="Unknown strategy 'nope'; templates: bbands"):
        load_strategy("nope")
    with pytest.raises(InvalidInput, match="not found"):
        load_strategy(tmp_path / "missing.yaml")
    (tmp_path / "bad.yaml").write_text("entry_long: [unclosed\n")
    with pytest.raises(InvalidInput, match=r"bad\.yaml: not valid YAML"):
        load_strategy(tmp_path / "bad.yaml")
    with pytest.raises(InvalidInput, match=r"Unknown parameter.*foo"):
        load_strategy("sma_cross").resolve_params({"foo": 1})
    with pytest.raises(InvalidInput, match="whole number"):
        load_strategy("sma_cross").resolve_params({"fast": 2.5})


_SPEC_KEYS = st.sampled_from(["name", "type", "parameters", "entry_long", "entry_short",
                              "exit_long", "exit_short", "exits", "filters", "direction",
                              "constraints", "define", "settings", "description", "x"])  # fmt: skip
_JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=8) | _SPEC_KEYS, inner, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(_SPEC_KEYS, _JSONISH, max_size=6))
def test_any_json_strategy_is_built_or_refused_with_a_clear_error(spec: dict[str, object]) -> None:
    """The API accepts inline strategies from users: whatever JSON comes, the answer is a
    strategy or an InvalidInput-style NOX error (a 422), never another exception (a 500)."""
    import contextlib

    from noxfx.errors import NoxError

    with contextlib.suppress(NoxError):
        strategy_from_dict(spec, source="api")


def test_a_strategy_with_a_single_rule_runs(eurusd_h1: pd.DataFrame) -> None:
    """Only ``entry_long`` (no exits, no short side): signals, not a KeyError (issue 13)."""
    from noxfx.backtest.strategy_spec import strategy_from_dict

    rule = "cross_over(sma(close, 10), sma(close, 40))"
    strategy = strategy_from_dict({"name": "one_rule", "entry_long": rule})
    bars = eurusd_h1.iloc[:3000]
    sig = strategy.signals(bars, {})
    from noxfx.analysis.formula import evaluate

    expected = np.asarray(evaluate(rule, bars), dtype=np.bool_)
    assert sig.long_entry is not None
    got = np.asarray(sig.long_entry, dtype=np.bool_)
    assert got.sum() > 10
    np.testing.assert_array_equal(got, expected)
