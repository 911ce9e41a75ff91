"""Labels for supervised learning on bars: triple barrier, plain direction and meta-labels.

Conventions (all labels):

* ``bars`` is a bar frame (UTC bar *open* time index, float64 ``open high low close``).
* A label belongs to the **decision bar** ``t``: the decision is taken at the close of ``t`` and the
  trade is entered at the **next bar's open** ``open[t+1]``. The label therefore looks only at
  bars ``t+1 .. t+horizon_bars``; the features of ``t`` look only at bars ``<= t``.
* Every label comes with ``t1``: the UTC open time of the bar on which it was decided (its exit
  bar). The interval ``[t, t1]`` is what purging uses: a training sample whose interval overlaps
  the test period would leak the test outcome into training.
* Bars without a label (indicator warm-up, fewer than ``horizon_bars`` bars left) hold NaN labels
  and NaT ``t1``. The last ``horizon_bars`` bars are always unlabelled, even when a barrier was
  already touched, so no label depends on where the data happens to end.

Triple barrier (Lopez de Prado, *Advances in Financial Machine Learning*, ch. 3): target at
``tp_atr x ATR(atr_period)[t]`` (or ``tp_pips``), stop at ``sl_atr x ATR`` (or ``sl_pips``), time
limit ``horizon_bars``. Label 1 when the target is reached first, 0 when the stop is, and for
neither within the horizon either 0 (``timeout="zero"``: the trade did not win) or NaN
(``timeout="drop"``). A bar that touches both barriers counts as stop first (conservative).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal, NamedTuple

import numpy as np
import numpy.typing as npt
import pandas as pd

from noxfx.analysis.barrier_nb import NO_LABEL, STOP, TARGET, TIMEOUT, triple_barrier_nb
from noxfx.errors import InvalidBars, InvalidInput

Side = Literal["long", "short"]
SIDES: tuple[Side, Side] = ("long", "short")
SIDE_SIGN: dict[str, int] = {"long": 1, "short": -1}


@dataclass(frozen=True, slots=True)
class BarrierConfig:
    """Triple-barrier parameters.

    ``horizon_bars``: time limit in bars of the labelled timeframe (24 on 1h = one day).
    ``tp_atr`` / ``sl_atr``: target / stop distance in multiples of ATR(``atr_period``) at the
    decision bar (k_tp, k_sl). ``tp_pips`` / ``sl_pips``: fixed distances in pips instead (both
    must be given, and a ``pip_size``). ``timeout``: ``"zero"`` counts "neither barrier within the
    horizon" as a loss (label 0), ``"drop"`` leaves it unlabelled (NaN).
    """

    horizon_bars: int = 24
    tp_atr: float = 1.0
    sl_atr: float = 1.0
    atr_period: int = 14
    tp_pips: float | None = None
    sl_pips: float | None = None
    timeout: Literal["zero", "drop"] = "zero"

    def __post_init__(self) -> None:
        if self.horizon_bars < 1:
            raise InvalidInput(f"horizon_bars must be >= 1, got {self.horizon_bars}")
        if (self.tp_pips is None) != (self.sl_pips is None):
            raise InvalidInput("give both tp_pips and sl_pips, or neither (ATR multiples)")
        distances = (
            (self.tp_pips, self.sl_pips) if self.tp_pips is not None else (self.tp_atr, self.sl_atr)
        )
        if any(d is None or not d > 0 for d in distances):
            raise InvalidInput(f"barrier distances must be positive, got {distances}")
        if self.timeout not in ("zero", "drop"):
            raise InvalidInput(f"timeout must be 'zero' or 'drop', got {self.timeout!r}")

    @property
    def reward_risk(self) -> float:
        """R of a win: target distance / stop distance (1.0 for a symmetric 1:1 set-up)."""
        if self.tp_pips is not None and self.sl_pips is not None:
            return self.tp_pips / self.sl_pips
        return self.tp_atr / self.sl_atr

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class BarrierOutcomes(NamedTuple):
    """Positional result of :func:`barrier_outcomes` for one side (arrays of length n bars)."""

    label: npt.NDArray[np.float64]  # 1.0 / 0.0 / NaN
    outcome: npt.NDArray[np.int8]  # TARGET / STOP / TIMEOUT / NO_LABEL
    exit_pos: npt.NDArray[np.int64]  # bar position of t1, -1 when unlabelled
    exit_r: npt.NDArray[np.float64]  # result in R before costs (NaN when unlabelled)


def _prices(bars: pd.DataFrame) -> dict[str, npt.NDArray[np.float64]]:
    missing = [c for c in ("open", "high", "low", "close") if c not in bars.columns]
    if missing:
        raise InvalidBars(f"labels need columns {', '.join(missing)}")
    return {c: bars[c].to_numpy(dtype=np.float64) for c in ("open", "high", "low", "close")}


def barrier_distances(
    bars: pd.DataFrame, config: BarrierConfig, pip_size: float | None = None
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Target and stop distances in price units per decision bar (NaN during the ATR warm-up)."""
    n = len(bars)
    if config.tp_pips is not None and config.sl_pips is not None:
        if pip_size is None:
            raise InvalidInput("pip distances need the instrument's pip_size")
        return (np.full(n, config.tp_pips * pip_size), np.full(n, config.sl_pips * pip_size))
    from noxfx.analysis.indicators import compute

    atr = compute(bars, f"atr:{config.atr_period}").iloc[:, 0].to_numpy(dtype=np.float64)
    return config.tp_atr * atr, config.sl_atr * atr


