"""numba kernel of the triple barrier: which of a target, a stop and a time limit a trade
reaches first (the ML labels of :mod:`noxfx.ml.labels` and the pattern statistics of
:mod:`noxfx.analysis.pattern_stats`; it lives here, below both, so neither imports the other).

Array contract (every kernel):

* inputs are 1-D float64 NumPy arrays of equal length ``n``, one element per bar, oldest first;
* a bar ``t`` is a *decision* bar: the decision is taken at its close and the trade is entered at
  the **next bar's open** (``open[t + 1]``), so the label of ``t`` looks only at bars
  ``t + 1 .. t + horizon`` (the future) and never at bar ``t``'s own range;
* outputs are new arrays of length ``n``. Outcome codes are int8: ``1`` target first, ``-1`` stop
  first (also when both barriers are touched inside one bar: we cannot know the order inside a
  bar, so the conservative reading is the stop), ``0`` neither within the horizon, ``-2`` no label
  (barrier distance NaN/non-positive, e.g. the ATR warm-up, or fewer than ``horizon`` bars after
  ``t``). ``exit_pos`` is the position of the bar on which the label resolved (``-1`` for no
  label); ``exit_r`` is the trade's result in R (multiples of the stop distance), before costs,
  assuming fills exactly at the barrier (a gap through the stop loses more than 1 R in reality).

The slow, obvious reference implementation lives in ``tests/ml/test_labels.py``.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from numba import njit

TARGET = 1
STOP = -1
TIMEOUT = 0
NO_LABEL = -2


@njit(cache=True)
def triple_barrier_nb(
    open_: npt.NDArray[np.float64],
    high: npt.NDArray[np.float64],
    low: npt.NDArray[np.float64],
    close: npt.NDArray[np.float64],
    tp_dist: npt.NDArray[np.float64],
    sl_dist: npt.NDArray[np.float64],
    horizon: int,
    side: int,
) -> tuple[npt.NDArray[np.int8], npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """Triple-barrier outcome of a trade decided at each bar's close.

    ``tp_dist`` / ``sl_dist`` are the target and stop distances in price units fixed at bar
    ``t`` (e.g. ``k * ATR[t]``); ``side`` is ``+1`` (long) or ``-1`` (short). Entry
    ``e = open[t+1]``; a long's target is ``e + tp_dist[t]``, its stop ``e - sl_dist[t]`` (short:
    mirrored). Bars ``t+1 .. t+horizon`` are scanned in order; a bar that reaches the stop
    (``low <= stop`` for a long) ends the trade at -1 R even if it also reaches the target.

    Returns ``(outcome, exit_pos, exit_r)``; for a timeout ``exit_r`` is the close of bar
    ``t+horizon`` against the entry, in R.
    """
    n = close.shape[0]
    outcome = np.full(n, NO_LABEL, dtype=np.int8)
    exit_pos = np.full(n, -1, dtype=np.int64)
    exit_r = np.full(n, np.nan)
    for t in range(n - horizon):
        tp = tp_dist[t]
        sl = sl_dist[t]
        if not (tp > 0.0 and sl > 0.0):  # NaN (warm-up) or degenerate
            continue
        entry = open_[t + 1]
        code = TIMEOUT
        last = t + horizon
        for j in range(t + 1, t + horizon + 1):
            if side > 0:
                hit_sl = low[j] <= entry - sl
                hit_tp = high[j] >= entry + tp
            else:
                hit_sl = high[j] >= entry + sl
                hit_tp = low[j] <= entry - tp
            if hit_sl:
                code = STOP
                last = j
                break
            if hit_tp:
                code = TARGET
                last = j
                break
        outcome[t] = code
        exit_pos[t] = last
        if code == TARGET:
            exit_r[t] = tp / sl
        elif code == STOP:
            exit_r[t] = -1.0
        else:
            exit_r[t] = side * (close[last] - entry) / sl
    return outcome, exit_pos, exit_r


__all__ = ["NO_LABEL", "STOP", "TARGET", "TIMEOUT", "triple_barrier_nb"]
