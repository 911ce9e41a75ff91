"""Support and resistance: clustered zigzag pivot prices plus round-number levels.

Conventions:

* Bars are indexed by their UTC **open** time; prices are quote-currency prices. Only bars
  opening at or before ``as_of`` are used, so a level set is what a trader could have drawn
  at the close of that bar.
* Touches are zigzag pivots (:mod:`noxfx.analysis.zigzag`, reversal ``threshold_atr`` x ATR)
  confirmed within the last ``lookback_bars`` bars. Pivot prices are clustered greedily from
  the lowest: a cluster holds the prices within ``tolerance`` of its lowest price, where
  ``tolerance`` is ``cluster_atr`` x the last ATR (``0.5`` ATR ~ 35 pips on EURUSD daily) or
  ``tolerance_pips`` pips of the instrument when given. The level is the cluster's mean price.
* ``strength`` in [0, 1] grows with the touches, each weighted by its recency
  (``0.5 ** (age_bars / half_life_bars)``): ``1 - exp(-weight_sum / 3)``; one fresh touch
  gives 0.28, three give 0.63, six give 0.86.
* ``kind`` is relative to the last close: a level above it is ``resistance``, at or below it
  ``support``. ``distance_pips`` is ``level - last close`` in pips (signed).
* Round numbers are the 00 and 50 pip levels of the instrument around the last close
  (EURUSD 1.1000 / 1.1050, USDJPY 150.00 / 150.50); ``major`` marks the 00 levels.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from noxfx.analysis._bar_input import AsOf, FloatArray, bars_as_of, price_arrays, utc_index
from noxfx.analysis.zigzag import DEFAULT_ATR_PERIOD, atr_series, zigzag_arrays
from noxfx.errors import InsufficientData, InvalidInput
from noxfx.instruments import get_instrument

LevelKind = Literal["support", "resistance"]


@dataclass(frozen=True, slots=True)
class Level:
    """A price level drawn from clustered pivots (prices in quote currency, times UTC).

    ``low``/``high``: the range of the clustered pivot prices; ``touches``: pivots in the
    cluster, of which ``high_touches`` were swing highs (a level touched from both sides has
    flipped role); ``first_touch``/``last_touch``: open times of the oldest/newest pivot bar.
    """

    price: float
    kind: LevelKind
    touches: int
    high_touches: int
    strength: float
    first_touch: pd.Timestamp
    last_touch: pd.Timestamp
    low: float
    high: float
    distance_pips: float

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready dict (times as ISO-8601 UTC strings)."""
        out = asdict(self)
        out["first_touch"] = self.first_touch.isoformat()
        out["last_touch"] = self.last_touch.isoformat()
        return out


@dataclass(frozen=True, slots=True)
class RoundLevel:
    """A round-number level: ``major`` for 00 pip levels (1.1000), else a 50 (1.1050)."""

    price: float
    kind: LevelKind
    major: bool
    distance_pips: float

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return asdict(self)