def barrier_outcomes(
    bars: pd.DataFrame, config: BarrierConfig, side: Side, pip_size: float | None = None
) -> BarrierOutcomes:
    """Triple-barrier outcome of every decision bar for one side, as positional arrays."""
    tp, sl = barrier_distances(bars, config, pip_size)
    return _outcomes(_prices(bars), tp, sl, config, side)


def _outcomes(
    p: dict[str, npt.NDArray[np.float64]],
    tp: npt.NDArray[np.float64],
    sl: npt.NDArray[np.float64],
    config: BarrierConfig,
    side: Side,
) -> BarrierOutcomes:
    if side not in SIDE_SIGN:
        raise InvalidInput(f"side must be 'long' or 'short', got {side!r}")
    outcome, exit_pos, exit_r = triple_barrier_nb(
        p["open"], p["high"], p["low"], p["close"], tp, sl, config.horizon_bars, SIDE_SIGN[side]
    )
    label = np.full(len(outcome), np.nan)
    label[outcome == TARGET] = 1.0
    label[outcome == STOP] = 0.0
    if config.timeout == "zero":
        label[outcome == TIMEOUT] = 0.0
    return BarrierOutcomes(label, outcome, exit_pos, exit_r)


def _times_at(index: pd.DatetimeIndex, pos: npt.NDArray[np.int64]) -> pd.DatetimeIndex:
    """Index values at ``pos`` (NaT where ``pos < 0``)."""
    values = index.as_unit("ns").asi8[np.maximum(pos, 0)].copy()
    values[pos < 0] = np.iinfo(np.int64).min  # NaT
    return pd.DatetimeIndex(pd.to_datetime(values, utc=True), name=index.name)


def triple_barrier_labels(
    bars: pd.DataFrame, config: BarrierConfig | None = None, *, pip_size: float | None = None
) -> pd.DataFrame:
    """Triple-barrier labels for long and short trades decided at each bar's close.

    Returns a frame on ``bars.index`` with, per side ``s`` in ``long``/``short``:
    ``s`` (label 1.0 target first, 0.0 stop first [or timeout with ``timeout="zero"``], NaN
    none), ``s_outcome`` (int8 code: 1 target, -1 stop, 0 timeout, -2 no label), ``s_t1`` (UTC
    open time of the exit bar, NaT if none) and ``s_exit_r`` (result in R before costs); and
    ``entry_price`` (next bar's open), ``tp_distance`` / ``sl_distance`` (price units).

    >>> labels = triple_barrier_labels(bars, BarrierConfig(horizon_bars=24))  # doctest: +SKIP
    """
    cfg = config or BarrierConfig()
    index = pd.DatetimeIndex(bars.index)
    tp, sl = barrier_distances(bars, cfg, pip_size)
    prices = _prices(bars)
    columns: dict[str, Any] = {}
    for side in SIDES:
        res = _outcomes(prices, tp, sl, cfg, side)
        columns[side] = res.label
        columns[f"{side}_outcome"] = res.outcome
        columns[f"{side}_t1"] = _times_at(index, res.exit_pos)
        columns[f"{side}_exit_r"] = res.exit_r
    columns["entry_price"] = np.r_[prices["open"][1:], np.nan]
    columns["tp_distance"] = tp
    columns["sl_distance"] = sl
    return pd.DataFrame(columns, index=bars.index)


