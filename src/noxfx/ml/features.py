"""Leak-free features for the ML models: one row per bar, computed from bars ``<= t`` only.

``build_features(bars)`` returns a float64 frame on ``bars.index`` (UTC bar open time). The row of
bar ``t`` describes the market *at the close of t*, when the decision is taken (labels enter at
the next bar's open, :mod:`noxfx.ml.labels`). Scale-free units so one model can see 2013 and
2020 (or EURUSD and USDJPY) on the same footing: price distances are in ATRs of the same
timeframe, oscillators are centred/scaled to about [-1, 1].

Feature groups (names as in the frame):

* returns: ``ret_{k}_atr`` = (close[t] - close[t-k]) / ATR[t] for the configured lags;
* volatility: ``rv_{w}`` = standard deviation of 1-bar log returns over ``w`` bars, in basis
  points; ``rv_ratio`` = short / long window; ``natr`` = ATR / close in percent;
* indicators (TA-Lib through :func:`noxfx.analysis.indicators.compute`): ``rsi`` ((RSI-50)/50),
  ``macd_hist_atr`` (MACD histogram / ATR), ``adx`` (/100), ``di_diff`` ((+DI - -DI)/100),
  ``ema{20,50,200}_dist_atr`` ((close - EMA) / ATR), ``bb_pctb`` (Bollinger %b, 20, 2),
  ``stoch_k`` / ``stoch_d`` (/100), ``cci`` (/100), ``willr`` (/100);
* candle shape: ``body_atr``, ``upper_wick_atr``, ``lower_wick_atr``; candlestick patterns
  ``cdl_*`` as -1/0/+1 (sign of TA-Lib's code, a handful of the most common patterns);
* calendar: ``session_{sydney,tokyo,london,new_york}`` (1 when the bar *opens* inside the session,
  judged in the session's local time so daylight saving is handled), ``session_overlap`` (London
  and New York both open), ``day_of_week`` (0 Monday .. 4 Friday of the FX trading day, which
  starts Sunday 17:00 New York), ``hour_of_day`` (hours since the 17:00 New York roll-over);
* range position: ``high_{w}_atr`` = (highest high of the last ``w`` bars - close) / ATR and
  ``low_{w}_atr`` = (close - lowest low) / ATR;
* higher timeframes (``h4_*``, ``d1_*``, only those coarser than the bars): RSI, (close - EMA20)
  / ATR, last bar's return / ATR, ADX, close's position in the bar's range, all on the higher
  bars derived with :func:`noxfx.timeframes.resample`; plus ``d1_prev_high_atr`` /
  ``d1_prev_low_atr``: distance from the current close to the last *closed* day's high/low in
  ATRs of the base timeframe.

No lookahead, by construction: indicators and rolling windows at ``t`` use rows ``<= t``; a higher
bar is joined to a base bar only when the higher bar's **close time** is at or before the base
bar's close time (``searchsorted`` on close times), so a 4h or daily bar still forming is never
seen. ``tests/ml/test_features.py`` shuffles the bars after ``t`` and checks rows ``<= t`` do not
change. Warm-up rows hold NaN; the longest warm-up is the daily EMA/ADX (about 30-50 days).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from noxfx.errors import InsufficientData, InvalidBars
from noxfx.instruments import SESSIONS
from noxfx.timeframes import Timeframe, infer_timeframe, parse_timeframe, resample, trading_day

FloatArray = npt.NDArray[np.float64]

#: TA-Lib patterns used as features: common, and frequent enough on 1h bars to be learnable
DEFAULT_CANDLES: tuple[str, ...] = (
    "cdl_engulfing",
    "cdl_harami",
    "cdl_hammer",
    "cdl_shootingstar",
    "cdl_doji",
    "cdl_marubozu",
    "cdl_morningstar",
    "cdl_eveningstar",
)
_PREFIX = {"4h": "h4", "1d": "d1", "1w": "w1"}


@dataclass(frozen=True, slots=True)
class FeatureConfig:
    """What :func:`build_features` computes. Windows and lags are in bars of the base timeframe."""

    return_lags: tuple[int, ...] = (1, 2, 3, 6, 12, 24)
    vol_windows: tuple[int, int] = (24, 120)
    range_windows: tuple[int, ...] = (24, 120)
    atr_period: int = 14
    candles: tuple[str, ...] = DEFAULT_CANDLES
    higher_timeframes: tuple[str, ...] = ("4h", "1d")

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FeatureConfig:
        """Inverse of :meth:`as_dict` (lists from JSON become tuples)."""
        return cls(
            return_lags=tuple(data["return_lags"]),
            vol_windows=(int(data["vol_windows"][0]), int(data["vol_windows"][1])),
            range_windows=tuple(data["range_windows"]),
            atr_period=int(data["atr_period"]),
            candles=tuple(data["candles"]),
            higher_timeframes=tuple(data["higher_timeframes"]),
        )


def _base_timeframe(bars: pd.DataFrame, timeframe: Timeframe | str | None) -> Timeframe:
    if timeframe is not None:
        return parse_timeframe(timeframe)
    tf = infer_timeframe(pd.DatetimeIndex(bars.index))
    if tf is None:
        raise InvalidBars("cannot infer the bars' timeframe; pass timeframe='1h' (or similar)")
    return tf


def _safe_div(num: FloatArray, den: FloatArray) -> FloatArray:
    with np.errstate(divide="ignore", invalid="ignore"):
        out = num / den
    out[~np.isfinite(out)] = np.nan
    return out


def _shift(values: FloatArray, k: int) -> FloatArray:
    out = np.full_like(values, np.nan)
    if k < len(values):
        out[k:] = values[: len(values) - k]
    return out


def _indicator_block(bars: pd.DataFrame, cfg: FeatureConfig) -> dict[str, FloatArray]:
    from noxfx.analysis.indicators import compute

    a = cfg.atr_period
    specs = [
        f"atr:{a}",
        "rsi:14",
        "macd:12,26,9",
        "adx:14",
        "plus_di:14",
        "minus_di:14",
        "ema:20",
        "ema:50",
        "ema:200",
        "bbands:20,2",
        "stoch:14,3,3",
        "cci:20",
        "willr:14",
    ]
    ind = compute(bars, specs)

    def col(name: str) -> FloatArray:
        return ind[name].to_numpy(dtype=np.float64)

    close = bars["close"].to_numpy(dtype=np.float64)
    atr = col(f"atr_{a}")
    upper, lower = col("bbands_20_2_upper"), col("bbands_20_2_lower")
    out = {
        "rsi": (col("rsi_14") - 50.0) / 50.0,
        "macd_hist_atr": _safe_div(col("macd_12_26_9_hist"), atr),
        "adx": col("adx_14") / 100.0,
        "di_diff": (col("plus_di_14") - col("minus_di_14")) / 100.0,
        "bb_pctb": _safe_div(close - lower, upper - lower),
        "stoch_k": col("stoch_14_3_3_k") / 100.0,
        "stoch_d": col("stoch_14_3_3_d") / 100.0,
        "cci": col("cci_20") / 100.0,
        "willr": col("willr_14") / 100.0,
        "natr": _safe_div(atr, close) * 100.0,
    }
    for p in (20, 50, 200):
        out[f"ema{p}_dist_atr"] = _safe_div(close - col(f"ema_{p}"), atr)
    out["_atr"] = atr
    return out


def _price_block(bars: pd.DataFrame, cfg: FeatureConfig, atr: FloatArray) -> dict[str, FloatArray]:
    o, h, lo, c = (bars[k].to_numpy(dtype=np.float64) for k in ("open", "high", "low", "close"))
    out: dict[str, FloatArray] = {}
    for k in cfg.return_lags:
        out[f"ret_{k}_atr"] = _safe_div(c - _shift(c, k), atr)
    log_ret = pd.Series(np.log(c)).diff()
    short, long = cfg.vol_windows
    rv = {w: log_ret.rolling(w).std().to_numpy() * 1e4 for w in (short, long)}
    out[f"rv_{short}"], out[f"rv_{long}"] = rv[short], rv[long]
    out["rv_ratio"] = _safe_div(rv[short], rv[long])
    out["body_atr"] = _safe_div(c - o, atr)
    out["upper_wick_atr"] = _safe_div(h - np.maximum(o, c), atr)
    out["lower_wick_atr"] = _safe_div(np.minimum(o, c) - lo, atr)
    for w in cfg.range_windows:
        hh = pd.Series(h).rolling(w).max().to_numpy()
        ll = pd.Series(lo).rolling(w).min().to_numpy()
        out[f"high_{w}_atr"] = _safe_div(hh - c, atr)
        out[f"low_{w}_atr"] = _safe_div(c - ll, atr)
    return out


def _candle_block(bars: pd.DataFrame, cfg: FeatureConfig) -> dict[str, FloatArray]:
    if not cfg.candles:
        return {}
    from noxfx.analysis.candles import candle_patterns

    codes = candle_patterns(bars, cfg.candles)
    return {name: np.sign(codes[name].to_numpy(dtype=np.float64)) for name in cfg.candles}


def _minutes(text: str) -> int:
    hh, mm = text.split(":")
    return int(hh) * 60 + int(mm)


def _calendar_block(index: pd.DatetimeIndex) -> dict[str, FloatArray]:
    out: dict[str, FloatArray] = {}
    for name, session in SESSIONS.items():
        local = index.tz_convert(session.tz)
        minute = np.asarray(local.hour * 60 + local.minute)
        start, end = _minutes(session.open_local), _minutes(session.close_local)
        out[f"session_{name}"] = ((minute >= start) & (minute < end)).astype(np.float64)
    out["session_overlap"] = out["session_london"] * out["session_new_york"]
    day = trading_day(index)
    out["day_of_week"] = np.asarray(day.day_of_week, dtype=np.float64)
    ny = index.tz_convert("America/New_York")
    out["hour_of_day"] = np.asarray((ny.hour + 7) % 24, dtype=np.float64)
    return out


def _higher_block(
    bars: pd.DataFrame, base: Timeframe, cfg: FeatureConfig, atr: FloatArray
) -> dict[str, FloatArray]:
    """Features of coarser bars, joined to base bars only once the coarser bar has closed."""
    from noxfx.analysis.indicators import compute

    out: dict[str, FloatArray] = {}
    base_close = pd.DatetimeIndex(bars.index).as_unit("ns").asi8 + base.seconds * 1_000_000_000
    close = bars["close"].to_numpy(dtype=np.float64)
    for name in cfg.higher_timeframes:
        tf = parse_timeframe(name)
        if tf <= base or tf.name == "1w":  # weekly bars close on Friday: not supported here
            continue
        prefix = _PREFIX.get(tf.name, tf.name)
        hb = resample(bars[["open", "high", "low", "close"]], tf, source=base)
        if len(hb) < 60:
            raise InsufficientData(
                f"{tf} features need at least 60 {tf} bars; got {len(hb)} (pass more history)"
            )
        ind = compute(hb, ["rsi:14", "atr:14", "ema:20", "adx:14"])
        h_close, h_atr = hb["close"].to_numpy(), ind["atr_14"].to_numpy()
        h_high, h_low = hb["high"].to_numpy(), hb["low"].to_numpy()
        values = {
            "rsi": (ind["rsi_14"].to_numpy() - 50.0) / 50.0,
            "ema20_dist_atr": _safe_div(h_close - ind["ema_20"].to_numpy(), h_atr),
            "ret_1_atr": _safe_div(h_close - _shift(h_close, 1), h_atr),
            "adx": ind["adx_14"].to_numpy() / 100.0,
            "range_pos": _safe_div(h_close - h_low, h_high - h_low),
        }
        h_close_time = pd.DatetimeIndex(hb.index).as_unit("ns").asi8 + tf.seconds * 1_000_000_000
        # the last higher bar closed at or before each base bar's close (-1: none yet)
        j = np.searchsorted(h_close_time, base_close, side="right") - 1
        valid = j >= 0
        jj = np.maximum(j, 0)
        for key, arr in values.items():
            out[f"{prefix}_{key}"] = np.where(valid, arr[jj], np.nan)
        if tf.name == "1d":
            out["d1_prev_high_atr"] = _safe_div(np.where(valid, h_high[jj], np.nan) - close, atr)
            out["d1_prev_low_atr"] = _safe_div(close - np.where(valid, h_low[jj], np.nan), atr)
    return out


def build_features(
    bars: pd.DataFrame,
    timeframe: Timeframe | str | None = None,
    config: FeatureConfig | None = None,
) -> pd.DataFrame:
    """The feature frame (float64, index of ``bars``; see the module docstring for each column).

    ``timeframe`` is the bars' timeframe (inferred from the index when omitted). Raises
    :class:`~noxfx.errors.InsufficientData` when the bars are too short for the indicators
    (a few hundred bars at least; a higher timeframe needs 60 of its own bars).
    """
    cfg = config or FeatureConfig()
    if not isinstance(bars.index, pd.DatetimeIndex) or bars.index.tz is None:
        raise InvalidBars("bars must be indexed by a tz-aware DatetimeIndex (UTC bar open time)")
    base = _base_timeframe(bars, timeframe)
    ind = _indicator_block(bars, cfg)
    atr = ind.pop("_atr")
    blocks = [
        _price_block(bars, cfg, atr),
        ind,
        _candle_block(bars, cfg),
        _calendar_block(pd.DatetimeIndex(bars.index)),
        _higher_block(bars, base, cfg, atr),
    ]
    columns: dict[str, FloatArray] = {}
    for block in blocks:
        columns.update(block)
    frame = pd.DataFrame(columns, index=bars.index, dtype=np.float64)
    return frame


def warmup_rows(features: pd.DataFrame) -> int:
    """Rows before the first row where every feature is defined (the warm-up to drop)."""
    complete = np.flatnonzero(features.notna().all(axis=1).to_numpy())
    return int(complete[0]) if len(complete) else len(features)


__all__ = [
    "DEFAULT_CANDLES",
    "FeatureConfig",
    "build_features",
    "warmup_rows",
]
