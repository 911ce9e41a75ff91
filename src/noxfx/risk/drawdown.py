"""Drawdown protection: risk multipliers as drawdown deepens, a halt at a maximum drawdown, a
daily loss limit and a cool-down after consecutive losses.

The state is an input of every plan and sizing call (pure functions; whoever keeps the account
keeps the state). Percentages are of the equity peak (drawdown) or of the day's opening equity
(daily loss).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class DrawdownRules:
    """Defaults: 5 % drawdown -> risk x0.75, 10 % -> x0.5, halt at 15 %; daily loss limit 3 %;
    after 4 losses in a row, pause for 24 hours."""

    steps: tuple[tuple[float, float], ...] = ((5.0, 0.75), (10.0, 0.5))
    halt_pct: float = 15.0
    daily_loss_limit_pct: float = 3.0
    max_consecutive_losses: int = 4
    cooldown_hours: float = 24.0


@dataclass(frozen=True, slots=True)
class AccountState:
    """What the protection needs to know about the account now."""

    equity: float
    peak_equity: float
    day_start_equity: float | None = None
    consecutive_losses: int = 0
    hours_since_last_loss: float | None = None


@dataclass(frozen=True, slots=True)
class Protection:
    """The verdict: may a new trade be opened, and with what risk multiplier."""

    allowed: bool
    multiplier: float
    drawdown_pct: float
    reasons: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def protection(state: AccountState, rules: DrawdownRules | None = None) -> Protection:
    """Apply ``rules`` to ``state``."""
    r = rules or DrawdownRules()
    peak = max(state.peak_equity, state.equity)
    dd = 100.0 * (peak - state.equity) / peak if peak > 0 else 0.0
    reasons: list[str] = []
    if dd >= r.halt_pct:
        return Protection(False, 0.0, dd, [f"halted: drawdown {dd:.1f} % >= {r.halt_pct:g} %"])
    multiplier = 1.0
    for threshold, mult in sorted(r.steps):
        if dd >= threshold:
            multiplier = mult
    if multiplier < 1.0:
        reasons.append(f"drawdown {dd:.1f} %: risk x{multiplier:g}")
    if state.day_start_equity:
        day_loss = 100.0 * (state.day_start_equity - state.equity) / state.day_start_equity
        if day_loss >= r.daily_loss_limit_pct:
            reasons.append(f"daily loss {day_loss:.1f} % >= {r.daily_loss_limit_pct:g} %: "
                           "no new trades today")  # fmt: skip
            return Protection(False, 0.0, dd, reasons)
    if state.consecutive_losses >= r.max_consecutive_losses:
        since = state.hours_since_last_loss
        if since is None or since < r.cooldown_hours:
            reasons.append(f"{state.consecutive_losses} losses in a row: cooling down for "
                           f"{r.cooldown_hours:g} h")  # fmt: skip
            return Protection(False, 0.0, dd, reasons)
    return Protection(True, multiplier, dd, reasons)


__all__ = ["AccountState", "DrawdownRules", "Protection", "protection"]
