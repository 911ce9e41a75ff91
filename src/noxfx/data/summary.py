"""A plain-numbers snapshot of one stored market, for ``noxfx run`` before the analysis exists.

All distances are in pips of the instrument; times are UTC bar open times.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from noxfx.data.store import BarStore
from noxfx.errors import InsufficientData
from noxfx.instruments import get_instrument
from noxfx.timeframes import parse_timeframe


def market_summary(
    store: BarStore, symbol: str, timeframe: str, lookback: int = 20
) -> dict[str, Any]:
    """Last close, the change over the last day, the mean true range and the recent range."""
    inst = get_instrument(symbol)
    tf = parse_timeframe(timeframe)
    bars = store.read(inst.symbol, tf)
    if len(bars) < lookback + 1:
        raise InsufficientData(f"{inst.symbol} {tf}: {len(bars)} bars, need {lookback + 1}.")
    close = bars["close"].to_numpy()
    high, low = bars["high"].to_numpy(), bars["low"].to_numpy()
    prev = np.r_[np.nan, close[:-1]]
    true_range = np.nanmax(
        np.column_stack([high - low, np.abs(high - prev), np.abs(low - prev)]), axis=1
    )
    per_day = max(1, 86_400 // tf.seconds)
    day_ago = close[-1 - per_day] if len(close) > per_day else close[0]
    recent = slice(-lookback, None)
    return {
        "symbol": inst.symbol,
        "timeframe": tf.name,
        "as_of": bars.index[-1],
        "bars": len(bars),
        "last_close": float(close[-1]),
        "change_1d_pips": round(inst.to_pips(close[-1] - day_ago), 1),
        f"mean_true_range_{lookback}_pips": round(
            inst.to_pips(float(true_range[recent].mean())), 1
        ),
        f"high_{lookback}": float(high[recent].max()),
        f"low_{lookback}": float(low[recent].min()),
    }


__all__ = ["latest_prices", "market_summary"]


def latest_prices(store: BarStore, symbols: list[str] | None = None) -> dict[str, float]:
    """Last close of each stored symbol (from its finest stored timeframe), for conversions."""
    out: dict[str, float] = {}
    for sym in symbols or store.symbols():
        tfs = store.stored_timeframes(sym)
        if not tfs:
            continue
        info = store.info(sym, tfs[0])
        if info.last is None:
            continue
        tail = store.read(sym, tfs[0], start=info.last)
        out[sym] = float(tail["close"].iloc[-1])
    return out