@dataclass(frozen=True, slots=True)
class SupportResistance:
    """Levels around the last close at ``time`` (open time of the last bar used, UTC).

    ``levels`` are sorted by price, highest first; ``tolerance`` is the clustering width
    (price) and ``atr`` the last ATR (price).
    """

    symbol: str
    time: pd.Timestamp
    last_close: float
    atr: float
    tolerance: float
    levels: list[Level]
    round_levels: list[RoundLevel]

    @property
    def supports(self) -> list[Level]:
        """Support levels, nearest first."""
        return [lv for lv in self.levels if lv.kind == "support"]

    @property
    def resistances(self) -> list[Level]:
        """Resistance levels, nearest first."""
        return [lv for lv in reversed(self.levels) if lv.kind == "resistance"]

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready dict (times as ISO-8601 UTC strings)."""
        out = asdict(self)
        out["time"] = self.time.isoformat()
        out["levels"] = [lv.as_dict() for lv in self.levels]
        return out


def cluster_prices(sorted_prices: FloatArray, tolerance: float) -> npt.NDArray[np.int64]:
    """Cluster ids (0, 1, ...) of ascending prices: each cluster spans at most ``tolerance``.

    Greedy from the lowest price: a price joins the current cluster while it is within
    ``tolerance`` of the cluster's first (lowest) price, else it starts a new cluster.
    """
    labels = np.zeros(len(sorted_prices), dtype=np.int64)
    label, anchor = 0, -math.inf
    for i, price in enumerate(sorted_prices):  # one step per pivot, not per bar
        if price - anchor > tolerance:
            if i:
                label += 1
            anchor = price
        labels[i] = label
    return labels


def round_levels(
    price: float, pip_size: float, count: int = 2, precision: int = 5
) -> list[tuple[float, bool]]:
    """``count`` 50-pip grid levels below or at ``price`` and ``count`` above, ascending.

    Returns ``(level, major)`` with ``major`` True on multiples of 100 pips.
    """
    step = 50 * pip_size
    base = math.floor(price / step + 1e-9)
    out = []
    for k in range(base - count + 1, base + count + 1):
        out.append((round(k * step, precision), k % 2 == 0))
    return out


def _strongest(levels: list[Level], max_levels: int) -> list[Level]:
    """The strongest levels, half from each side of the price when both sides have enough."""
    sides = {
        kind: sorted((lv for lv in levels if lv.kind == kind), key=lambda lv: -lv.strength)
        for kind in ("support", "resistance")
    }
    share = {kind: min(len(side), (max_levels + 1) // 2) for kind, side in sides.items()}
    spare = max_levels - sum(share.values())
    for kind, side in sides.items():  # the other side may use what one side cannot fill
        extra = min(spare, len(side) - share[kind])
        share[kind] += extra
        spare -= extra
    return [lv for kind, side in sides.items() for lv in side[: share[kind]]]


def _check(max_levels: int, cluster_atr: float, tolerance_pips: float | None) -> None:
    if max_levels < 1:
        raise InvalidInput(f"max_levels must be at least 1, got {max_levels}")
    if not cluster_atr > 0:
        raise InvalidInput(f"cluster_atr must be a positive ATR multiple, got {cluster_atr}")
    if tolerance_pips is not None and not tolerance_pips > 0:
        raise InvalidInput(f"tolerance_pips must be positive, got {tolerance_pips}")


def support_resistance(
    bars: pd.DataFrame,
    symbol: str,
    *,
    max_levels: int = 8,
    threshold_atr: float = 1.5,
    cluster_atr: float = 0.5,
    tolerance_pips: float | None = None,
    min_touches: int = 2,
    lookback_bars: int = 2000,
    half_life_bars: float = 250.0,
    max_distance_atr: float = 15.0,
    round_count: int = 2,
    atr_period: int = DEFAULT_ATR_PERIOD,
    as_of: AsOf = None,
) -> SupportResistance:
    """Support/resistance levels of ``bars`` for the instrument ``symbol`` (e.g. ``"EURUSD"``).

    Keeps the ``max_levels`` strongest clusters (half above, half below the last close when
    both sides have enough) with at least ``min_touches`` pivots within ``max_distance_atr``
    ATRs of the last close, plus ``round_count`` round-number levels on each
    side of it. See the module docstring for the conventions; ``as_of`` cuts the bars.
    """
    _check(max_levels, cluster_atr, tolerance_pips)
    instrument = get_instrument(symbol)
    frame = bars_as_of(bars, as_of, min_bars=atr_period + 2)
    high, low, close = price_arrays(frame)
    atr = atr_series(high, low, close, atr_period)
    last = len(close) - 1
    last_atr, last_close = float(atr[last]), float(close[last])
    if not np.isfinite(last_atr):
        raise InsufficientData(f"need more than {atr_period} bars for the ATR, got {len(close)}")
    bar, price, kind, confirmed = zigzag_arrays(high, low, atr, threshold_atr)
    recent = confirmed >= last - lookback_bars
    bar, price, kind = bar[recent], price[recent], kind[recent]
    if tolerance_pips is not None:
        tolerance = instrument.from_pips(tolerance_pips)
    else:
        tolerance = cluster_atr * last_atr
    order = np.argsort(price, kind="stable")
    bar, price, kind = bar[order], price[order], kind[order]
    labels = cluster_prices(price, tolerance)
    weight = 0.5 ** ((last - bar) / half_life_bars)
    times = utc_index(frame)
    levels = []
    for label in np.unique(labels):
        sel = labels == label
        if sel.sum() < min_touches:
            continue
        level = float(price[sel].mean())
        if abs(level - last_close) > max_distance_atr * last_atr:
            continue
        levels.append(
            Level(
                price=instrument.round_price(level),
                kind="resistance" if level > last_close else "support",
                touches=int(sel.sum()),
                high_touches=int((kind[sel] > 0).sum()),
                strength=round(1.0 - math.exp(-float(weight[sel].sum()) / 3.0), 4),
                first_touch=times[int(bar[sel].min())],
                last_touch=times[int(bar[sel].max())],
                low=float(price[sel].min()),
                high=float(price[sel].max()),
                distance_pips=round(instrument.to_pips(level - last_close), 1),
            )
        )
    levels = sorted(_strongest(levels, max_levels), key=lambda lv: -lv.price)
    rounds = [
        RoundLevel(
            price=level,
            kind="resistance" if level > last_close else "support",
            major=major,
            distance_pips=round(instrument.to_pips(level - last_close), 1),
        )
        for level, major in reversed(
            round_levels(last_close, instrument.pip_size, round_count, instrument.precision)
        )
    ]
    return SupportResistance(
        symbol=instrument.symbol,
        time=times[last],
        last_close=last_close,
        atr=last_atr,
        tolerance=float(tolerance),
        levels=levels,
        round_levels=rounds,
    )


__all__ = [
    "Level",
    "LevelKind",
    "RoundLevel",
    "SupportResistance",
    "cluster_prices",
    "round_levels",
    "support_resistance",
]
