"""The formula language (:mod:`noxfx.analysis.formula`) on real EURUSD H1 bars.

Every formula result is checked against a direct computation (TA-Lib or plain pandas), plus the
no-lookahead property, error positions, the safety limits, and a fuzz test that nothing but
``InvalidInput`` ever escapes.
"""

from __future__ import annotations

import contextlib
import json
import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import talib
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from noxfx.analysis.formula import (
    MAX_FORMULA_CHARS,
    FormulaError,
    evaluate,
    function_names,
    parse_formula,
    validate_formula,
)
from noxfx.analysis.indicators import compute, indicator_specs
from noxfx.data.formats import read_file
from noxfx.errors import InvalidBars, InvalidInput

DATA = Path(__file__).resolve().parents[2].parent / "shared/data/generic/EURUSD_H1.csv.gz"


@pytest.fixture(scope="module")
def all_bars() -> pd.DataFrame:
    """Real EURUSD H1 bars 2012-2020 (about 50,000), zero rows at the end dropped."""
    if not DATA.exists():
        pytest.fail(f"real test data missing: {DATA} (clone the repo beside ../shared)")
    frame = read_file(DATA).frame.drop(columns="line")
    return frame[frame["close"] > 0]


@pytest.fixture(scope="module")
def bars(all_bars: pd.DataFrame) -> pd.DataFrame:
    """The last 6,000 bars: every warm-up fits, quick to compute."""
    return all_bars.iloc[-6000:]


@pytest.fixture(scope="module")
def small(all_bars: pd.DataFrame) -> pd.DataFrame:
    """1,000 bars for the property tests."""
    return all_bars.iloc[-1000:]


def col(bars: pd.DataFrame, name: str) -> np.ndarray:
    return bars[name].to_numpy(dtype=np.float64)


def assert_same(result: pd.Series | pd.DataFrame, expected: np.ndarray | pd.Series) -> None:
    """A Series of equal values (NaN where the reference has NaN)."""
    assert isinstance(result, pd.Series)
    exp = np.asarray(expected)
    got = result.to_numpy()
    if exp.dtype == bool:
        np.testing.assert_array_equal(got, exp)
    else:
        np.testing.assert_allclose(got, exp, rtol=1e-12, atol=1e-15, equal_nan=True)


# ------------------------------------------------------------------------- results vs references


def test_ema_spread_equals_talib_macd_line(bars: pd.DataFrame) -> None:
    close = col(bars, "close")
    result = evaluate("ema(close, 12) - ema(close, 26)", bars)
    assert isinstance(result, pd.Series) and result.index.equals(bars.index)
    assert result.dtype == np.float64
    assert_same(result, talib.EMA(close, 12) - talib.EMA(close, 26))
    # TA-Lib's MACD starts its fast EMA where the slow one starts, so the first values differ
    # slightly; the difference decays geometrically and is gone well within 300 bars.
    macd_line = talib.MACD(close, 12, 26, 9)[0]
    np.testing.assert_allclose(result.to_numpy()[300:], macd_line[300:], rtol=0, atol=1e-12)
    assert_same(evaluate("macd(close, 12, 26, 9) + 0", bars), macd_line)  # the primary output
    as_result = evaluate("macd(close, 12, 26, 9)", bars)  # a result: one column per output
    assert list(as_result.columns) == ["macd_12_26_9", "macd_12_26_9_signal", "macd_12_26_9_hist"]
    assert_same(as_result["macd_12_26_9"], macd_line)


def test_assignment_names_the_output(bars: pd.DataFrame) -> None:
    result = evaluate("spread = ema(close, 12) - ema(close, 26)", bars)
    assert isinstance(result, pd.Series) and result.name == "spread"
    close = col(bars, "close")
    assert_same(result, talib.EMA(close, 12) - talib.EMA(close, 26))


def test_cross_over_rsi_equals_pandas_reference(bars: pd.DataFrame) -> None:
    rsi = pd.Series(talib.RSI(col(bars, "close"), 14), index=bars.index)
    expected = (rsi > 30) & (rsi.shift(1) <= 30)
    result = evaluate("cross_over(rsi(close, 14), 30)", bars)
    assert result.dtype == bool and result.name == "result"
    assert_same(result, expected.to_numpy())
    assert 10 < result.sum() < 500  # real crossings, not an empty or full series


