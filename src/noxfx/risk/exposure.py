"""Portfolio exposure per currency, correlation, and VaR / CVaR.

A position is ``(symbol, units)`` with units of base currency, positive long, negative short.
Long 1 lot EURUSD is +100,000 EUR and -(100,000 x price) USD. Exposures are netted per currency
and valued in the account currency, so long EURUSD + long EURGBP shows EUR twice.

Returns are simple returns of close prices per bar; VaR and CVaR are reported as positive losses
in the account currency at confidence ``level`` (0.95 = 95 %).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from noxfx.errors import InsufficientData, InvalidInput
from noxfx.instruments import get_instrument
from noxfx.risk.conversion import conversion_rate


@dataclass(frozen=True, slots=True)
class Position:
    """An open position: units of the base currency (+ long, - short)."""

    symbol: str
    units: float


def currency_exposure(
    positions: Sequence[Position], prices: Mapping[str, float], account: str = "USD"
) -> dict[str, float]:
    """Net exposure per currency, valued in ``account`` (long > 0, short < 0)."""
    net: dict[str, float] = {}
    for p in positions:
        inst = get_instrument(p.symbol)
        price = prices.get(inst.symbol)
        if not price:
            raise InsufficientData(f"Need the {inst.symbol} price to value the position.")
        net[inst.base] = net.get(inst.base, 0.0) + p.units
        net[inst.quote] = net.get(inst.quote, 0.0) - p.units * float(price)
    return {
        ccy: amount * conversion_rate(ccy, account, prices) for ccy, amount in net.items() if amount
    }


def correlation_matrix(closes: Mapping[str, pd.Series], min_overlap: int = 30) -> pd.DataFrame:
    """Pearson correlation of the symbols' bar returns over their common bars."""
    frame = pd.DataFrame({s: c for s, c in closes.items()}).dropna()
    if len(frame) < min_overlap:
        raise InsufficientData(f"Only {len(frame)} common bars; correlation needs {min_overlap}.")
    return frame.pct_change().dropna().corr()


@dataclass(frozen=True, slots=True)
class RiskOfLoss:
    """Value at risk and expected shortfall, positive amounts in the account currency."""

    method: str
    level: float
    var: float
    cvar: float
    observations: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _pnl_series(positions: Sequence[Position], closes: Mapping[str, pd.Series],
                account: str) -> np.ndarray:  # fmt: skip
    """Per-bar P&L of holding ``positions`` over history, in the account currency (approx.:
    each leg's quote P&L converted at the last price)."""
    legs = []
    for p in positions:
        inst = get_instrument(p.symbol)
        if inst.symbol not in closes:
            raise InsufficientData(f"No price history for {inst.symbol}.")
        c = closes[inst.symbol]
        last = {inst.symbol: float(c.iloc[-1])}
        rate = conversion_rate(inst.quote, account, {**{s: float(v.iloc[-1]) for s, v in
                                                        closes.items()}, **last})  # fmt: skip
        legs.append((c.diff() * p.units * rate).rename(inst.symbol))
    frame = pd.concat(legs, axis=1).dropna()
    return np.asarray(frame.sum(axis=1).to_numpy(dtype=np.float64))


def value_at_risk(
    positions: Sequence[Position],
    closes: Mapping[str, pd.Series],
    *,
    account: str = "USD",
    level: float = 0.95,
    method: str = "historical",
) -> RiskOfLoss:
    """One-bar VaR/CVaR of the portfolio: ``historical`` (empirical quantile) or
    ``parametric`` (normal with the sample mean and standard deviation)."""
    if not 0.5 < level < 1:
        raise InvalidInput(f"Confidence level must be in (0.5, 1), got {level}.")
    pnl = _pnl_series(positions, closes, account)
    if len(pnl) < 30:
        raise InsufficientData(f"VaR needs at least 30 bars of history, got {len(pnl)}.")
    if method == "historical":
        q = float(np.quantile(pnl, 1 - level))
        tail = pnl[pnl <= q]
        var, cvar = -q, -float(tail.mean())
    elif method == "parametric":
        from statistics import NormalDist

        mu, sigma = float(pnl.mean()), float(pnl.std(ddof=1))
        z = NormalDist().inv_cdf(1 - level)
        var = -(mu + z * sigma)
        cvar = -(mu - sigma * NormalDist().pdf(z) / (1 - level))
    else:
        raise InvalidInput(f"Unknown VaR method {method!r}: use historical or parametric.")
    return RiskOfLoss(method, level, max(var, 0.0), max(cvar, 0.0), len(pnl))


def correlated_exposure_warnings(
    new_symbol: str,
    direction: int,
    open_positions: Sequence[Position],
    correlations: pd.DataFrame,
    threshold: float = 0.7,
) -> list[str]:
    """Warnings when a new trade (direction +1 long / -1 short) adds to correlated risk."""
    out = []
    new = get_instrument(new_symbol).symbol
    for p in open_positions:
        sym = get_instrument(p.symbol).symbol
        if sym == new or new not in correlations or sym not in correlations:
            continue
        rho = float(correlations.at[new, sym])  # type: ignore[arg-type]
        same_way = np.sign(rho) * direction * np.sign(p.units) > 0
        if abs(rho) >= threshold and same_way:
            out.append(f"{new} moves with the open {sym} position (correlation {rho:+.2f}): "
                       f"the risk adds up")  # fmt: skip
    return out


__all__ = [
    "Position",
    "RiskOfLoss",
    "correlated_exposure_warnings",
    "correlation_matrix",
    "currency_exposure",
    "value_at_risk",
]
