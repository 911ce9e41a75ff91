"""A plan's expected value and break-even from what its setup's trades actually returned.

P(TP1 before stop) from the setup history comes from trades that already paid the spread: longs
fill at the ask and exit at the bid, so a hit needed the bid to travel the spread further and
a miss lost at the bid. Charging the spread again on top of that probability counts it twice.
Instead the payoffs come from the same trades:

* ``win_r``: mean R of the trades that hit TP1 (1R by construction, to the rounding of levels);
* ``loss_r``: mean R of the others (the stop at about -1R, and time exits at the 48-bar horizon
  somewhere in between), negative;
* ``extra_cost_r``: only the costs those trades did not pay (commission, minus the expected
  swap), in R.

Then, for a probability ``p`` of a hit::

    EV = p * win_r + (1 - p) * loss_r - extra_cost_r
    break-even p* = (loss_r_abs + extra_cost_r) / (win_r - loss_r)

With ``p`` the history's own hit rate, EV is exactly the mean R of the history's trades minus
the extra costs (``tests/plans/test_payoff.py`` recomputes it from the trade list). When no
history backs the payoffs (or ``p`` comes from a model whose labels are mid prices) the payoffs
are the barriers' own (+1R / -1R) and every cost, the spread included, is in ``extra_cost_r``.

R is the price move over the stop distance, so payoffs do not depend on the account currency.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True)
class Payoff:
    """Mean R of a hit and of a miss, and where they come from."""

    win_r: float
    loss_r: float
    #: "setup history (n trades)" or "barriers (+1R / -1R)".
    source: str
    #: Whether the spread is inside the payoffs (history fills) or must be charged on top.
    spread_included: bool

    def expected_value_r(self, p: float, extra_cost_r: float) -> float:
        """EV in R of a trade hitting TP1 with probability ``p``, after ``extra_cost_r``."""
        return p * self.win_r + (1.0 - p) * self.loss_r - extra_cost_r

    def break_even(self, extra_cost_r: float) -> float:
        """The hit probability at which EV is zero."""
        return (extra_cost_r - self.loss_r) / (self.win_r - self.loss_r)


#: The barriers' own payoffs, for a probability that no trade history backs.
BARRIERS = Payoff(win_r=1.0, loss_r=-1.0, source="barriers (+1R / -1R)", spread_included=False)


def payoff_from_trades(r: np.ndarray, hit: np.ndarray) -> Payoff | None:
    """The payoffs of trades with R-multiples ``r`` (price move / stop distance, spread paid)
    and TP1 flags ``hit``; None when the trades hold no hit or no miss."""
    r, hit = np.asarray(r, dtype=np.float64), np.asarray(hit, dtype=bool)
    if not hit.any() or hit.all():
        return None
    return Payoff(float(r[hit].mean()), float(r[~hit].mean()),
                  f"setup history ({len(r)} trades)", spread_included=True)  # fmt: skip


def trade_r(
    pnl_pips: np.ndarray, entry: np.ndarray, stop: np.ndarray, pip_size: float
) -> np.ndarray:
    """R-multiple of closed trades from their pips (exit - entry, signed, spread paid) and the
    initial stop distance, with no commission or swap in it."""
    stop_pips = np.abs(np.asarray(entry, dtype=np.float64) - np.asarray(stop, dtype=np.float64))
    return np.asarray(pnl_pips, dtype=np.float64) / (stop_pips / pip_size)


__all__ = ["BARRIERS", "Payoff", "payoff_from_trades", "trade_r"]