def test_condition_with_trend_filter(bars: pd.DataFrame) -> None:
    close = col(bars, "close")
    rsi = pd.Series(talib.RSI(close, 14))
    expected = (rsi > 30) & (rsi.shift(1) <= 30) & (close > talib.SMA(close, 200))
    result = evaluate("cross_over(rsi(close,14), 30) and close > sma(close,200)", bars)
    assert_same(result, expected.to_numpy())


def test_cross_under_equals_pandas_reference(bars: pd.DataFrame) -> None:
    close = col(bars, "close")
    fast, slow = pd.Series(talib.EMA(close, 9)), pd.Series(talib.EMA(close, 21))
    expected = (fast < slow) & (fast.shift(1) >= slow.shift(1))
    assert_same(evaluate("cross_under(ema(close, 9), ema(close, 21))", bars), expected.to_numpy())


@pytest.mark.parametrize("n", [0, 1, 5, 100])
def test_index_is_shift(bars: pd.DataFrame, n: int) -> None:
    rsi = pd.Series(talib.RSI(col(bars, "close"), 14))
    assert_same(evaluate(f"rsi(close, 14)[{n}]", bars), rsi.shift(n).to_numpy())
    assert_same(evaluate(f"shift(rsi(close, 14), {n})", bars), rsi.shift(n).to_numpy())


def test_index_chains_and_conditions(bars: pd.DataFrame) -> None:
    close = bars["close"].reset_index(drop=True)
    assert_same(evaluate("close[1][2]", bars), close.shift(3).to_numpy())
    shifted = evaluate("(close > open)[2]", bars)
    expected = (close > bars["open"].reset_index(drop=True)).shift(2, fill_value=False)
    assert shifted.dtype == bool
    assert_same(shifted, expected.to_numpy(dtype=bool))


def test_rsi_or_previous_rsi(bars: pd.DataFrame) -> None:
    rsi = pd.Series(talib.RSI(col(bars, "close"), 14))
    expected = (rsi < 30) | (rsi.shift(1) > 70)
    result = evaluate("rsi(close, 14) < 30 or rsi(close, 14)[1] > 70", bars)
    assert_same(result, expected.to_numpy())


def test_highest_lowest_equal_rolling(bars: pd.DataFrame) -> None:
    high, low = bars["high"].reset_index(drop=True), bars["low"].reset_index(drop=True)
    assert_same(evaluate("highest(high, 20)", bars), high.rolling(20).max().to_numpy())
    assert_same(evaluate("lowest(low, 20)", bars), low.rolling(20).min().to_numpy())
    assert_same(evaluate("highest(20)", bars), high.rolling(20).max().to_numpy())
    assert_same(evaluate("lowest(n=20)", bars), low.rolling(20).min().to_numpy())
    # a NaN inside the window gives NaN, like the rolling reference on the shifted series
    shifted = high.shift(3)
    assert_same(evaluate("highest(high[3], 5)", bars), shifted.rolling(5).max().to_numpy())


@pytest.mark.parametrize("n", [1, 3])
def test_rising_falling(bars: pd.DataFrame, n: int) -> None:
    close = bars["close"].reset_index(drop=True)
    rising = np.logical_and.reduce([close > close.shift(i) for i in range(1, n + 1)])
    falling = np.logical_and.reduce([close < close.shift(i) for i in range(1, n + 1)])
    assert_same(evaluate(f"rising(close, {n})", bars), np.asarray(rising))
    assert_same(evaluate(f"falling(close, {n})", bars), np.asarray(falling))


def test_bar_indicators_take_parameters_only(bars: pd.DataFrame) -> None:
    high, low, close = col(bars, "high"), col(bars, "low"), col(bars, "close")
    assert_same(evaluate("atr(14) * 2", bars), talib.ATR(high, low, close, 14) * 2)
    assert_same(evaluate("adx(period=14)", bars), talib.ADX(high, low, close, 14))
    stoch_k, stoch_d = talib.STOCH(high, low, close, 14, 3, talib.MA_Type.SMA, 3, talib.MA_Type.SMA)
    assert_same(evaluate("stoch(14, 3, 3).k", bars), stoch_k)
    assert_same(evaluate("stoch_d()", bars), stoch_d)


