"""Plans at past times, batched: what :func:`noxfx.plans.generator.generate_plan` would have said
at each of many past bars, computed once over the history and sliced (pure computation).

For a plan at bar ``j`` (its ``as_of`` is that bar's close, UTC) the generator reads the last
:data:`WINDOW_YEARS` of bars up to ``j`` and nothing after. The batched version keeps that
promise piece by piece:

* the setup signal (:func:`noxfx.plans.setup.setup_signals`) and ATR(14) are causal per bar, so
  they are computed once over all bars and read at ``j`` (higher timeframes only after they
  closed, as the rule says);
* the quote is bar ``j``'s close (bid) and ask = bid + spread; entry, stop (k x ATR) and TP1
  (1R) follow the generator's :func:`~noxfx.plans.generator._levels` rounding;
* P(TP1 before stop) is the setup history's estimate: the same rule traded with the backtest
  engine (:func:`noxfx.backtest.engine.simulate`, the plan's spread, stop k x ATR, TP1 1R, 48-bar
  time exit). The engine is causal and holds one position at a time, so one run over all bars
  per distinct spread gives every window's trades: a plan at ``j`` counts the run's trades that
  entered inside its window (after :data:`WARMUP_BARS` of indicator warm-up) and were hits by
  bar ``j`` (a trade still open at ``j`` counts as a miss, as the window's run closes it at its
  end; its R is not known at ``j`` and is left out of the payoffs). This agrees with the
  generator's number up to window-start effects;
  ``tests/plans/test_backfill.py`` compares the two at sampled times;
* EV and break-even use the window's payoffs (:mod:`noxfx.plans.payoff`: mean R of its hits and
  misses, spread paid), as the generator does, so the spread is not charged twice.

NO_TRADE plans keep their considered direction, levels and probability (``no_trade`` is True),
so the ledger checks the probability whether or not the plan said trade.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from noxfx.errors import InsufficientData
from noxfx.instruments import get_instrument
from noxfx.plans.history import HORIZON_BARS, MIN_TRADES
from noxfx.plans.payoff import trade_r
from noxfx.plans.setup import TARGET_R, SetupParams, setup_signals
from noxfx.timeframes import parse_timeframe

#: Years of bars a plan reads (as :data:`noxfx.workflows.HISTORY_YEARS`).
WINDOW_YEARS = 5
#: Bars at a window's start whose signals the window's own run would not have yet (the rating's
#: longest moving average).
WARMUP_BARS = 30
SOURCE = "setup history"

COLUMNS = (
    "as_of", "bar", "direction", "considered", "no_trade", "entry", "stop", "tp1", "stop_pips",
    "tp1_pips", "spread_pips", "p_tp1", "cases", "ev_r", "cost_r", "break_even",
)  # fmt: skip


def _entries(flag: pd.Series) -> np.ndarray:
    f = flag.fillna(False).astype(bool).to_numpy()
    return f & ~np.r_[False, f[:-1]]


def _atr(bars: pd.DataFrame) -> np.ndarray:
    import talib

    h, low, c = (np.ascontiguousarray(bars[k].to_numpy(dtype=np.float64))
                 for k in ("high", "low", "close"))  # fmt: skip
    return np.asarray(talib.ATR(h, low, c, timeperiod=14))


def plan_spreads(bars: pd.DataFrame, symbol: str, spread_pips: float | None) -> np.ndarray:
    """Per-bar spread in pips as the generator picks it: the given one, else the bars' spread
    column (MetaTrader points / 10) where positive, else the catalogue's typical spread."""
    inst = get_instrument(symbol)
    n = len(bars)
    if spread_pips is not None:
        return np.full(n, float(spread_pips))
    out = np.full(n, float(inst.typical_spread_pips))
    if "spread" in bars:
        col = bars["spread"].to_numpy(dtype=np.float64)
        ok = np.isfinite(col) & (col > 0)
        out[ok] = col[ok] / 10.0
    return out


