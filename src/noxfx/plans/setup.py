"""The setup rule behind a plan, as a per-bar signal, so the live plan and its history are the
same rule.

Rule: go LONG when the overall TradingView-style rating of the analysed timeframe is above
``threshold`` and the mean rating of the higher timeframes (each taken from its last bar closed
by then) is not negative; SHORT mirrored. Stops are ``stop_atr`` x ATR(14) from the entry and
targets 1R / 2R / 3R, closing 50 % / 30 % / 20 %.

Everything at bar t uses bars up to t (higher bars only after they closed).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from noxfx.timeframes import bucket_close, parse_timeframe

#: Per risk tolerance: (rating threshold, stop in ATRs, minimum edge over break-even, risk %).
TOLERANCE: dict[str, tuple[float, float, float, float]] = {
    "low": (0.3, 2.0, 0.05, 0.5),
    "medium": (0.2, 1.5, 0.02, 1.0),
    "high": (0.1, 1.2, 0.0, 2.0),
}
TARGET_R = (1.0, 2.0, 3.0)
TARGET_FRACTIONS = (0.5, 0.3, 0.2)


@dataclass(frozen=True, slots=True)
class SetupParams:
    threshold: float
    stop_atr: float
    min_edge: float
    default_risk_pct: float

    @classmethod
    def for_tolerance(cls, tolerance: str) -> SetupParams:
        from noxfx.errors import InvalidInput

        try:
            return cls(*TOLERANCE[tolerance])
        except KeyError:
            raise InvalidInput(
                f"Unknown risk tolerance {tolerance!r}: use low, medium or high."
            ) from None

    def describe(self) -> str:
        return (
            f"rating > {self.threshold:g} (short: < -{self.threshold:g}) with higher "
            f"timeframes not against; stop {self.stop_atr:g} x ATR(14); targets 1R/2R/3R"
        )


def higher_rating_aligned(
    base_index: pd.DatetimeIndex, base_seconds: int, higher: Mapping[str, pd.DataFrame]
) -> pd.Series:
    """Mean overall rating of the higher timeframes as known at each base bar's close."""
    from noxfx.analysis.ratings import rating_series

    closes = pd.DataFrame({"t": base_index + pd.Timedelta(seconds=base_seconds)})
    cols = []
    for name, frame in higher.items():
        if len(frame) < 60:
            continue
        tf = parse_timeframe(name)
        r = rating_series(frame)["all"]
        opens = pd.DatetimeIndex(frame.index)
        if tf.name == "1w":
            known_at = pd.DatetimeIndex([bucket_close(t, tf) for t in opens])
        else:
            known_at = opens + pd.Timedelta(seconds=tf.seconds)
        ht = pd.DataFrame({"t": known_at, name: r.to_numpy()}).sort_values("t")
        merged = pd.merge_asof(closes, ht, on="t", direction="backward")
        cols.append(merged[name].to_numpy())
    if not cols:
        return pd.Series(np.nan, index=base_index)
    stack = np.vstack(cols)
    count = np.sum(~np.isnan(stack), axis=0)
    total = np.nansum(stack, axis=0)
    mean = np.where(count > 0, total / np.maximum(count, 1), np.nan)
    return pd.Series(mean, index=base_index)


def setup_signals(
    bars: pd.DataFrame,
    timeframe_seconds: int,
    higher: Mapping[str, pd.DataFrame],
    params: SetupParams,
) -> pd.DataFrame:
    """Per-bar ``long``/``short`` booleans with the ``rating`` and ``higher_rating`` behind them."""
    from noxfx.analysis.ratings import rating_series

    rating = rating_series(bars)["all"]
    htf = higher_rating_aligned(pd.DatetimeIndex(bars.index), timeframe_seconds, higher)
    not_against_long = htf.isna() | (htf >= 0)
    not_against_short = htf.isna() | (htf <= 0)
    return pd.DataFrame(
        {
            "long": (rating > params.threshold) & not_against_long,
            "short": (rating < -params.threshold) & not_against_short,
            "rating": rating,
            "higher_rating": htf,
        },
        index=bars.index,
    )


__all__ = ["TARGET_FRACTIONS", "TARGET_R", "TOLERANCE", "SetupParams", "setup_signals"]