def test_price_arithmetic(bars: pd.DataFrame) -> None:
    o, h, lo, c = (col(bars, n) for n in ("open", "high", "low", "close"))
    assert_same(evaluate("(high + low) / 2", bars), (h + lo) / 2)
    assert_same(evaluate("hl2", bars), (h + lo) / 2)
    assert_same(evaluate("hlc3", bars), (h + lo + c) / 3)
    assert_same(evaluate("ohlc4", bars), (o + h + lo + c) / 4)
    assert_same(evaluate("abs(close - open) / (high - low) * 100", bars), _ratio(c, o, h, lo))
    assert_same(evaluate("-close ** 2", bars), -(c**2))
    assert_same(evaluate("max(open, close) - min(open, close, 5)", bars), np.abs(c - o))
    assert_same(evaluate("change(close, 3)", bars), c - pd.Series(c).shift(3).to_numpy())
    assert_same(evaluate("where(close > open, high, low)", bars), np.where(c > o, h, lo))
    assert_same(evaluate("log(close) + sqrt(close) - exp(0)", bars), np.log(c) + np.sqrt(c) - 1)
    assert_same(evaluate("close % 0.01", bars), np.mod(c, 0.01))


def _ratio(c: np.ndarray, o: np.ndarray, h: np.ndarray, lo: np.ndarray) -> np.ndarray:
    rng = h - lo
    with np.errstate(all="ignore"):
        return np.where(rng == 0, np.nan, np.abs(c - o) / rng * 100)


def test_multi_output_selection(bars: pd.DataFrame) -> None:
    close = col(bars, "close")
    upper, middle, lower = talib.BBANDS(close, 20, 2, 2, talib.MA_Type.SMA)
    assert_same(evaluate("bbands(close, 20, 2).upper", bars), upper)
    assert_same(evaluate("bbands(close, period=20, nbdev=2).lower", bars), lower)
    assert_same(evaluate("bbands_middle(close, 20)", bars), middle)
    assert_same(evaluate("bb = bbands(close, 20, 2)\nclose > bb.upper", bars), close > upper)
    _, signal, hist = talib.MACD(close, 12, 26, 9)
    assert_same(evaluate("macd(close, 12, 26, 9).signal", bars), signal)
    assert_same(evaluate("macd_signal(close, 12, 26, 9)", bars), signal)
    assert_same(evaluate("macd(close).hist", bars), hist)
    assert_same(evaluate("macd(close).macd", bars), evaluate("macd(close) * 1", bars).to_numpy())


def test_bare_multi_output_gives_registry_columns(bars: pd.DataFrame) -> None:
    result = evaluate("bbands(close, 20, 2)", bars)
    expected = compute(bars, "bbands:20,2")
    assert isinstance(result, pd.DataFrame)
    pd.testing.assert_frame_equal(result, expected)
    named = evaluate("bb = bbands(close, 20, 2)", bars)
    assert list(named.columns) == ["bb_upper", "bb_middle", "bb_lower"]


def test_indicator_on_a_series(bars: pd.DataFrame) -> None:
    close = col(bars, "close")
    assert_same(evaluate("rsi(ema(close, 5), 14)", bars), talib.RSI(talib.EMA(close, 5), 14))
    assert_same(
        evaluate("sma(hl2, 10)", bars), talib.SMA((col(bars, "high") + col(bars, "low")) / 2, 10)
    )
    assert_same(evaluate("rsi(14)", bars), talib.RSI(close, 14))  # the source defaults to close
    assert_same(evaluate("n = 14; rsi(close, n)", bars), talib.RSI(close, 14))


def test_several_outputs_give_a_dataframe(bars: pd.DataFrame) -> None:
    text = "fast = ema(close, 12)\nslow = ema(close, 26); _gap = fast - slow\ntrend = _gap > 0"
    result = evaluate(text, bars)
    assert isinstance(result, pd.DataFrame) and result.index.equals(bars.index)
    assert list(result.columns) == ["fast", "slow", "trend"]
    assert result["trend"].dtype == bool
    close = col(bars, "close")
    assert_same(result["trend"], talib.EMA(close, 12) - talib.EMA(close, 26) > 0)
    # reassignment: later statements see the new value; the output is the last one
    again = evaluate("x = close; y = x[1]; x = x * 2", bars)
    assert_same(again["x"], close * 2)
    assert_same(again["y"], pd.Series(close).shift(1).to_numpy())


