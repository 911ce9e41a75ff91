"""Features and labels joined into samples, one set per side (long / short).

A *sample* is a decision bar ``t`` whose features are all defined (the indicator warm-up is
dropped) and whose label exists. Each side keeps, per sample: the feature row ``X``, label ``y``,
the bar position ``pos`` of ``t``, the bar position ``t1`` of the label's exit bar (for purging),
the trade result ``exit_r`` in R before costs and the cost ``cost_r`` in R (spread pips / stop
pips at ``t``). Positions index the bar frame the dataset was built from.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from noxfx.errors import InsufficientData
from noxfx.instruments import get_instrument
from noxfx.ml.features import FeatureConfig, build_features
from noxfx.ml.labels import SIDES, BarrierConfig, barrier_distances, barrier_outcomes
from noxfx.timeframes import Timeframe, parse_timeframe

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class SideSamples:
    """The samples of one side, oldest first (arrays of equal length)."""

    side: str
    X: FloatArray
    y: FloatArray
    pos: IntArray
    t1: IntArray
    exit_r: FloatArray
    cost_r: FloatArray

    def __len__(self) -> int:
        return len(self.y)

    def subset(self, idx: IntArray) -> SideSamples:
        return SideSamples(
            self.side,
            self.X[idx],
            self.y[idx],
            self.pos[idx],
            self.t1[idx],
            self.exit_r[idx],
            self.cost_r[idx],
        )


@dataclass(frozen=True)
class Dataset:
    """Everything the validation and training need, built once from a bar frame."""

    symbol: str
    timeframe: Timeframe
    index: pd.DatetimeIndex
    features: pd.DataFrame
    feature_names: list[str]
    sides: dict[str, SideSamples]
    labels: BarrierConfig
    feature_config: FeatureConfig
    pip_size: float
    spread_pips: float

    @property
    def n_bars(self) -> int:
        return len(self.index)


def bars_sha256(bars: pd.DataFrame) -> str:
    """SHA-256 of the bars' UTC open times (int64 ns) and OHLC (float64), in that order."""
    digest = hashlib.sha256()
    digest.update(pd.DatetimeIndex(bars.index).as_unit("ns").asi8.tobytes())
    for col in ("open", "high", "low", "close"):
        digest.update(np.ascontiguousarray(bars[col].to_numpy(dtype=np.float64)).tobytes())
    return digest.hexdigest()


def build_dataset(
    bars: pd.DataFrame,
    *,
    symbol: str,
    timeframe: Timeframe | str,
    labels: BarrierConfig | None = None,
    features: FeatureConfig | None = None,
    spread_pips: float | None = None,
    min_samples: int = 200,
) -> Dataset:
    """Build features and triple-barrier labels for ``bars`` and align them into samples.

    ``spread_pips`` is the round-trip cost used for ``cost_r`` (default: the instrument's
    typical retail spread from the catalogue).
    """
    inst = get_instrument(symbol)
    tf = parse_timeframe(timeframe)
    lcfg = labels or BarrierConfig()
    fcfg = features or FeatureConfig()
    spread = inst.typical_spread_pips if spread_pips is None else float(spread_pips)
    feats = build_features(bars, tf, fcfg)
    names = list(feats.columns)
    X_all = feats.to_numpy(dtype=np.float64)
    complete = np.isfinite(X_all).all(axis=1)
    _, sl_dist = barrier_distances(bars, lcfg, inst.pip_size)
    with np.errstate(divide="ignore", invalid="ignore"):
        cost_all = spread / (sl_dist / inst.pip_size)
    sides: dict[str, SideSamples] = {}
    for side in SIDES:
        res = barrier_outcomes(bars, lcfg, side, inst.pip_size)
        keep = np.flatnonzero(complete & np.isfinite(res.label) & np.isfinite(cost_all))
        if len(keep) < min_samples:
            raise InsufficientData(
                f"{inst.symbol} {tf}: only {len(keep)} labelled {side} samples after the "
                f"warm-up; need at least {min_samples} (pass more bars)"
            )
        sides[side] = SideSamples(
            side=side,
            X=X_all[keep],
            y=res.label[keep],
            pos=keep.astype(np.int64),
            t1=res.exit_pos[keep],
            exit_r=res.exit_r[keep],
            cost_r=cost_all[keep],
        )
    return Dataset(
        symbol=inst.symbol,
        timeframe=tf,
        index=pd.DatetimeIndex(bars.index),
        features=feats,
        feature_names=names,
        sides=sides,
        labels=lcfg,
        feature_config=fcfg,
        pip_size=inst.pip_size,
        spread_pips=spread,
    )


__all__ = ["Dataset", "SideSamples", "bars_sha256", "build_dataset"]
