"""The setup's own history: the plan's rule traded on past bars with the backtest engine, costs
included, giving (a) the track record shown in the plan and (b) the probability that the first
target (1R) is hit before the stop, per direction, with the number of past trades behind it.

The rule has no fitted parameters (fixed thresholds per risk tolerance), so these figures are
not in-sample optimisation results; they are still history, and the plan says so. Trades enter
at the next bar's open after a fresh signal, at the ask for longs and the bid for shorts.

It also measures how many rollover (swap) days such a trade is carried over on average, per
direction (the Wednesday rollover counts three), so the plan can put the trader's swap rates
into its expected value. Swap rates are per broker; the history itself includes the spread only.

Per direction it also gives the payoffs (:mod:`noxfx.plans.payoff`): the mean R of the trades
that hit TP1 and of those that did not, spread paid, so the plan's expected value is what such
trades returned rather than the barriers' +1R / -1R with the spread charged a second time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from noxfx.errors import InsufficientData
from noxfx.instruments import Instrument
from noxfx.plans.model import SetupHistory
from noxfx.plans.payoff import Payoff, payoff_from_trades, trade_r
from noxfx.plans.setup import TARGET_FRACTIONS, TARGET_R, SetupParams

#: Close a trade still open after this many bars (the plan's horizon).
HORIZON_BARS = 48
#: Fewer past trades than this and no probability is given.
MIN_TRADES = 30


@dataclass(frozen=True, slots=True)
class SideHistory:
    """One direction of the setup's TP1-or-stop trades."""

    #: P(TP1 before stop): the share of trades that hit TP1; None below :data:`MIN_TRADES`.
    p_tp1: float | None
    cases: int
    #: Mean rollover days (Wednesday = 3) a trade was carried over.
    nights: float
    #: Mean R of hits and misses (spread paid); None without both.
    payoff: Payoff | None


def _entries(flag: pd.Series) -> pd.Series:
    """A fresh signal: true now, false on the bar before."""
    f = flag.fillna(False).astype(bool)
    return f & ~f.shift(1, fill_value=False)


def setup_history(
    bars: pd.DataFrame,
    signals: pd.DataFrame,
    params: SetupParams,
    inst: Instrument,
    spread_pips: float,
) -> tuple[SetupHistory, dict[str, SideHistory]]:
    """Backtest the setup on ``bars`` (all before the plan's time) and estimate P(TP1 first).

    Returns (the track record, side -> its TP1-or-stop trades' :class:`SideHistory`; a side
    without trades is absent).
    """
    from noxfx.backtest.config import BacktestConfig, Distance, Signals, Target
    from noxfx.backtest.engine import simulate

    long_entry, short_entry = _entries(signals["long"]), _entries(signals["short"])
    if int(long_entry.sum() + short_entry.sum()) < MIN_TRADES:
        raise InsufficientData(
            f"only {int(long_entry.sum() + short_entry.sum())} past signals (need {MIN_TRADES})"
        )
    sig = Signals(long_entry=long_entry, short_entry=short_entry)
    k = params.stop_atr
    common = dict(
        symbol=inst.symbol, spread_pips=spread_pips, use_spread_column=False,
        stop_loss=Distance.atr(k), max_bars_in_trade=HORIZON_BARS, risk_percent=1.0,
        conversion_rate=1.0,
    )  # fmt: skip
    full = simulate(
        bars, sig,
        BacktestConfig(
            **common,  # type: ignore[arg-type]
            partial_targets=tuple(Target(Distance.atr(k * r), f)
                                  for r, f in zip(TARGET_R[:-1], TARGET_FRACTIONS[:-1],
                                                  strict=True)),
            take_profit=Distance.atr(k * TARGET_R[-1]),
        ),
    )  # fmt: skip
    # a swap of -1 (account currency) per lot per night makes each trade's swap count its days
    first = simulate(bars, sig, BacktestConfig(**common, take_profit=Distance.atr(k),  # type: ignore[arg-type]
                                               swap_long=-1.0, swap_short=-1.0))  # fmt: skip
    trades = full.trades.assign(
        r_lots=lambda t: t["r_multiple"] * t["lots"], pip_lots=lambda t: t["pnl_pips"] * t["lots"]
    )
    # a position closes in parts (50/30/20 %): its R and pips are the lot-weighted means
    g = trades.groupby("trade_id")
    lots = g["lots"].sum()
    per_trade = pd.DataFrame({"r": g["r_lots"].sum() / lots, "pips": g["pip_lots"].sum() / lots})
    # R-multiples and pips do not depend on the account currency (the run values every pair's
    # quote currency at 1.0): win rate, profit factor and average R come from them
    wins, losses = per_trade["r"][per_trade["r"] > 0], per_trade["r"][per_trade["r"] < 0]
    history = SetupHistory(
        rule=params.describe(),
        trades=len(per_trade),
        win_rate=float((per_trade["r"] > 0).mean()) if len(per_trade) else None,
        profit_factor=float(wins.sum() / -losses.sum()) if len(losses) and losses.sum() else None,
        average_r=float(per_trade["r"].mean()) if len(per_trade) else None,
        net_pips=float(per_trade["pips"].sum()),
        start=bars.index[0],
        end=bars.index[-1],
        costs=f"spread {spread_pips:g} pips per trade (entries at the ask / exits at the bid); "
        "no commission or swap (broker-specific)",
    )
    sides: dict[str, SideHistory] = {}
    ft = first.trades
    for side in ("long", "short"):
        t = ft[ft["direction"] == side]
        if not len(t):
            continue
        hit = np.asarray(t["exit_reason"].astype(str).str.startswith("take_profit"))
        r = trade_r(t["pnl_pips"].to_numpy(), t["entry_price"].to_numpy(),
                    t["stop_price"].to_numpy(), inst.pip_size)  # fmt: skip
        sides[side] = SideHistory(
            p_tp1=float(hit.mean()) if len(t) >= MIN_TRADES else None, cases=len(t),
            nights=float((-t["swap"] / t["lots"]).mean()), payoff=payoff_from_trades(r, hit),
        )  # fmt: skip
    return history, sides


__all__ = ["HORIZON_BARS", "MIN_TRADES", "SideHistory", "setup_history"]