def test_trailing_expression_is_the_result(bars: pd.DataFrame) -> None:
    result = evaluate("fast = ema(close, 12); slow = ema(close, 26); fast > slow", bars)
    assert isinstance(result, pd.Series) and result.dtype == bool
    close = col(bars, "close")
    assert_same(result, talib.EMA(close, 12) > talib.EMA(close, 26))


def test_nan_semantics(bars: pd.DataFrame) -> None:
    warm = evaluate("rsi(close, 14) != 50 or rsi(close, 14) == rsi(close, 14)", bars)
    assert not warm.iloc[:14].any() and warm.iloc[14:].all()
    ratio = evaluate("close / (close - close)", bars)
    assert ratio.isna().all()  # x / 0 is NaN, never inf
    assert evaluate("0 ** -1 + close", bars).isna().all()
    negated = evaluate("not (rsi(close, 14) < 30)", bars)
    assert negated.iloc[:14].all()  # documented: not of a warm-up comparison is true


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1 + 2 * 3", 7.0),
        ("(1 + 2) * 3", 9.0),
        ("-2 ** 2", -4.0),
        ("2 ** 3 ** 2", 512.0),
        ("2 ** -1", 0.5),
        ("7 % 3 - 10 / 4", -1.5),
        ("1 / 0", np.nan),
        ("min(3, 1, 2) + max(1, 2) + abs(-4)", 7.0),
        ("not true or true", True),
        ("not (true or true)", False),
        ("1 < 2 and 2 <= 2 and 3 > 2 and 3 >= 3 and 1 == 1 and 1 != 2", True),
        ("true == false", False),
        ("TRUE And Not FALSE", True),
        ("1e3 + .5", 1000.5),
        ("x = 2; y = x * x; y + 1 # a comment", 5.0),
        ("where(1 > 2, 1, 2)", 2.0),
    ],
)
def test_constants(small: pd.DataFrame, text: str, value: float | bool) -> None:
    result = evaluate(text, small)
    assert isinstance(result, pd.Series) and len(result) == len(small)
    if isinstance(value, bool):
        assert result.dtype == bool and (result == value).all()
    elif np.isnan(value):
        assert result.isna().all()
    else:
        assert (result == value).all()


def test_layout_is_free(small: pd.DataFrame) -> None:
    text = "(RSI(Close,\n    14)   # comment inside\n  < 30)\n\n;;"
    assert_same(evaluate(text, small), evaluate("rsi(close, 14) < 30", small).to_numpy())


def test_candle_patterns_and_levels_are_callable(bars: pd.DataFrame) -> None:
    engulfing = evaluate("cdl_engulfing() > 0", bars)
    expected = compute(bars, "cdl_engulfing")["cdl_engulfing"] > 0
    assert_same(engulfing, expected.to_numpy())
    pivot = evaluate("pivot_classic().pp", bars)
    assert_same(pivot, compute(bars, "pivot_classic")["pivot_classic_pp"].to_numpy())


def test_every_indicator_is_callable_by_name(small: pd.DataFrame) -> None:
    for ind in indicator_specs():
        result = evaluate(f"{ind.name}()", small)
        expected = compute(small, ind.name)
        if isinstance(result, pd.Series):
            assert_same(result, expected.iloc[:, 0].to_numpy(dtype=np.float64))
        else:
            assert list(result.columns) == list(expected.columns), ind.name


# --------------------------------------------------------------------------------- parse results


def test_parse_formula_reports_references_and_lookback() -> None:
    formula = parse_formula(
        "x = rsi(ema(close, 5), 14)\ncross_over(x, 30) and high > highest(20)[1]"
    )
    assert formula.columns == ("close", "high")
    assert formula.indicators == ("ema_5", "rsi_14")
    assert formula.functions == ("cross_over", "highest")
    assert formula.variables == ("x",)
    assert formula.output_names == ("result",)
    assert formula.is_condition
    assert formula.lookback == 20  # highest(20)[1]: 19 + 1; the cross needs 4 + 14 + 1
    assert parse_formula("cross_over(rsi(ema(close, 5), 14), 30)").lookback == 4 + 14 + 1
    assert parse_formula("sma(close, 200)").lookback == 199
    assert parse_formula("rsi(close, 14)[3]").lookback == 17
    assert parse_formula("highest(high, 20) - lowest(10)").lookback == 19
    assert parse_formula("1 + 2").lookback == 0
    assert not parse_formula("close - open").is_condition


