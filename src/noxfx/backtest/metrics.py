"""Performance statistics of a backtest: :func:`compute_metrics` -> :class:`Metrics`.

Conventions:

* A *trade* is a position from entry to its last close; its partial closes (rows sharing a
  ``trade_id``) are summed. Win rate, profit factor, averages, expectancy and SQN are per trade.
* Returns for Sharpe / Sortino are **daily**: equity at the last bar of each FX trading day
  (17:00 New York cut), annualised with 260 trading days (5 x 52; FX has no exchange holidays).
  Risk-free rate 0. Sortino's downside deviation is the root mean square of the negative daily
  returns over all days.
* CAGR uses calendar time from the first to the last bar's open (365.25-day years); Calmar is
  CAGR / |max drawdown|.
* Max drawdown is the largest fall of equity from a running peak, as a fraction (0.12 = 12 %),
  with its duration: from the peak to the recovery of that peak (or to the last bar).
* SQN (Van Tharp): sqrt(trades) x mean / standard deviation of the per-trade R multiples when
  every trade had a stop, else of the per-trade P&L.
* Exposure: fraction of bars that end with a position open.
* Costs: commission + spread + slippage in account currency (the last two are already inside the
  fill prices, so they are shown, not subtracted again); swap is reported separately because it
  can be a credit.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from noxfx.backtest.rollover import fx_day_number

TRADING_DAYS_PER_YEAR = 260


@dataclass(frozen=True, slots=True)
class Metrics:
    """Headline statistics; money in account currency, ratios as fractions (0.55 = 55 %)."""

    start: pd.Timestamp | None
    end: pd.Timestamp | None
    initial_balance: float
    final_equity: float
    net_profit: float
    net_profit_frac: float
    cagr: float
    sharpe: float
    sortino: float
    calmar: float
    max_drawdown: float
    max_drawdown_duration: pd.Timedelta
    trades: int
    win_rate: float
    profit_factor: float
    expectancy: float  # mean net P&L per trade
    expectancy_r: float  # mean R multiple per trade (NaN when trades had no stop)
    average_win: float
    average_loss: float  # negative
    largest_win: float
    largest_loss: float
    sqn: float
    exposure: float
    total_costs: float
    commission: float
    spread_cost: float
    slippage_cost: float
    swap: float

    def as_dict(self) -> dict[str, Any]:
        """Plain-JSON form: timestamps as ISO strings, durations in hours (the key gets an
        ``_hours`` suffix: ``max_drawdown_duration_hours``), NaN as None."""
        out: dict[str, Any] = {}
        for key, value in asdict(self).items():
            if isinstance(value, pd.Timestamp):
                out[key] = value.isoformat()
            elif isinstance(value, pd.Timedelta):
                out[f"{key}_hours"] = value.total_seconds() / 3600.0
            elif isinstance(value, float) and not math.isfinite(value):
                out[key] = None if math.isnan(value) else value
            else:
                out[key] = value
        return out


def compute_metrics(
    equity: pd.Series,
    trades: pd.DataFrame,
    initial_balance: float,
    *,
    position: pd.Series | None = None,
) -> Metrics:
    """Statistics from an equity curve (account currency per bar, UTC bar-open index) and the
    trades frame of :class:`noxfx.backtest.engine.BacktestResult`."""
    eq = equity.to_numpy(dtype=np.float64)
    index = pd.DatetimeIndex(equity.index)
    final = float(eq[-1]) if len(eq) else float(initial_balance)
    net = final - initial_balance
    start = index[0] if len(index) else None
    end = index[-1] if len(index) else None
    cagr = _cagr(initial_balance, final, start, end)
    dd, dd_duration = _max_drawdown(eq, index, initial_balance)
    sharpe, sortino = _daily_ratios(eq, index, initial_balance)
    per_trade = _per_trade(trades)
    pnl = per_trade["pnl"].to_numpy()
    r = per_trade["r_multiple"].to_numpy()
    wins, losses = pnl[pnl > 0], pnl[pnl <= 0]
    gross_loss = -losses.sum()
    n = len(pnl)
    exposure = float(np.mean(position.to_numpy() != 0)) if position is not None and n else 0.0
    costs = {k: float(trades[k].sum()) for k in ("commission", "spread_cost", "slippage_cost")}
    return Metrics(
        start=start,
        end=end,
        initial_balance=float(initial_balance),
        final_equity=final,
        net_profit=net,
        net_profit_frac=net / initial_balance,
        cagr=cagr,
        sharpe=sharpe,
        sortino=sortino,
        calmar=cagr / dd if dd > 0 else math.nan,
        max_drawdown=dd,
        max_drawdown_duration=dd_duration,
        trades=n,
        win_rate=len(wins) / n if n else math.nan,
        profit_factor=float(wins.sum() / gross_loss) if gross_loss > 0 else math.nan,
        expectancy=float(pnl.mean()) if n else math.nan,
        expectancy_r=float(r.mean()) if n and np.isfinite(r).all() else math.nan,
        average_win=float(wins.mean()) if len(wins) else math.nan,
        average_loss=float(losses.mean()) if len(losses) else math.nan,
        largest_win=float(pnl.max()) if n else math.nan,
        largest_loss=float(pnl.min()) if n else math.nan,
        sqn=_sqn(r if n and np.isfinite(r).all() else pnl),
        exposure=exposure,
        total_costs=sum(costs.values()),
        commission=costs["commission"],
        spread_cost=costs["spread_cost"],
        slippage_cost=costs["slippage_cost"],
        swap=float(trades["swap"].sum()),
    )


def _per_trade(trades: pd.DataFrame) -> pd.DataFrame:
    """Sum partial closes into one row per position (R weighted by the lots of each close)."""
    if trades.empty:
        return pd.DataFrame({"pnl": np.zeros(0), "r_multiple": np.zeros(0)})
    ids = trades["trade_id"].to_numpy()
    if len(np.unique(ids)) == len(ids):
        return trades[["pnl", "r_multiple"]]
    frame = pd.DataFrame(
        {
            "id": ids,
            "pnl": trades["pnl"].to_numpy(),
            "risk": (trades["pnl"] / trades["r_multiple"]).to_numpy(),
        }
    )
    grouped = frame.groupby("id", sort=True).sum()
    return pd.DataFrame({"pnl": grouped["pnl"], "r_multiple": grouped["pnl"] / grouped["risk"]})


def _cagr(
    initial: float, final: float, start: pd.Timestamp | None, end: pd.Timestamp | None
) -> float:
    if start is None or end is None or end <= start or initial <= 0:
        return math.nan
    years = (end - start).total_seconds() / (365.25 * 86_400)
    if final <= 0:
        return -1.0
    return float((final / initial) ** (1.0 / years) - 1.0)


def _max_drawdown(
    eq: np.ndarray, index: pd.DatetimeIndex, initial: float
) -> tuple[float, pd.Timedelta]:
    if len(eq) == 0:
        return 0.0, pd.Timedelta(0)
    peak = np.maximum.accumulate(np.maximum(eq, initial))
    dd = 1.0 - eq / peak
    worst = int(np.argmax(dd))
    depth = float(dd[worst])
    if depth <= 0:
        return 0.0, pd.Timedelta(0)
    ns = index.as_unit("ns").asi8
    at_peak = np.flatnonzero(eq[: worst + 1] >= peak[worst])
    peak_time = ns[at_peak[-1]] if len(at_peak) else ns[0]
    recovered = np.flatnonzero(eq[worst:] >= peak[worst])
    end_time = ns[worst + recovered[0]] if len(recovered) else ns[-1]
    return depth, pd.Timedelta(int(end_time - peak_time), unit="ns")


def _daily_ratios(eq: np.ndarray, index: pd.DatetimeIndex, initial: float) -> tuple[float, float]:
    if len(eq) < 2:
        return math.nan, math.nan
    days = fx_day_number(index)
    last_of_day = np.flatnonzero(np.r_[days[1:] != days[:-1], True])
    daily = np.r_[initial, eq[last_of_day]]
    with np.errstate(divide="ignore", invalid="ignore"):
        rets = daily[1:] / daily[:-1] - 1.0
    rets = rets[np.isfinite(rets)]
    if len(rets) < 2:
        return math.nan, math.nan
    scale = math.sqrt(TRADING_DAYS_PER_YEAR)
    mean = float(rets.mean())
    std = float(rets.std(ddof=1))
    downside = float(np.sqrt(np.mean(np.minimum(rets, 0.0) ** 2)))
    sharpe = mean / std * scale if std > 0 else math.nan
    sortino = mean / downside * scale if downside > 0 else math.nan
    return sharpe, sortino


def _sqn(values: np.ndarray) -> float:
    if len(values) < 2:
        return math.nan
    std = float(np.std(values, ddof=1))
    return float(math.sqrt(len(values)) * np.mean(values) / std) if std > 0 else math.nan


__all__ = ["TRADING_DAYS_PER_YEAR", "Metrics", "compute_metrics"]
