"""noxfx.analysis.native: every NOX-computed indicator against a slow, obvious reference.

References are written bar by bar in Python or with plain pandas rolling windows, directly from
the textbook definitions, and compared on real EURUSD H1 bars.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import talib

from noxfx.analysis import indicators as ind
from noxfx.analysis import native

NAN = float("nan")


# ---------------------------------------------------------------------------------------------
# slow references


def ref_true_range(h: np.ndarray, lo: np.ndarray, c: np.ndarray) -> np.ndarray:
    out = np.full(len(c), NAN)
    for i in range(1, len(c)):
        out[i] = max(h[i] - lo[i], abs(h[i] - c[i - 1]), abs(lo[i] - c[i - 1]))
    return out


def ref_wilder_atr(h: np.ndarray, lo: np.ndarray, c: np.ndarray, n: int) -> np.ndarray:
    """Wilder ATR: mean of the first n true ranges, then (prev * (n-1) + tr) / n."""
    tr = ref_true_range(h, lo, c)
    out = np.full(len(c), NAN)
    out[n] = float(np.mean(tr[1 : n + 1]))
    for i in range(n + 1, len(c)):
        out[i] = (out[i - 1] * (n - 1) + tr[i]) / n
    return out


def ref_ema(x: np.ndarray, n: int) -> np.ndarray:
    """EMA with alpha 2/(n+1), seeded with the SMA of the first n values after leading NaNs."""
    out = np.full(len(x), NAN)
    start = int(np.argmax(~np.isnan(x)))
    seed = start + n - 1
    out[seed] = float(np.mean(x[start : seed + 1]))
    alpha = 2.0 / (n + 1)
    for i in range(seed + 1, len(x)):
        out[i] = alpha * x[i] + (1 - alpha) * out[i - 1]
    return out


def ref_wma(x: pd.Series, n: int) -> pd.Series:
    weights = np.arange(1, n + 1, dtype=float)
    return x.rolling(n).apply(lambda w: float(np.dot(w, weights) / weights.sum()), raw=True)


def ref_supertrend(
    h: np.ndarray, lo: np.ndarray, c: np.ndarray, n: int, mult: float
) -> tuple[np.ndarray, np.ndarray]:
    """The Pine v4 script, line by line (``nz(x[1], x)`` = previous value, or x on the first)."""
    atr = ref_wilder_atr(h, lo, c, n)
    line, direction = np.full(len(c), NAN), np.full(len(c), NAN)
    up_prev = dn_prev = None
    trend = 1
    for i in range(len(c)):
        if math.isnan(atr[i]):
            continue
        src = (h[i] + lo[i]) / 2
        up = src - mult * atr[i]
        up1 = up if up_prev is None else up_prev
        up = max(up, up1) if c[i - 1] > up1 else up
        dn = src + mult * atr[i]
        dn1 = dn if dn_prev is None else dn_prev
        dn = min(dn, dn1) if c[i - 1] < dn1 else dn
        if trend == -1 and c[i] > dn1:
            trend = 1
        elif trend == 1 and c[i] < up1:
            trend = -1
        line[i] = up if trend == 1 else dn
        direction[i] = trend
        up_prev, dn_prev = up, dn
    return line, direction


@pytest.fixture(scope="module")
def bars(h1_recent: pd.DataFrame) -> pd.DataFrame:
    return h1_recent


@pytest.fixture(scope="module")
def hlc(bars: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return bars["high"].to_numpy(), bars["low"].to_numpy(), bars["close"].to_numpy()


def _close(actual: object, expected: object, rtol: float = 1e-9, atol: float = 1e-11) -> None:
    np.testing.assert_allclose(
        np.asarray(actual, dtype=float),
        np.asarray(expected, dtype=float),
        rtol=rtol,
        atol=atol,
        equal_nan=True,
    )


# ---------------------------------------------------------------------------------------------
# the references themselves agree with TA-Lib where TA-Lib has the same thing


def test_references_match_talib(hlc: tuple[np.ndarray, ...]) -> None:
    h, lo, c = hlc
    _close(ref_wilder_atr(h, lo, c, 14), talib.ATR(h, lo, c, 14))
    _close(ref_ema(c, 20), talib.EMA(c, 20))


# ---------------------------------------------------------------------------------------------
# indicators


@pytest.mark.parametrize(("n", "mult"), [(10, 3.0), (7, 1.5)])
def test_supertrend(bars: pd.DataFrame, hlc: tuple[np.ndarray, ...], n: int, mult: float) -> None:
    label = ind.parse_spec(f"supertrend:{n},{mult}").label
    frame = ind.compute(bars, [f"supertrend:{n},{mult}"])
    line, direction = ref_supertrend(*hlc, n, mult)
    _close(frame[label], line)
    _close(frame[f"{label}_direction"], direction, rtol=0, atol=0)
    assert set(np.unique(direction[n:])) == {-1.0, 1.0}
    # the line is support below the close in an uptrend, resistance above it in a downtrend
    close = hlc[2]
    up = direction == 1
    assert (frame[label].to_numpy()[up] <= close[up]).all()
    assert (frame[label].to_numpy()[direction == -1] >= close[direction == -1]).all()


def test_supertrend_matches_talib_supertrend(hlc: tuple[np.ndarray, ...]) -> None:
    line, direction = native.supertrend(*hlc, 10, 3.0)
    talib_line, talib_trend = talib.SUPERTREND(*hlc, 10, 3.0)
    _close(line, talib_line)
    np.testing.assert_array_equal(direction[10:], talib_trend[10:])


def test_ichimoku_plotted_values_without_lookahead(bars: pd.DataFrame) -> None:
    frame = ind.compute(bars, ["ichimoku"])
    h, lo, c = bars["high"], bars["low"], bars["close"]

    def mid(n: int) -> pd.Series:
        return (h.rolling(n).max() + lo.rolling(n).min()) / 2

    tenkan, kijun = mid(9), mid(26)
    prefix = "ichimoku_9_26_52_"
    _close(frame[prefix + "tenkan"], tenkan)
    _close(frame[prefix + "kijun"], kijun)
    _close(frame[prefix + "span_a"], ((tenkan + kijun) / 2).shift(26))
    _close(frame[prefix + "span_b"], mid(52).shift(26))
    _close(frame[prefix + "chikou"], c)
    # span values at t are made of bars t-26-51 .. t-26: changing later bars changes nothing
    t = 4000
    altered = bars.copy()
    altered.iloc[t - 25 :, :4] *= 1.5
    again = ind.compute(altered, ["ichimoku"])
    for col in ("span_a", "span_b"):
        np.testing.assert_array_equal(
            again[prefix + col].iloc[: t + 1], frame[prefix + col].iloc[: t + 1]
        )


def test_hma(bars: pd.DataFrame) -> None:
    c = bars["close"]
    expected = ref_wma(2 * ref_wma(c, 10) - ref_wma(c, 20), 4)
    _close(ind.compute(bars, ["hma:20"])["hma_20"], expected)
    c9 = ref_wma(2 * ref_wma(c, 4) - ref_wma(c, 9), 3)
    _close(ind.compute(bars, ["hma:9"])["hma_9"], c9)


def test_vwma(bars: pd.DataFrame) -> None:
    pv = (bars["close"] * bars["volume"]).rolling(20).sum()
    _close(ind.compute(bars, ["vwma"])["vwma_20"], pv / bars["volume"].rolling(20).sum())


def test_vwma_without_volume_is_nan_not_inf(bars: pd.DataFrame) -> None:
    column = ind.compute(bars.assign(volume=0.0), ["vwma", "cmf"])
    assert column.isna().all().all()


def test_keltner(bars: pd.DataFrame, hlc: tuple[np.ndarray, ...]) -> None:
    frame = ind.compute(bars, ["keltner:20,2,10"])
    middle = ref_ema(hlc[2], 20)
    atr = ref_wilder_atr(*hlc, 10)
    _close(frame["keltner_20_2_10_middle"], middle)
    _close(frame["keltner_20_2_10_upper"], middle + 2 * atr)
    _close(frame["keltner_20_2_10_lower"], middle - 2 * atr)


def test_donchian(bars: pd.DataFrame) -> None:
    frame = ind.compute(bars, ["donchian:20"])
    upper, lower = bars["high"].rolling(20).max(), bars["low"].rolling(20).min()
    _close(frame["donchian_20_upper"], upper)
    _close(frame["donchian_20_lower"], lower)
    _close(frame["donchian_20_middle"], (upper + lower) / 2)


def test_heikin_ashi(bars: pd.DataFrame) -> None:
    o, h, lo, c = (bars[k].to_numpy() for k in ("open", "high", "low", "close"))
    ha_o, ha_h, ha_l, ha_c = (np.zeros(len(c)) for _ in range(4))
    for i in range(len(c)):
        ha_c[i] = (o[i] + h[i] + lo[i] + c[i]) / 4
        ha_o[i] = (o[0] + c[0]) / 2 if i == 0 else (ha_o[i - 1] + ha_c[i - 1]) / 2
        ha_h[i] = max(h[i], ha_o[i], ha_c[i])
        ha_l[i] = min(lo[i], ha_o[i], ha_c[i])
    frame = ind.compute(bars, ["ha"])
    for name, expected in zip(
        ("open", "high", "low", "close"), (ha_o, ha_h, ha_l, ha_c), strict=True
    ):
        _close(frame[f"ha_{name}"], expected)


def test_awesome_oscillator(bars: pd.DataFrame) -> None:
    median = (bars["high"] + bars["low"]) / 2
    expected = median.rolling(5).mean() - median.rolling(34).mean()
    _close(ind.compute(bars, ["ao"])["ao_5_34"], expected)


def test_elder_ray(bars: pd.DataFrame, hlc: tuple[np.ndarray, ...]) -> None:
    ema = ref_ema(hlc[2], 13)
    frame = ind.compute(bars, ["elder"])
    _close(frame["elder_13_bull"], hlc[0] - ema)
    _close(frame["elder_13_bear"], hlc[1] - ema)


def test_vortex(bars: pd.DataFrame, hlc: tuple[np.ndarray, ...]) -> None:
    h, lo = bars["high"], bars["low"]
    tr = pd.Series(ref_true_range(*hlc), index=bars.index).rolling(14).sum()
    plus = (h - lo.shift()).abs().rolling(14).sum() / tr
    minus = (lo - h.shift()).abs().rolling(14).sum() / tr
    frame = ind.compute(bars, ["vortex"])
    _close(frame["vortex_14_plus"], plus)
    _close(frame["vortex_14_minus"], minus)


def test_choppiness(bars: pd.DataFrame, hlc: tuple[np.ndarray, ...]) -> None:
    tr = pd.Series(ref_true_range(*hlc), index=bars.index).rolling(14).sum()
    span = bars["high"].rolling(14).max() - bars["low"].rolling(14).min()
    expected = 100 * np.log10(tr / span) / math.log10(14)
    result = ind.compute(bars, ["chop"])["chop_14"]
    _close(result, expected)
    assert result.dropna().between(0, 100).all()


def test_zscore(bars: pd.DataFrame) -> None:
    c = bars["close"]
    expected = (c - c.rolling(20).mean()) / c.rolling(20).std(ddof=0)
    _close(ind.compute(bars, ["zscore"])["zscore_20"], expected, rtol=1e-6, atol=1e-7)


def test_chaikin_money_flow(bars: pd.DataFrame) -> None:
    h, lo, c, v = bars["high"], bars["low"], bars["close"], bars["volume"]
    mfm = (((c - lo) - (h - c)) / (h - lo)).where(h != lo, 0.0)
    expected = (mfm * v).rolling(20).sum() / v.rolling(20).sum()
    result = ind.compute(bars, ["cmf"])["cmf_20"]
    _close(result, expected)
    assert result.dropna().between(-1, 1).all()


def test_force_index(bars: pd.DataFrame) -> None:
    raw = (bars["close"].diff() * bars["volume"]).to_numpy()
    _close(ind.compute(bars, ["efi"])["efi_13"], ref_ema(raw, 13), rtol=1e-9, atol=1e-9)


def test_dpo(bars: pd.DataFrame) -> None:
    c = bars["close"]
    expected = c - c.rolling(20).mean().shift(20 // 2 + 1)
    _close(ind.compute(bars, ["dpo"])["dpo_20"], expected)


def test_tsi(bars: pd.DataFrame) -> None:
    m = bars["close"].diff().to_numpy()
    num = ref_ema(ref_ema(m, 25), 13)
    den = ref_ema(ref_ema(np.abs(m), 25), 13)
    _close(ind.compute(bars, ["tsi"])["tsi_25_13"], 100 * num / den, rtol=1e-8)


def test_chande_kroll(bars: pd.DataFrame, hlc: tuple[np.ndarray, ...]) -> None:
    atr = pd.Series(ref_wilder_atr(*hlc, 10), index=bars.index)
    first_long = bars["high"].rolling(10).max() - 1.0 * atr
    first_short = bars["low"].rolling(10).min() + 1.0 * atr
    frame = ind.compute(bars, ["chandekroll"])
    _close(frame["chandekroll_10_1_9_long"], first_long.rolling(9).max())
    _close(frame["chandekroll_10_1_9_short"], first_short.rolling(9).min())


def test_array_functions_accept_lists_and_float32(hlc: tuple[np.ndarray, ...]) -> None:
    h, lo, c = hlc
    line, _ = native.supertrend(h.astype(np.float32), lo.astype(np.float32), list(c))
    assert line.dtype == np.float64
    assert native.hma(list(c[:100]), 16).shape == (100,)
