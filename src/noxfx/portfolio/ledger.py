"""The plan ledger's resolver: what happened to each plan after it was issued (pure computation).

A plan (``as_of`` = the UTC close of its last bar; a market entry valid until ``valid_until``)
is settled from the bars after it, with the backtester's rules and order steps
(:mod:`noxfx.portfolio.ledger_nb`): the entry fills at the open of the first bar opening at or
after ``as_of`` (longs at the ask, shorts at the bid); if that bar opens at or after
``valid_until`` (a weekend or a data gap) the plan is ``expired_unfilled``. The stop and TP1
lie the plan's ``stop_pips``/``tp1_pips`` from the fill (the distances the plan's probability
was estimated for). Outcomes:

* ``tp1_first``: TP1 was reached before the stop (a bar touching both counts as the stop, unless
  finer bars show the target first);
* ``stop_first``: the stop was hit first (gaps fill at the open);
* ``time_exit``: neither within :data:`~noxfx.plans.history.HORIZON_BARS` bars (the horizon the
  probability was estimated over): closed at market, and counted as "not TP1 first";
* ``expired_unfilled``: never filled; ``open``: not settled yet.

``realised_r`` is the move from the fill to the exit in units of the stop distance (exit at the
bid for longs, the ask for shorts, so the spread is inside it); ``resolved_at`` is the UTC close
of the bar in which the outcome happened (the open, for a time exit).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from noxfx.instruments import get_instrument
from noxfx.plans.history import HORIZON_BARS
from noxfx.portfolio import ledger_nb
from noxfx.portfolio.ledger_nb import OUTCOME_NAMES

#: Outcomes that test P(TP1 before stop): 1 for TP1 first, 0 otherwise.
SETTLED = ("tp1_first", "stop_first", "time_exit")


def resolve(
    bars: pd.DataFrame,
    plans: pd.DataFrame,
    symbol: str,
    *,
    fine_bars: pd.DataFrame | None = None,
    horizon_bars: int = HORIZON_BARS,
) -> pd.DataFrame:
    """Settle ``plans`` on ``bars`` (bid OHLC, UTC bar opens; the plans' timeframe).

    ``plans`` needs ``as_of``, ``considered`` (or ``direction``) LONG/SHORT, ``stop_pips``,
    ``tp1_pips``, ``spread_pips`` and optionally ``valid_until`` (default: ``as_of`` + one bar).
    ``fine_bars`` (e.g. 1m under 1h) decide a bar that touched both levels. Returns a copy with
    ``outcome``, ``hit`` (1/0, NaN unless settled), ``resolved_at``, ``fill_price``,
    ``exit_price`` and ``realised_r``.
    """
    from noxfx.backtest._prepare import params_for, prepare
    from noxfx.backtest.config import BacktestConfig, Signals

    inst = get_instrument(symbol)
    out = plans.copy()
    if out.empty:
        for col in ("outcome", "hit", "resolved_at", "fill_price", "exit_price", "realised_r"):
            out[col] = pd.Series(dtype=object if col == "outcome" else float)
        return out
    config = BacktestConfig(symbol=inst.symbol, lots=1.0, use_spread_column=False,
                            conversion_rate=1.0)  # fmt: skip
    prep = prepare(bars, Signals(), config, None, fine_bars)
    index = prep.bars.index
    step = pd.Timedelta(index.to_series().diff().median()) if len(index) > 1 \
        else pd.Timedelta(hours=1)  # fmt: skip
    as_of = pd.DatetimeIndex(pd.to_datetime(out["as_of"], utc=True))
    valid = (pd.DatetimeIndex(pd.to_datetime(out["valid_until"], utc=True))
             if "valid_until" in out else as_of + step)  # fmt: skip
    first = index.searchsorted(as_of, side="left").astype(np.int64)
    inside = first < len(index)
    opens = index[np.minimum(first, len(index) - 1)]
    entry_bar = np.where(inside & (opens >= valid), -1, first).astype(np.int64)
    side = out["considered"] if "considered" in out else out["direction"]
    direction = np.where(side.astype(str).str.upper().isin(["LONG", "BUY"]), 1, -1)
    pip = inst.pip_size
    o, xb, xp, rm, fill = ledger_nb.resolve_plans_nb(
        prep.market, prep.fine, params_for(config, inst, True), entry_bar,
        direction.astype(np.int64), out["stop_pips"].to_numpy(dtype=np.float64) * pip,
        out["tp1_pips"].to_numpy(dtype=np.float64) * pip,
        out["spread_pips"].to_numpy(dtype=np.float64) * pip, int(horizon_bars),
    )  # fmt: skip
    names = np.asarray(OUTCOME_NAMES, dtype=object)[o]
    names[~inside & (entry_bar >= 0)] = "open"
    out["outcome"] = names
    out["hit"] = np.where(np.isin(names, SETTLED), (o == ledger_nb.TP1_FIRST).astype(float),
                          np.nan)  # fmt: skip
    exit_time = index[np.maximum(xb, 0)]
    time_exit = o == ledger_nb.TIME_EXPIRED
    resolved = np.where(time_exit, exit_time, exit_time + step)
    resolved_at = pd.Series(pd.DatetimeIndex(resolved), index=out.index)
    resolved_at[xb < 0] = None
    exp = names == "expired_unfilled"
    resolved_at[exp] = pd.DatetimeIndex(valid)[exp]
    out["resolved_at"] = resolved_at
    out["fill_price"] = fill
    out["exit_price"] = xp
    out["realised_r"] = rm
    return out


__all__ = ["SETTLED", "resolve"]
