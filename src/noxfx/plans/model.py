"""The TradingPlan and its parts. Prices in quote currency, distances in pips, money in the
account currency, times UTC. Every number a trader acts on is here with its unit in its name."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import pandas as pd

Direction = Literal["LONG", "SHORT", "NO_TRADE"]

DISCLAIMER = (
    "Not financial advice. Probabilities are estimates from past data with the sample sizes "
    "shown; markets change and losses can exceed expectations. Risk only what you can lose."
)


@dataclass(frozen=True, slots=True)
class Quote:
    bid: float
    ask: float
    spread_pips: float

    @property
    def mid(self) -> float:
        return (self.bid + self.ask) / 2


@dataclass(frozen=True, slots=True)
class Entry:
    type: Literal["market", "limit", "stop"]
    price: float
    valid_until: pd.Timestamp


@dataclass(frozen=True, slots=True)
class StopLoss:
    price: float
    pips: float
    basis: str  # what the distance rests on: "1.5 x ATR(14)", "below support 1.0850", ...


@dataclass(frozen=True, slots=True)
class TakeProfit:
    price: float
    pips: float
    r_multiple: float
    close_fraction: float


@dataclass(frozen=True, slots=True)
class PositionPlan:
    lots: float
    units: float
    risk_amount: float
    risk_pct: float
    pip_value: float  # per standard lot, account currency
    margin: float | None
    leverage: float
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Probability:
    """P(first target before the stop) and what it rests on."""

    tp1_before_stop: float | None
    source: str  # "ml:<model version>" or "setup history"
    calibrated: bool
    cases: int  # out-of-sample cases (trades or labelled bars) behind the number
    interval_95: tuple[float, float] | None = None


@dataclass(frozen=True, slots=True)
class SetupHistory:
    """The same rule backtested on this symbol and timeframe, costs included."""

    rule: str
    trades: int
    win_rate: float | None
    profit_factor: float | None
    average_r: float | None
    net_pips: float | None
    start: pd.Timestamp | None
    end: pd.Timestamp | None
    costs: str


@dataclass(frozen=True, slots=True)
class Statement:
    """One factual reason, with its value."""

    text: str
    value: Any = None


@dataclass
class TradingPlan:
    symbol: str
    timeframe: str
    as_of: pd.Timestamp  # UTC close of the last bar used
    quote: Quote
    direction: Direction
    considered_direction: Literal["LONG", "SHORT"]
    entry: Entry
    stop: StopLoss
    targets: list[TakeProfit]
    position: PositionPlan
    probability: Probability
    break_even_win_rate: float
    expected_value_r: float | None
    expected_value_account: float | None
    #: The costs the payoffs below do not already hold, in R: commission - expected swap, plus
    #: the spread when the payoffs are the barriers' (what the break-even and the EV subtract).
    cost_r: float
    #: Expected swap in R (+ credit, - debit); None when no swap rates were given.
    swap_r: float | None
    #: Mean rollover days (Wednesday = 3) this setup's past trades were carried over.
    swap_days: float | None
    confidence_score: float
    risk_score: int
    #: Mean R of a TP1 hit and of a miss (:mod:`noxfx.plans.payoff`); from the setup's trades
    #: (spread paid) when its history gives the probability, else +1 / -1.
    payoff_win_r: float
    payoff_loss_r: float
    payoff_source: str
    rationale: list[Statement]
    history: SetupHistory | None
    invalidation: str
    warnings: list[str] = field(default_factory=list)
    missing_inputs: list[str] = field(default_factory=list)
    no_trade_reasons: list[str] = field(default_factory=list)
    account_currency: str = "USD"
    #: The rating of the plan's timeframe in the ``tradingview_ta.Analysis`` shape (as
    #: ``noxfx analyze --json`` and the API return it).
    rating: dict[str, Any] = field(default_factory=dict)
    disclaimer: str = DISCLAIMER

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["quote"]["mid"] = self.quote.mid
        return d


__all__ = [
    "DISCLAIMER",
    "Direction",
    "Entry",
    "PositionPlan",
    "Probability",
    "Quote",
    "SetupHistory",
    "Statement",
    "StopLoss",
    "TakeProfit",
    "TradingPlan",
]
