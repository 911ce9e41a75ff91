"""Position sizing with lot steps, minimum lot and margin checks.

Units: ``balance`` and amounts in the account currency; ``risk_pct`` in percent (1.0 = 1 %);
``stop_pips`` in pips of the instrument; ``pip_value`` per standard lot in the account currency
(see :mod:`noxfx.risk.conversion`); lots are standard lots (1 lot = contract size units).

Sizes are always rounded **down** to the lot step, so the risk taken never exceeds the budget; a
size below the minimum lot is zero (with a reason), never rounded up into more risk.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from noxfx.errors import InvalidInput


@dataclass(frozen=True, slots=True)
class LotRules:
    """Broker lot rules: step 0.01 (micro lots), minimum 0.01, maximum 100 lots."""

    step: float = 0.01
    minimum: float = 0.01
    maximum: float = 100.0


@dataclass(frozen=True, slots=True)
class PositionSize:
    """A sized position and what it risks."""

    method: str
    lots: float
    units: float
    risk_amount: float  # account currency lost if the stop is hit (before costs)
    risk_pct: float  # of the balance, in percent
    pip_value: float  # per lot, account currency
    stop_pips: float
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def round_lots(lots: float, rules: LotRules) -> float:
    """Round down to the lot step; below the minimum -> 0; capped at the maximum."""
    if not math.isfinite(lots) or lots <= 0:
        return 0.0
    stepped = math.floor(lots / rules.step + 1e-9) * rules.step
    stepped = round(min(stepped, rules.maximum), 8)
    return stepped if stepped >= rules.minimum - 1e-12 else 0.0


def _check(balance: float, stop_pips: float, pip_value: float) -> None:
    if balance <= 0:
        raise InvalidInput(f"Balance must be positive, got {balance}.")
    if stop_pips <= 0:
        raise InvalidInput(f"The stop distance must be positive, got {stop_pips} pips.")
    if pip_value <= 0:
        raise InvalidInput(f"The pip value must be positive, got {pip_value}.")


def _sized(
    method: str, lots_raw: float, balance: float, stop_pips: float, pip_value: float,
    contract_size: float, rules: LotRules, notes: list[str],
) -> PositionSize:  # fmt: skip
    lots = round_lots(lots_raw, rules)
    if lots == 0.0 and lots_raw > 0:
        notes.append(f"{lots_raw:.4f} lots is below the minimum {rules.minimum}: no position")
    if lots_raw > rules.maximum:
        notes.append(f"capped at the maximum of {rules.maximum} lots")
    risk = lots * stop_pips * pip_value
    return PositionSize(
        method=method, lots=lots, units=lots * contract_size, risk_amount=risk,
        risk_pct=100.0 * risk / balance, pip_value=pip_value, stop_pips=stop_pips, notes=notes,
    )  # fmt: skip


def fixed_fractional(
    balance: float,
    risk_pct: float,
    stop_pips: float,
    pip_value: float,
    *,
    contract_size: float = 100_000.0,
    rules: LotRules | None = None,
    multiplier: float = 1.0,
) -> PositionSize:
    """Risk ``risk_pct`` % of ``balance`` (times a drawdown ``multiplier``) over the stop:
    lots = risk_amount / (stop_pips x pip_value)."""
    _check(balance, stop_pips, pip_value)
    if not 0 < risk_pct <= 100:
        raise InvalidInput(f"Risk must be in (0, 100] percent, got {risk_pct}.")
    budget = balance * risk_pct / 100.0 * multiplier
    notes = [] if multiplier == 1.0 else [f"risk scaled x{multiplier:g} by drawdown protection"]
    lots = budget / (stop_pips * pip_value)
    return _sized("fixed_fractional", lots, balance, stop_pips, pip_value, contract_size,
                  rules or LotRules(), notes)  # fmt: skip


def kelly_fraction(win_probability: float, reward_risk: float) -> float:
    """Full Kelly fraction of capital to risk: p - (1 - p) / R (may be negative: no bet)."""
    if not 0 <= win_probability <= 1 or reward_risk <= 0:
        raise InvalidInput("Kelly needs a probability in [0, 1] and a positive reward:risk.")
    return win_probability - (1 - win_probability) / reward_risk


def kelly(
    balance: float,
    win_probability: float,
    reward_risk: float,
    stop_pips: float,
    pip_value: float,
    *,
    fraction: float = 0.25,
    cap_pct: float = 2.0,
    contract_size: float = 100_000.0,
    rules: LotRules | None = None,
) -> PositionSize:
    """Fractional Kelly (default a quarter) capped at ``cap_pct`` % risk; no edge -> 0 lots."""
    _check(balance, stop_pips, pip_value)
    full = kelly_fraction(win_probability, reward_risk)
    notes = [f"full Kelly {full * 100:.2f} % of balance, using {fraction:g} of it"]
    risk_pct = max(0.0, full * fraction * 100.0)
    if risk_pct > cap_pct:
        notes.append(f"capped at {cap_pct:g} %")
        risk_pct = cap_pct
    if risk_pct == 0.0:
        notes.append("no positive edge: no position")
    lots = balance * risk_pct / 100.0 / (stop_pips * pip_value)
    return _sized("kelly", lots, balance, stop_pips, pip_value, contract_size,
                  rules or LotRules(), notes)  # fmt: skip


def volatility_target(
    balance: float,
    target_daily_vol_pct: float,
    daily_atr_pips: float,
    stop_pips: float,
    pip_value: float,
    *,
    contract_size: float = 100_000.0,
    rules: LotRules | None = None,
) -> PositionSize:
    """Size so that one daily ATR move is ``target_daily_vol_pct`` % of the balance."""
    _check(balance, stop_pips, pip_value)
    if daily_atr_pips <= 0 or target_daily_vol_pct <= 0:
        raise InvalidInput("Volatility targeting needs a positive ATR and target.")
    lots = balance * target_daily_vol_pct / 100.0 / (daily_atr_pips * pip_value)
    return _sized("volatility_target", lots, balance, stop_pips, pip_value, contract_size,
                  rules or LotRules(), [f"1 daily ATR = {daily_atr_pips:g} pips"])  # fmt: skip


def risk_parity_weights(volatilities: Mapping[str, float]) -> dict[str, float]:
    """Inverse-volatility weights summing to 1 (each symbol contributes equal volatility)."""
    inv = {s: 1.0 / v for s, v in volatilities.items() if v > 0}
    if not inv:
        raise InvalidInput("Risk parity needs at least one positive volatility.")
    total = sum(inv.values())
    return {s: w / total for s, w in inv.items()}


def risk_parity(
    balance: float,
    risk_pct: float,
    legs: Sequence[tuple[str, float, float, float]],
    *,
    rules: LotRules | None = None,
) -> dict[str, PositionSize]:
    """Split a total risk budget across legs ``(symbol, volatility, stop_pips, pip_value)`` by
    inverse volatility, then size each leg with :func:`fixed_fractional`."""
    weights = risk_parity_weights({s: v for s, v, _, _ in legs})
    out = {}
    for symbol, _, stop, pv in legs:
        if symbol in weights:
            out[symbol] = fixed_fractional(balance, risk_pct * weights[symbol], stop, pv,
                                           rules=rules)  # fmt: skip
    return out


__all__ = [
    "LotRules",
    "PositionSize",
    "fixed_fractional",
    "kelly",
    "kelly_fraction",
    "risk_parity",
    "risk_parity_weights",
    "round_lots",
    "volatility_target",
]