def _history_counts(
    bars: pd.DataFrame, long_entry: np.ndarray, short_entry: np.ndarray, symbol: str,
    stop_atr: float, spread_pips: float,
) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:  # fmt: skip
    """Side -> (entry bars, exit bars, hit flags, R) of the setup's TP1-or-stop trades on all
    bars (R: price move over the stop distance, spread paid)."""
    from noxfx.backtest.config import BacktestConfig, Distance, Signals
    from noxfx.backtest.engine import simulate

    cfg = BacktestConfig(
        symbol=symbol, spread_pips=spread_pips, use_spread_column=False,
        stop_loss=Distance.atr(stop_atr), take_profit=Distance.atr(stop_atr),
        max_bars_in_trade=HORIZON_BARS, risk_percent=1.0, conversion_rate=1.0,
    )  # fmt: skip
    t = simulate(bars, Signals(long_entry=long_entry, short_entry=short_entry), cfg).trades
    out = {}
    for side in ("long", "short"):
        s = t[t["direction"] == side]
        hit = np.asarray(s["exit_reason"].astype(str).str.startswith("take_profit"))
        r = trade_r(s["pnl_pips"].to_numpy(), s["entry_price"].to_numpy(),
                    s["stop_price"].to_numpy(), get_instrument(symbol).pip_size)  # fmt: skip
        out[side] = (s["entry_bar"].to_numpy(), s["exit_bar"].to_numpy(), hit, r)
    return out