@pytest.mark.parametrize(
    "text",
    [
        "rsi(close, 14)",
        "sma(close, 200)",
        "atr(14)[2] * 2",
        "highest(high, 20)",
        "change(close, 5)",
    ],
)
def test_lookback_is_the_first_defined_bar(bars: pd.DataFrame, text: str) -> None:
    result = evaluate(text, bars)
    assert result.first_valid_index() == bars.index[parse_formula(text).lookback]


def test_parsed_formula_pickles(small: pd.DataFrame) -> None:
    """A parsed formula can go to a worker process (optimisation, jobs) and evaluate there."""
    formula = parse_formula("bb = bbands(close, 20, 2); cross_over(close, bb.upper)")
    copy = pickle.loads(pickle.dumps(formula))
    assert copy == formula
    again, original = evaluate(copy, small), evaluate(formula, small)
    assert isinstance(again, pd.Series) and isinstance(original, pd.Series)
    pd.testing.assert_series_equal(again, original)


def test_validate_formula_lists_indicators() -> None:
    assert validate_formula("ema(close, 12) - ema(close, 26)") == ["ema_12", "ema_26"]
    assert validate_formula("bbands(close, 20, 2).upper > macd_signal(close)") == [
        "bbands_20_2",
        "macd_12_26_9",
    ]
    assert validate_formula("close > open") == []
    with pytest.raises(InvalidInput):
        validate_formula("rsj(close)")


def test_function_names_do_not_shadow_indicators() -> None:
    indicators = {ind.name for ind in indicator_specs()}
    assert set(function_names()).isdisjoint(indicators)


# -------------------------------------------------------------------------------- no lookahead

LOOKAHEAD_FORMULAS = [
    "cross_over(rsi(close, 14), 30) and close > sma(close, 50)",
    "bbands(close, 20, 2).upper - close[3]",
    "rsi(ema(close, 5), 14)",
    "highest(high, 20) - lowest(low, 20) + atr(14) * 2",
    "rising(close, 3) or falling(hl2, 2)",
    "m = macd(close); s = supertrend(10, 3).direction",
    "stoch().k > stoch().d and adx(14) > 20",
]


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    n=st.integers(min_value=0, max_value=1000), which=st.integers(0, len(LOOKAHEAD_FORMULAS) - 1)
)
def test_no_lookahead(small: pd.DataFrame, n: int, which: int) -> None:
    formula = parse_formula(LOOKAHEAD_FORMULAS[which])
    full = evaluate(formula, small)
    prefix = evaluate(formula, small.iloc[:n])
    if isinstance(full, pd.Series):
        assert isinstance(prefix, pd.Series)
        pd.testing.assert_series_equal(prefix, full.iloc[:n])
    else:
        assert isinstance(prefix, pd.DataFrame)
        pd.testing.assert_frame_equal(prefix, full.iloc[:n])


def test_empty_bars(small: pd.DataFrame) -> None:
    result = evaluate("cross_over(rsi(close, 14), 30)", small.iloc[:0])
    assert isinstance(result, pd.Series) and len(result) == 0 and result.dtype == bool


# ------------------------------------------------------------------------------------- errors

