"""What to simulate: :class:`BacktestConfig` (account, costs, sizing, exit rules) and
:class:`Signals` (what the strategy wants per bar), with :class:`Distance` / :class:`Target` for
stops and targets in forex units.

Units: prices in quote currency per unit of base (bid, as the bars), distances in pips / price
units / percent of price / ATR multiples, sizes in lots (1 lot = the instrument's contract size,
100,000 units of base for FX), money in the account currency.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from noxfx.errors import InvalidInput
from noxfx.instruments import Instrument, get_instrument

#: A per-bar array (NumPy / list) or a Series on the bars' index.
ArrayOrSeries = npt.ArrayLike | pd.Series


@dataclass(frozen=True, slots=True)
class Distance:
    """A distance from the entry fill, in one of four units.

    ``Distance.pips(20)`` (20 pips), ``Distance.price(0.0020)`` (price units),
    ``Distance.percent(0.2)`` (0.2 % of the entry price, taken as the bid open of the fill bar:
    the bar after the signal), ``Distance.atr(1.5, period=14)`` (1.5 x the ATR(14) of the bid
    bars at the signal bar). Distances are fixed at entry.
    """

    unit: Literal["pips", "price", "percent", "atr"]
    value: float
    atr_period: int = 14

    @classmethod
    def pips(cls, value: float) -> Distance:
        return cls("pips", float(value))

    @classmethod
    def price(cls, value: float) -> Distance:
        return cls("price", float(value))

    @classmethod
    def percent(cls, value: float) -> Distance:
        return cls("percent", float(value))

    @classmethod
    def atr(cls, multiple: float, period: int = 14) -> Distance:
        return cls("atr", float(multiple), int(period))

    def to_price(
        self,
        open_: npt.NDArray[np.float64],
        high: npt.NDArray[np.float64],
        low: npt.NDArray[np.float64],
        close: npt.NDArray[np.float64],
        instrument: Instrument,
    ) -> npt.NDArray[np.float64]:
        """The distance in price units for an entry signalled on each bar (NaN: undefined).

        ``open_``/``high``/``low``/``close`` are the bid bars (float64); only ``percent`` and
        ``atr`` use them.
        """
        if not self.value > 0:
            raise InvalidInput(f"A {self.unit} distance must be positive, got {self.value}.")
        n = len(close)
        if self.unit == "pips":
            return np.full(n, self.value * instrument.pip_size)
        if self.unit == "price":
            return np.full(n, self.value)
        if self.unit == "percent":
            out = np.empty(n)  # an entry fills at the next bar's open
            np.multiply(open_[1:], self.value / 100.0, out=out[:-1])
            out[-1] = close[-1] * (self.value / 100.0)
            return out
        if self.unit == "atr":
            import talib

            return talib.ATR(high, low, close, timeperiod=self.atr_period) * self.value
        raise InvalidInput(f"Unknown distance unit {self.unit!r} (pips, price, percent, atr).")


@dataclass(frozen=True, slots=True)
class Target:
    """A take-profit level: ``Target(Distance.pips(10), close_fraction=0.5)`` closes half the
    initial lots 10 pips from the fill (rounded down to the lot step; a level whose share is
    below the minimum lot passes without closing, and a remainder below it is closed whole)."""

    distance: Distance
    close_fraction: float = 1.0


@dataclass(frozen=True, slots=True, kw_only=True)
class BacktestConfig:
    """How to simulate: instrument, account, costs, sizing and exit rules.

    Defaults give a retail USD account of 10,000 trading 0.1 lot with the instrument's typical
    spread and no other cost. Example for an ECN account risking 1 % per trade::

        BacktestConfig(symbol="EURUSD", spread_pips=0.2, commission_per_lot=3.5,
                       risk_percent=1.0, stop_loss=Distance.atr(1.5),
                       take_profit=Distance.atr(3.0), swap_long=-6.5, swap_short=1.2)
    """

    symbol: str = "EURUSD"
    #: Account currency; P&L, commission and swap are in it.
    account_currency: str = "USD"
    #: Starting balance in account currency.
    initial_balance: float = 10_000.0
    #: Fixed size per trade in lots (1 lot = ``contract_size`` units, 100,000 for FX), used when
    #: ``risk_percent`` is None. 0.1 = a mini lot.
    lots: float = 0.1
    #: Size each trade to lose this % of the balance at its stop (1.0 = 1 %), rounded down to
    #: ``lot_step``; entries without a stop, or sized below ``min_lot``, are skipped.
    risk_percent: float | None = None
    lot_step: float = 0.01
    min_lot: float = 0.01
    max_lots: float = 100.0
    #: Fixed spread in pips (0.8 for EURUSD retail, 0.1-0.3 raw ECN). None: the instrument's
    #: ``typical_spread_pips``. Ignored when the bars have a ``spread`` column (MetaTrader points)
    #: and ``use_spread_column`` is True.
    spread_pips: float | None = None
    use_spread_column: bool = True
    #: Commission per lot per side in account currency (3.5 USD at a typical ECN = 7 per round
    #: turn per lot).
    commission_per_lot: float = 0.0
    #: Slippage in pips against the trader on market orders and stop fills (0.1-0.5 is common).
    slippage_pips: float = 0.0
    #: Swap per lot per night for longs / shorts (+ credit, - debit), in ``swap_unit``:
    #: "account" (account currency, e.g. -6.9 USD) or "points" (MetaTrader points, 1/10 pip
    #: for FX, e.g. -5.2 points).
    swap_long: float = 0.0
    swap_short: float = 0.0
    swap_unit: Literal["account", "points"] = "account"
    #: New York weekday whose rollover is charged 3 days: 2 = Wednesday (FX).
    triple_swap_weekday: int = 2
    #: Exit rules, fixed at entry. Per-entry distances in :class:`Signals` take precedence.
    stop_loss: Distance | None = None
    take_profit: Distance | None = None
    #: Earlier take-profit levels (TP1, TP2 ...) with the share of the initial lots each closes;
    #: ``take_profit`` (if set) is the last level and closes what is left.
    partial_targets: tuple[Target, ...] = ()
    #: Trailing stop distance from the best bid (longs) / ask (shorts) since entry, moved at the
    #: end of each bar (each fine bar when ``fine_bars`` are given).
    trailing_stop: Distance | None = None
    #: Move the stop to the entry (+ ``breakeven_offset_pips``) once price moved this far in
    #: favour, or after the first partial target when ``breakeven_after_first_target``.
    breakeven_trigger: Distance | None = None
    breakeven_offset_pips: float = 0.0
    breakeven_after_first_target: bool = False
    #: Close at the open after this many bars in the trade (None: never).
    max_bars_in_trade: int | None = None
    #: Close a position still open at the last bar's close (exit reason "end_of_data").
    close_at_end: bool = True
    #: Quote -> account rate when neither currency of the pair is the account currency and no
    #: ``conversion`` series is passed to :func:`simulate` (EURGBP on USD: about 1.27, GBPUSD).
    conversion_rate: float | None = None

    @property
    def instrument(self) -> Instrument:
        return get_instrument(self.symbol)


@dataclass(frozen=True, slots=True)
class Signals:
    """What the strategy wants, per bar (acted on at the next bar's open).

    Each array is bool (or 0/1), one value per bar, or a Series on the bars' index (missing bars
    are False). ``long_entry`` while short reverses; an entry and an exit of the same direction
    on one bar is no entry; long and short entries on one bar cancel. ``stop_distance`` and
    ``target_distance`` (price units, per signal bar, NaN = use the config) override the config's
    ``stop_loss`` / final ``take_profit`` for that entry: e.g. the distance to a swing low.
    """

    long_entry: ArrayOrSeries | None = None
    short_entry: ArrayOrSeries | None = None
    long_exit: ArrayOrSeries | None = None
    short_exit: ArrayOrSeries | None = None
    stop_distance: ArrayOrSeries | None = None
    target_distance: ArrayOrSeries | None = None

    @classmethod
    def from_direction(cls, direction: ArrayOrSeries) -> Signals:
        """Signals from a desired direction per bar (+1 long, -1 short, 0 flat): an entry where
        it changes to +1/-1, an exit where it leaves it."""
        series = direction if isinstance(direction, pd.Series) else None
        d = np.sign(np.nan_to_num(np.asarray(direction, dtype=np.float64)))
        prev = np.r_[0.0, d[:-1]]
        arrays = {
            "long_entry": (d > 0) & (prev <= 0),
            "short_entry": (d < 0) & (prev >= 0),
            "long_exit": (d <= 0) & (prev > 0),
            "short_exit": (d >= 0) & (prev < 0),
        }
        if series is not None:
            return cls(**{k: pd.Series(v, index=series.index) for k, v in arrays.items()})
        return cls(**arrays)


__all__ = ["ArrayOrSeries", "BacktestConfig", "Distance", "Signals", "Target"]