def direction_labels(
    bars: pd.DataFrame, horizon_bars: int = 24, *, min_move: float = 0.0
) -> pd.DataFrame:
    """Plain direction labels: did price rise from the next bar's open to ``horizon_bars`` later?

    ``move = close[t+horizon] - open[t+1]`` (price units). ``label`` is 1.0 when
    ``move > min_move``, 0.0 when ``move < -min_move``, NaN when within ``±min_move`` (too small to
    call) or when fewer than ``horizon_bars`` bars follow. ``t1`` is the UTC open time of bar
    ``t+horizon``. Columns: ``label``, ``move``, ``t1``.
    """
    if horizon_bars < 1:
        raise InvalidInput(f"horizon_bars must be >= 1, got {horizon_bars}")
    if min_move < 0:
        raise InvalidInput(f"min_move must be >= 0, got {min_move}")
    p = _prices(bars)
    n = len(bars)
    move = np.full(n, np.nan)
    if n > horizon_bars:
        move[: n - horizon_bars] = p["close"][horizon_bars:] - p["open"][1 : n - horizon_bars + 1]
    label = np.where(move > min_move, 1.0, np.where(move < -min_move, 0.0, np.nan))
    pos = np.arange(n, dtype=np.int64) + horizon_bars
    pos[np.isnan(move)] = -1
    t1 = _times_at(pd.DatetimeIndex(bars.index), pos)
    return pd.DataFrame({"label": label, "move": move, "t1": t1}, index=bars.index)


def meta_labels(
    bars: pd.DataFrame,
    signals: pd.Series,
    config: BarrierConfig | None = None,
    *,
    pip_size: float | None = None,
) -> pd.DataFrame:
    """Meta-labels: did a strategy's signal at ``t`` reach its target before its stop?

    ``signals`` is aligned to ``bars.index`` with ``+1`` (go long at the next open), ``-1`` (go
    short) or ``0``/NaN (no trade). For each signal the triple-barrier outcome in the signal's
    direction is its meta-label (1 = the signal would have worked); bars without a signal get NaN.
    Columns: ``side`` (+1/-1/0), ``label``, ``outcome``, ``t1``, ``exit_r``.
    """
    cfg = config or BarrierConfig()
    side = signals.reindex(bars.index).fillna(0.0).to_numpy(dtype=np.float64)
    if not np.isin(side, (-1.0, 0.0, 1.0)).all():
        raise InvalidInput("signals must be +1 (long), -1 (short) or 0 (no trade)")
    index = pd.DatetimeIndex(bars.index)
    n = len(bars)
    label = np.full(n, np.nan)
    outcome = np.full(n, NO_LABEL, dtype=np.int8)
    exit_pos = np.full(n, -1, dtype=np.int64)
    exit_r = np.full(n, np.nan)
    sides: tuple[tuple[Side, float], ...] = (("long", 1.0), ("short", -1.0))
    for name, sign in sides:
        mask = side == sign
        if mask.any():
            res = barrier_outcomes(bars, cfg, name, pip_size)
            label[mask] = res.label[mask]
            outcome[mask] = res.outcome[mask]
            exit_pos[mask] = res.exit_pos[mask]
            exit_r[mask] = res.exit_r[mask]
    return pd.DataFrame(
        {
            "side": side.astype(np.int8),
            "label": label,
            "outcome": outcome,
            "t1": _times_at(index, exit_pos),
            "exit_r": exit_r,
        },
        index=bars.index,
    )


__all__ = [
    "NO_LABEL",
    "SIDES",
    "STOP",
    "TARGET",
    "TIMEOUT",
    "BarrierConfig",
    "BarrierOutcomes",
    "Side",
    "barrier_distances",
    "barrier_outcomes",
    "direction_labels",
    "meta_labels",
    "triple_barrier_labels",
]