ERRORS = [
    ("cross_over(rsj(close,14), 30)", 12, "unknown function 'rsj' (did you mean rsi?)"),
    ("rsi(close, 14) > 30 annd true", 21, "unexpected 'annd' after a complete expression"),
    ("close > smaa", 9, "unknown name 'smaa'"),
    ("rsi(close, 1)", 12, "rsi: period=1 is out of range 2..100000"),
    ("close[-1]", 7, "would look into the future"),
    ("close[1.5]", 7, "must be a whole number"),
    ("close[open]", 7, "must be a constant whole number"),
    ("(close > open) / 2", 2, "cannot apply '/' to a condition"),
    ("true / false", 1, "cannot apply '/' to true/false"),
    ("rsi(close, 14", 14, "expected ')' to close the argument list of rsi"),
    ("(close + 1", 11, "expected ')' to close the '(' at column 1"),
    ("close + ", 9, "expected a value, found the end of the formula"),
    ("close > 1 < 2", 11, "chained comparison"),
    ("close and open", 1, "'and' needs conditions on both sides"),
    ("bbands(close) > 1", 1, "bbands has several outputs (upper, middle, lower)"),
    ("bbands(close).uper", 15, "bbands has no output 'uper' (did you mean upper?)"),
    ("close.upper", 7, "picks an output of a multi-output indicator"),
    ("atr(close, 14)", 5, "atr is computed from the bar columns high, low, close"),
    ("rsi(close, periodd=3)", 12, "rsi has no argument 'periodd' (did you mean period?)"),
    ("rsi(close, rsi(close))", 12, "parameter 'period' must be a constant number"),
    ("shift(close)", 1, "shift is missing argument 'n'"),
    ("min(close)", 1, "min needs at least 2 arguments"),
    ("rsi > 30", 1, "'rsi' is a function; call it, e.g. rsi(close, 14)"),
    ("close(1)", 1, "'close' is a bar series, not a function"),
    ("close = 1", 1, "cannot assign to 'close'"),
    ("close == 1 = 2", 12, "unexpected '='; use '=='"),
    ("close & open", 7, "write 'and'"),
    ("close > 1.2.3", 9, "malformed number"),
    ("close $ 2", 7, "unexpected character '$'"),
    ("", 1, "empty formula"),
    ("_x = close", 1, "the formula has no result"),
    ("not close", 1, "'not' needs a condition"),
    ("where(close, 1, 2)", 7, "'condition' of where must be a condition"),
    ("x = 1; x(2)", 8, "'x' is a variable, not a function"),
    ("macd(close, 12, 26, 9, 4)", 24, "macd takes at most 3 argument(s), got 4"),
    ("bb = bbands(close); bb_upper = close", 21, "two outputs are named 'bb_upper'"),
]


@pytest.mark.parametrize(("text", "column", "reason"), ERRORS)
def test_error_points_at_the_column(text: str, column: int, reason: str) -> None:
    with pytest.raises(InvalidInput) as info:
        parse_formula(text)
    error = info.value
    assert isinstance(error, FormulaError)
    message = str(error)
    first, source, caret = message.split("\n")
    assert first.startswith(f"formula error at column {column}: "), message
    assert reason in first, message
    assert source == "  " + text
    assert caret == "  " + " " * (column - 1) + "^"
    assert (error.line, error.column) == (1, column)


def test_formula_error_pickles() -> None:
    with pytest.raises(FormulaError) as info:
        parse_formula("close > rsj(14)")
    copy = pickle.loads(pickle.dumps(info.value))
    assert isinstance(copy, FormulaError) and str(copy) == str(info.value)
    assert (copy.line, copy.column, copy.reason) == (1, 9, info.value.reason)


def test_error_on_a_later_line() -> None:
    with pytest.raises(FormulaError) as info:
        parse_formula("fast = ema(close, 12)\nslow = ema(close, 26)\nfast > slwo")
    message = str(info.value)
    assert message.startswith("formula error at line 3, column 8: unknown name 'slwo'")
    assert "did you mean slow?" in message
    assert message.endswith("\n  fast > slwo\n         ^")


def test_missing_bar_column_is_invalid_bars(bars: pd.DataFrame) -> None:
    with pytest.raises(InvalidBars, match=r"column 9.*volume"):
        evaluate("close > volume", bars.drop(columns="volume"))
    with pytest.raises(InvalidBars, match="obv needs column"):
        evaluate("obv() > 0", bars.drop(columns="volume"))


def test_bars_must_be_a_frame() -> None:
    with pytest.raises(InvalidInput):
        evaluate("close", [1.0, 2.0])  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        parse_formula(42)  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------- safety


@pytest.mark.parametrize(
    "text",
    [
        "__import__('os')",
        "__import__",
        "close.__class__",
        "close.__class__.__bases__",
        "bbands(close).__dict__",
        "().__class__",
        "eval(1)",
        "exec(1)",
        "open('x')",
        "lambda: 1",
        "close if true else open",
        "[c for c in close]",
        "{}",
        "close; import os",
        "getattr(close, 'x')",
        "\x00",
        "rsi(close, 14) → 30",
    ],
)
def test_python_is_not_reachable(text: str) -> None:
    with pytest.raises(InvalidInput):
        parse_formula(text)