def _window_estimate(
    counts: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray], lo: np.ndarray, j: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(P, cases, mean R of hits, mean R of misses) per plan from trades entered in bars
    ``[lo, j]`` and hit by ``j`` (NaN payoffs where the window holds no hit or no miss)."""
    entry, exit_, hit, r = counts
    cum = np.r_[0, np.cumsum(hit)]
    cum_rw = np.r_[0.0, np.cumsum(np.where(hit, r, 0.0))]
    cum_rl = np.r_[0.0, np.cumsum(np.where(hit, 0.0, r))]
    a = np.searchsorted(entry, lo, side="left")
    b = np.searchsorted(entry, j, side="right")
    n = b - a
    hits = cum[b] - cum[a]
    r_win, r_loss = cum_rw[b] - cum_rw[a], cum_rl[b] - cum_rl[a]
    n_win, n_loss = hits.astype(np.float64), (n - hits).astype(np.float64)
    # at most one trade (the last entered) can still be open at j: its outcome is not known yet
    last = np.clip(b - 1, 0, max(len(entry) - 1, 0))
    if len(entry):
        open_at_j = (n > 0) & (exit_[last] > j)
        hits = hits - (open_at_j & hit[last]).astype(np.int64)
        r_win -= np.where(open_at_j & hit[last], r[last], 0.0)
        r_loss -= np.where(open_at_j & ~hit[last], r[last], 0.0)
        n_win -= open_at_j & hit[last]
        n_loss -= open_at_j & ~hit[last]
    with np.errstate(invalid="ignore", divide="ignore"):
        p = np.where(n >= MIN_TRADES, hits / np.maximum(n, 1), np.nan)
        win = np.where((n_win > 0) & (n_loss > 0), r_win / n_win, np.nan)
        loss = np.where((n_win > 0) & (n_loss > 0), r_loss / n_loss, np.nan)
    return p, n, win, loss


def backfill_plans(
    bars: pd.DataFrame,
    higher: Mapping[str, pd.DataFrame],
    symbol: str,
    timeframe: str,
    *,
    start: pd.Timestamp | str | None = None,
    end: pd.Timestamp | str | None = None,
    every: int = 24,
    risk_tolerance: str = "medium",
    spread_pips: float | None = None,
) -> pd.DataFrame:
    """One row per plan at every ``every``-th bar from ``start`` (bar opens, UTC) to ``end``.

    Columns: :data:`COLUMNS` (``as_of`` = the bar's close, UTC; prices in quote currency;
    ``p_tp1`` NaN when fewer than :data:`~noxfx.plans.history.MIN_TRADES` past trades back it).
    Costs: the spread, inside the payoffs (``cost_r`` is the spread in R, for reference; it is
    subtracted on top only where a window has no hit or no miss and the barriers' +1R / -1R
    stand in); no commission, no swap (broker specific).
    """
    if every < 1:
        from noxfx.errors import InvalidInput

        raise InvalidInput("--every must be at least 1 bar.")
    inst = get_instrument(symbol)
    tf = parse_timeframe(timeframe)
    params = SetupParams.for_tolerance(risk_tolerance)
    index = pd.DatetimeIndex(bars.index)
    above = {k: v for k, v in higher.items() if parse_timeframe(k) > tf}
    signals = setup_signals(bars, tf.seconds, above, params)
    atr = _atr(bars)
    lo_t = pd.Timestamp(start, tz="UTC") if start is not None and pd.Timestamp(start).tz is None \
        else (pd.Timestamp(start) if start is not None else index[0])  # fmt: skip
    first = max(int(index.searchsorted(lo_t, side="left")), WARMUP_BARS)
    last = len(index) - 1
    if end is not None:
        hi_t = pd.Timestamp(end)
        hi_t = hi_t.tz_localize("UTC") if hi_t.tz is None else hi_t
        last = min(last, int(index.searchsorted(hi_t, side="right")) - 1)
    j = np.arange(first, last + 1, every, dtype=np.int64)
    j = j[np.isfinite(atr[j]) & (atr[j] > 0)]
    if len(j) == 0:
        raise InsufficientData(f"{inst.symbol} {tf}: no bars to plan on in that range.")
    rating = signals["rating"].to_numpy(dtype=np.float64)
    long_sig = signals["long"].to_numpy(dtype=bool)
    short_sig = signals["short"].to_numpy(dtype=bool)
    considered_long = long_sig[j] | (~short_sig[j] & (np.nan_to_num(rating[j], nan=-1.0) >= 0))
    sign = np.where(considered_long, 1.0, -1.0)
    spread = plan_spreads(bars, inst.symbol, spread_pips)[j]
    bid = bars["close"].to_numpy(dtype=np.float64)[j]
    ask = np.round(bid + spread * inst.pip_size, inst.precision)
    entry = np.where(considered_long, ask, bid)
    dist = params.stop_atr * atr[j]
    stop = np.round(entry - sign * dist, inst.precision)
    tp1 = np.round(entry + sign * TARGET_R[0] * dist, inst.precision)
    stop_pips = np.round(dist / inst.pip_size, 1)

    window_lo = index.searchsorted(index[j] - pd.DateOffset(years=WINDOW_YEARS), side="left")
    window_lo = np.asarray(window_lo, dtype=np.int64) + WARMUP_BARS
    p = np.full(len(j), np.nan)
    cases = np.zeros(len(j), dtype=np.int64)
    win_r, loss_r = np.full(len(j), np.nan), np.full(len(j), np.nan)
    le, se = _entries(signals["long"]), _entries(signals["short"])
    for s in np.unique(spread):
        sel = spread == s
        counts = _history_counts(bars, le, se, inst.symbol, params.stop_atr, float(s))
        for side, is_long in (("long", True), ("short", False)):
            m = sel & (considered_long == is_long)
            if m.any():
                p[m], cases[m], win_r[m], loss_r[m] = _window_estimate(
                    counts[side], window_lo[m], j[m]
                )
    cost_r = spread / stop_pips
    # payoffs of the window's own trades (spread paid); the barriers' with the spread on top
    # where the window has no hit or no miss (noxfx.plans.payoff)
    barriers = ~np.isfinite(win_r)
    win_r[barriers], loss_r[barriers] = TARGET_R[0], -1.0
    extra = np.where(barriers, cost_r, 0.0)
    break_even = (extra - loss_r) / (win_r - loss_r)
    ev_r = p * win_r + (1 - p) * loss_r - extra
    signal = long_sig[j] | short_sig[j]
    with np.errstate(invalid="ignore"):
        no_trade = (~signal | ~np.isfinite(p) | (ev_r <= 0)
                    | (p - break_even < params.min_edge))  # fmt: skip
    considered = np.where(considered_long, "LONG", "SHORT")
    return pd.DataFrame({
        "as_of": index[j] + pd.Timedelta(seconds=tf.seconds), "bar": j,
        "direction": np.where(no_trade, "NO_TRADE", considered), "considered": considered,
        "no_trade": no_trade, "entry": entry, "stop": stop, "tp1": tp1, "stop_pips": stop_pips,
        "tp1_pips": np.round(TARGET_R[0] * dist / inst.pip_size, 1), "spread_pips": spread,
        "p_tp1": p, "cases": cases, "ev_r": ev_r, "cost_r": cost_r, "break_even": break_even,
    })  # fmt: skip


__all__ = ["COLUMNS", "SOURCE", "WARMUP_BARS", "WINDOW_YEARS", "backfill_plans", "plan_spreads"]