def test_limits() -> None:
    too_long = "close + " * (MAX_FORMULA_CHARS // 8) + "close"
    with pytest.raises(FormulaError, match="too long"):
        parse_formula(too_long)
    with pytest.raises(FormulaError, match="nested too deeply"):
        parse_formula("(" * 60 + "close" + ")" * 60)
    with pytest.raises(FormulaError, match="nested too deeply"):
        parse_formula("-" * 60 + "close")
    with pytest.raises(FormulaError, match="nested too deeply"):
        parse_formula("not " * 60 + "true")
    with pytest.raises(FormulaError, match="nested too deeply"):
        parse_formula("close ** " * 60 + "2")
    with pytest.raises(FormulaError, match="nested too deeply"):
        parse_formula("abs(" * 60 + "close" + ")" * 60)
    with pytest.raises(FormulaError, match="too deeply nested"):
        parse_formula(" + ".join(["close"] * 150))
    with pytest.raises(FormulaError, match="at most 100000"):
        parse_formula("close[1000000]")
    # within the limits everything works, however it is written
    assert parse_formula("(" * 45 + "close" + ")" * 45).lookback == 0
    assert parse_formula(" + ".join(["close"] * 90)).columns == ("close",)
    assert parse_formula(" + ".join(["1"] * 450)).outputs[0].type == "number"  # folded


def test_long_variable_chains_stay_flat(small: pd.DataFrame) -> None:
    text = "x = close\n" + "x = x + 1\n" * 150 + "x"
    assert len(text) < MAX_FORMULA_CHARS
    assert_same(evaluate(text, small), col(small, "close") + 150)


SOUP = [
    *["close", "open", "high", "low", "volume", "hl2", "x", "y", "true", "false"],
    *["rsi", "ema", "sma", "bbands", "macd", "atr", "stoch", "supertrend", "ichimoku"],
    *["shift", "highest", "lowest", "cross_over", "rising", "min", "abs", "where", "change"],
    *["upper", "signal", "k", "direction", "__class__", "__import__", "and", "or", "not"],
    *["0", "1", "2", "14", "-1", "0.5", "1e3", "99999", "(", ")", "(", ")", "[", "]", ","],
    *[".", "=", "==", "!=", "<", ">", "<=", ">=", "+", "-", "*", "/", "%", "**", ";", "\n"],
    *["#", "'os'", "x =", "y =", "period=", "@", "{", "\\", "\t"],
]


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    tokens=st.lists(st.sampled_from(SOUP), min_size=0, max_size=16), glue=st.sampled_from(["", " "])
)
def test_token_soup_raises_only_invalid_input(
    small: pd.DataFrame, tokens: list[str], glue: str
) -> None:
    text = glue.join(tokens)
    try:
        result = evaluate(text, small.iloc[-300:])
    except InvalidInput:
        return
    assert isinstance(result, pd.Series | pd.DataFrame)
    assert len(result) == 300


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=60))
def test_arbitrary_text_raises_only_invalid_input(text: str) -> None:
    with contextlib.suppress(InvalidInput):
        parse_formula(text)


# ---------------------------------------------------------------------------------------- CLI


def test_cli_eval(nox_home: Path, bars: pd.DataFrame) -> None:
    import typer
    from typer.testing import CliRunner

    from noxfx.cli.formula import app
    from noxfx.data.store import BarStore

    BarStore.default().write("EURUSD", "1h", bars.iloc[-2000:], source="test")
    stored = BarStore.default().read("EURUSD", "1h")
    group = typer.Typer()  # as `noxfx` registers it: a sub-command group
    group.add_typer(app, name="formula")
    runner = CliRunner()
    args = [
        "formula",
        "eval",
        "EURUSD",
        "--timeframe",
        "1h",
        "--formula",
        "rsi(close, 14) < 30",
        "--last",
    ]
    result = runner.invoke(group, [*args, "5", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [set(r) for r in rows] == [{"time", "close", "result"}] * 5
    expected = talib.RSI(col(stored, "close"), 14)[-5:] < 30
    assert [r["result"] for r in rows] == expected.tolist()

    result = runner.invoke(group, [*args, "3", "--csv"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == "time,close,result"
    assert len(result.stdout.splitlines()) == 4

    formula = "fast = ema(close, 12); slow = sma(20)"
    table = runner.invoke(group, ["formula", "eval", "EURUSD", "-f", formula])
    assert table.exit_code == 0, table.output
    assert "fast" in table.stdout and "slow" in table.stdout

    bad = runner.invoke(group, ["formula", "eval", "EURUSD", "--formula", "rsj(close)"])
    assert bad.exit_code != 0
    assert isinstance(bad.exception, FormulaError)
    assert "did you mean rsi?" in str(bad.exception)
