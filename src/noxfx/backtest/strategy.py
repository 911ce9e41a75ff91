"""Trading strategies: declarative (YAML/JSON with formula-language rules) or Python.

A strategy turns bars and parameter values into :class:`~noxfx.backtest.config.Signals` and
exit rules for :func:`~noxfx.backtest.simulate`::

    from noxfx.backtest.strategy_spec import load_strategy

    strategy = load_strategy("sma_cross")               # a shipped template, or a file path
    result = strategy.backtest(bars, {"fast": 10, "slow": 30},
                               BacktestConfig(symbol="EURUSD", risk_percent=1.0))

A declarative strategy (:class:`~noxfx.backtest.formula_strategy.FormulaStrategy`; see
``templates/*.yaml`` and :mod:`noxfx.backtest.strategy_spec` for every key)::

    name: ema_cross
    parameters:
      fast: {default: 12, min: 2, max: 100, step: 1}
      slow: {default: 26, min: 5, max: 300, step: 1}
    constraints: ["fast < slow"]
    entry_long: cross_over(ema(close, fast), ema(close, slow))
    entry_short: cross_under(ema(close, fast), ema(close, slow))
    exits:
      stop: {atr: 2.0, period: 14}
      target: {r: 2}                 # 2 x the stop
      trailing_stop: {atr: 3.0}
      break_even: {r: 1, offset_pips: 0.5}
      time_exit: {bars: 120}
    filters: {sessions: [london, new_york], days: [mon, tue, wed, thu]}

Rules are formula-language conditions (:mod:`noxfx.analysis.formula`); parameters are bound
as named constants in front of them (``fast = 12; slow = 26; <rule>``), so a rule reads its
parameters by name and nothing is pasted into the text. Rules are acted on at the next bar's
open. Exit amounts are numbers or constant expressions of parameters (``stop_atr * 1.5``).

Layout: this module holds the model (:class:`Parameter`, :class:`Amount`, :class:`Exits`,
:class:`Filters`) and the :class:`Strategy` base; :mod:`~noxfx.backtest.formula_strategy` the
declarative kind, :mod:`~noxfx.backtest.strategy_spec` file parsing and the templates,
:mod:`~noxfx.backtest.breakout` the session range breakout, :mod:`~noxfx.backtest.sessions` the
time filters.

A Python strategy subclasses :class:`Strategy` and implements :meth:`Strategy.signals`; exits,
filters and direction then work as for a declarative one::

    class Momentum(Strategy):
        name = "momentum"
        parameters = {"period": Parameter("period", 20, 5, 100, 5)}
        exits = Exits(stop=Amount("atr", 2.0), targets=(TargetLevel(Amount("r", 2.0)),))

        def signals(self, bars, params):
            change = bars["close"].pct_change(int(params["period"]))
            return Signals.from_direction(np.sign(change))
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import numpy as np
import pandas as pd

from noxfx.backtest.config import BacktestConfig, Distance, Signals, Target
from noxfx.backtest.parameters import (
    Parameter,
    Params,
    constant_value,
    constraint_holds,
    format_number,
    param_prefix,
)
from noxfx.backtest.sessions import fill_times, session_mask, weekday_mask
from noxfx.errors import InvalidInput

if TYPE_CHECKING:
    from noxfx.backtest.engine import BacktestResult

Direction = Literal["both", "long", "short"]
Unit = Literal["pips", "price", "percent", "atr", "r"]
UNITS: tuple[str, ...] = ("pips", "price", "percent", "atr", "r")


@dataclass(frozen=True, slots=True)
class Amount:
    """An exit distance: ``value`` in ``unit`` (pips, price, percent of the fill, ATR
    multiples of ``period`` bars, or R = multiples of the stop). ``value`` is a number or a
    constant expression of parameters (``"stop_atr"``, ``"2 * stop_atr"``)."""

    unit: Unit
    value: float | str
    period: int = 14

    def resolve(self, params: Mapping[str, int | float], field_name: str = "exits") -> float:
        """The value for these parameters (must be positive)."""
        value = constant_value(self.value, params, field_name)
        if not value > 0:
            raise InvalidInput(
                f"{field_name}: the {self.unit} amount must be positive, got {value}."
            )
        return value

    def describe(self) -> str:
        text = f"{self.value} {'R' if self.unit == 'r' else self.unit}"
        return f"{text} ({self.period})" if self.unit == "atr" else text


@dataclass(frozen=True, slots=True)
class TargetLevel:
    """A take-profit level closing ``close_fraction`` of the initial lots (1.0: what is left)."""

    amount: Amount
    close_fraction: float = 1.0


@dataclass(frozen=True, slots=True)
class Exits:
    """How positions are closed (all optional).

    ``stop`` (not in R), ``targets`` (the last closes what is left; earlier ones are partial
    closes), ``trailing_stop`` and ``break_even`` (the move trigger; the stop goes to entry +
    ``break_even_offset_pips``), ``time_exit_bars`` (close at the open after this many bars; a
    number or parameter expression), ``opposite_signal`` (the opposite entry rule closes the
    position; with both directions it always reverses), ``session_end`` (close when the
    strategy's sessions end).
    """

    stop: Amount | None = None
    targets: tuple[TargetLevel, ...] = ()
    trailing_stop: Amount | None = None
    break_even: Amount | None = None
    break_even_offset_pips: float = 0.0
    break_even_after_first_target: bool = False
    time_exit_bars: int | str | None = None
    opposite_signal: bool = True
    session_end: bool = False


@dataclass(frozen=True, slots=True)
class Filters:
    """When entries may fill: inside any of ``sessions`` (local times, DST-aware) and on one of
    ``days`` (0 = Monday, in ``timezone``). Empty means no restriction."""

    sessions: tuple[str, ...] = ()
    days: tuple[int, ...] = ()
    timezone: str = "UTC"

    def entry_mask(self, index: pd.DatetimeIndex) -> np.ndarray | None:
        """Bool per bar: an entry signalled on it may fill (judged at the fill time)."""
        if not self.sessions and not self.days:
            return None
        fills = fill_times(index)
        mask = np.ones(len(index), dtype=np.bool_)
        if self.sessions:
            mask &= session_mask(fills, self.sessions)
        if self.days:
            mask &= weekday_mask(fills, self.days, self.timezone)
        return mask

    def session_end_mask(self, index: pd.DatetimeIndex) -> np.ndarray:
        """Bool per bar: the next bar opens outside the sessions (close positions there)."""
        if not self.sessions:
            raise InvalidInput("exits.session_end needs filters.sessions.")
        return ~session_mask(fill_times(index), self.sessions)


class Strategy:
    """Base of all strategies. Subclasses implement :meth:`signals`; the rest is shared.

    Attributes (class attributes or constructor arguments): ``name``, ``description``,
    ``parameters`` (name -> :class:`Parameter`), ``exits`` (:class:`Exits`), ``filters``
    (:class:`Filters`), ``direction`` ("both", "long" or "short"), ``constraints`` (conditions
    on parameters such as ``"fast < slow"``; combinations breaking them are not tried) and
    ``per_entry_stops`` (True when :meth:`signals` sets ``stop_distance``: R targets then use
    each entry's own stop).
    """

    name: str = "custom"
    description: str = ""
    parameters: Mapping[str, Parameter] = {}
    exits: Exits = Exits()
    filters: Filters = Filters()
    direction: Direction = "both"
    constraints: tuple[str, ...] = ()
    per_entry_stops: ClassVar[bool] = False

    def __init__(
        self,
        *,
        name: str | None = None,
        description: str | None = None,
        parameters: Mapping[str, Parameter] | None = None,
        exits: Exits | None = None,
        filters: Filters | None = None,
        direction: Direction | None = None,
        constraints: tuple[str, ...] | list[str] | None = None,
        source: str | None = None,
    ) -> None:
        self.name = name if name is not None else type(self).name
        self.description = description if description is not None else type(self).description
        self.parameters = dict(parameters if parameters is not None else type(self).parameters)
        self.exits = exits if exits is not None else type(self).exits
        self.filters = filters if filters is not None else type(self).filters
        self.direction = direction if direction is not None else type(self).direction
        self.constraints = tuple(constraints if constraints is not None else type(self).constraints)
        #: where the strategy was loaded from (template name or file), for reports
        self.source = source
        self.check()

    # ----------------------------------------------------------------------- to implement
    def signals(self, bars: pd.DataFrame, params: Params) -> Signals:
        """Raw entry/exit signals for these parameter values (bool per bar, acted on at the next
        bar's open). Filters, direction and exits are applied by :meth:`trade_signals`."""
        raise NotImplementedError(f"{type(self).__name__} must implement signals(bars, params)")

    @property
    def signal_parameters(self) -> frozenset[str]:
        """Parameters that change :meth:`signals` (the others only change exits); the optimiser
        computes signals once per distinct combination of these."""
        return frozenset(self.parameters)

    # ----------------------------------------------------------------------- validation
    def check(self) -> None:
        """Validate the definition; raises :class:`InvalidInput` naming the field."""
        if self.direction not in ("both", "long", "short"):
            raise InvalidInput(f"direction must be both, long or short, got {self.direction!r}.")
        for key, param in self.parameters.items():
            if key != param.name:
                raise InvalidInput(f"parameters.{key}: its name says {param.name!r}.")
            param.check()
        if self.direction == "both" and not self.exits.opposite_signal:
            raise InvalidInput(
                "exits.opposite_signal: with direction both an opposite entry always reverses "
                "the position; set direction to long or short to trade one side only."
            )
        if self.exits.session_end and not self.filters.sessions:
            raise InvalidInput("exits.session_end needs filters.sessions.")
        defaults = self.resolve_params()
        for i, rule in enumerate(self.constraints):
            if not constraint_holds(rule, defaults, f"constraints[{i}]"):
                raise InvalidInput(f"constraints[{i}]: the defaults break {rule!r}.")
        self.backtest_config(defaults)  # resolves every exit amount

    def resolve_params(self, values: Mapping[str, object] | None = None) -> Params:
        """Defaults overridden by ``values``, each validated; unknown names are an error."""
        values = dict(values or {})
        unknown = sorted(set(values) - set(self.parameters))
        if unknown:
            known = ", ".join(self.parameters) or "none"
            raise InvalidInput(
                f"Unknown parameter(s) {', '.join(unknown)} for {self.name} (parameters: {known})."
            )
        return {
            name: p.validate(values.get(name, p.default)) for name, p in self.parameters.items()
        }

    def satisfies_constraints(self, params: Mapping[str, int | float]) -> bool:
        """Whether ``params`` meets every constraint."""
        return all(
            constraint_holds(rule, params, f"constraints[{i}]")
            for i, rule in enumerate(self.constraints)
        )

    # ----------------------------------------------------------------------- running
    def backtest_config(
        self, params: Mapping[str, int | float], base: BacktestConfig | None = None
    ) -> BacktestConfig:
        """``base`` (account, costs, sizing) with this strategy's exit rules for ``params``.
        Exit rules the strategy does not declare keep ``base``'s values."""
        base = base or BacktestConfig()
        ex = self.exits
        if ex.stop is not None and ex.stop.unit == "r":
            raise InvalidInput("exits.stop cannot be in R (R is a multiple of the stop).")
        stop = _distance(ex.stop, params, None, "exits.stop") if ex.stop else None
        changes: dict[str, Any] = {}
        if stop is not None:
            changes["stop_loss"] = stop
        if ex.targets:
            levels = [
                Target(_distance(t.amount, params, stop, f"exits.targets[{i}]"), t.close_fraction)
                for i, t in enumerate(ex.targets)
                if not (t.amount.unit == "r" and stop is None and self.per_entry_stops)
            ]
            if levels:
                changes["take_profit"] = levels[-1].distance
                changes["partial_targets"] = tuple(levels[:-1])
        if ex.trailing_stop is not None:
            changes["trailing_stop"] = _distance(
                ex.trailing_stop, params, stop, "exits.trailing_stop"
            )
        if ex.break_even is not None:
            changes["breakeven_trigger"] = _distance(
                ex.break_even, params, stop, "exits.break_even"
            )
            changes["breakeven_offset_pips"] = float(ex.break_even_offset_pips)
            changes["breakeven_after_first_target"] = bool(ex.break_even_after_first_target)
        if ex.time_exit_bars is not None:
            bars = constant_value(ex.time_exit_bars, params, "exits.time_exit")
            if not (bars >= 1 and float(bars).is_integer()):
                raise InvalidInput(
                    f"exits.time_exit: bars must be a whole number >= 1, got {bars}."
                )
            changes["max_bars_in_trade"] = int(bars)
        return replace(base, **changes)

    def trade_signals(
        self, bars: pd.DataFrame, params: Mapping[str, int | float], symbol: str | None = None
    ) -> Signals:
        """:meth:`signals` with direction, filters, session-end exits and per-entry R targets
        applied: what :func:`~noxfx.backtest.simulate` is given. Arrays are NumPy, one per bar.

        ``symbol`` reaches :meth:`signals` as ``bars.attrs["symbol"]`` (on a shallow copy), for
        strategies that convert pips to prices."""
        index = pd.DatetimeIndex(bars.index)
        if symbol is not None and bars.attrs.get("symbol") != symbol:
            bars = bars.copy(deep=False)
            bars.attrs["symbol"] = symbol
        raw = self.signals(bars, dict(params))
        le, se, lx, sx = (
            _as_bool(getattr(raw, k), index, k)
            for k in ("long_entry", "short_entry", "long_exit", "short_exit")
        )
        if self.direction == "long":
            if self.exits.opposite_signal:
                lx = lx | se
            se = np.zeros(len(index), dtype=np.bool_)
        elif self.direction == "short":
            if self.exits.opposite_signal:
                sx = sx | le
            le = np.zeros(len(index), dtype=np.bool_)
        mask = self.filters.entry_mask(index)
        if mask is not None:
            le, se = le & mask, se & mask
        if self.exits.session_end:
            end = self.filters.session_end_mask(index)
            lx, sx = lx | end, sx | end
        stop_d = _as_float(raw.stop_distance, index)
        target_d = _as_float(raw.target_distance, index)
        r_targets = [t for t in self.exits.targets if t.amount.unit == "r"]
        if stop_d is not None and target_d is None and r_targets and self.exits.stop is None:
            multiple = r_targets[-1].amount.resolve(params, "exits.targets")
            target_d = stop_d * multiple
        return Signals(le, se, lx, sx, stop_d, target_d)

    def backtest(
        self,
        bars: pd.DataFrame,
        params: Mapping[str, object] | None = None,
        config: BacktestConfig | None = None,
        *,
        trade_from: pd.Timestamp | str | None = None,
        fine_bars: pd.DataFrame | None = None,
    ) -> BacktestResult:
        """Simulate this strategy. ``trade_from``: bars before it only warm the indicators up
        (signals are computed on all bars, trading starts at the first bar at or after it; ATR
        exit distances are computed by the engine on the traded bars only). ``fine_bars``:
        finer bars of the same symbol (e.g. 1m) to decide which of a stop and a target one bar
        touched first, and to move trailing stops inside the bar."""
        from noxfx.backtest.engine import simulate

        values = self.resolve_params(params)
        if not self.satisfies_constraints(values):
            raise InvalidInput(f"Parameters {values} break the constraints {self.constraints}.")
        config = self.backtest_config(values, config)
        signals = self.trade_signals(bars, values, config.symbol)
        start = trading_start(pd.DatetimeIndex(bars.index), trade_from)
        if start:
            bars, signals = bars.iloc[start:], slice_signals(signals, start)
        return simulate(bars, signals, config, fine_bars=fine_bars)

    def describe(self) -> dict[str, Any]:
        """A plain description (parameters, exits, filters) for listings and reports."""
        ex = self.exits
        return {
            "name": self.name,
            "description": self.description,
            "type": type(self).__name__,
            "direction": self.direction,
            "parameters": {k: p.as_dict() for k, p in self.parameters.items()},
            "constraints": list(self.constraints),
            "exits": {
                "stop": ex.stop.describe() if ex.stop else None,
                "targets": [f"{t.amount.describe()} x{t.close_fraction:g}" for t in ex.targets],
                "trailing_stop": ex.trailing_stop.describe() if ex.trailing_stop else None,
                "break_even": ex.break_even.describe() if ex.break_even else None,
                "time_exit_bars": ex.time_exit_bars,
                "opposite_signal": ex.opposite_signal,
                "session_end": ex.session_end,
            },
            "filters": {"sessions": list(self.filters.sessions), "days": list(self.filters.days)},
            "source": self.source,
        }


def _distance(
    amount: Amount, params: Mapping[str, int | float], stop: Distance | None, where: str
) -> Distance:
    value = amount.resolve(params, where)
    if amount.unit == "r":
        if stop is None:
            raise InvalidInput(f"{where}: an amount in R needs exits.stop (R = multiples of it).")
        return Distance(stop.unit, stop.value * value, stop.atr_period)
    if amount.unit == "atr":
        return Distance.atr(value, amount.period)
    return Distance(amount.unit, value)


def _as_bool(values: object, index: pd.DatetimeIndex, name: str) -> np.ndarray:
    n = len(index)
    if values is None:
        return np.zeros(n, dtype=np.bool_)
    if isinstance(values, pd.Series):
        values = values.reindex(index).fillna(False)
    arr = np.asarray(values, dtype=np.bool_)
    if arr.shape != (n,):
        raise InvalidInput(f"Strategy signal {name!r} has shape {arr.shape}; expected ({n},).")
    return arr


def _as_float(values: object, index: pd.DatetimeIndex) -> np.ndarray | None:
    if values is None:
        return None
    if isinstance(values, pd.Series):
        values = values.reindex(index)
    return np.asarray(values, dtype=np.float64)


def trading_start(index: pd.DatetimeIndex, trade_from: pd.Timestamp | str | None) -> int:
    """Position of the first bar at or after ``trade_from`` (0 when None)."""
    if trade_from is None:
        return 0
    ts = pd.Timestamp(trade_from)
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    start = int(index.searchsorted(ts, side="left"))
    if start >= len(index):
        raise InvalidInput(f"No bars at or after {ts.isoformat()} to trade.")
    return start


def slice_signals(signals: Signals, start: int, end: int | None = None) -> Signals:
    """Signals (NumPy arrays, as :meth:`Strategy.trade_signals` returns) for bars
    ``start:end``."""

    def cut(values: object) -> Any:
        return None if values is None else np.asarray(values)[start:end]

    return Signals(*(cut(getattr(signals, k)) for k in _SIGNAL_FIELDS))


_SIGNAL_FIELDS = (
    "long_entry", "short_entry", "long_exit", "short_exit", "stop_distance", "target_distance",
)  # fmt: skip


__all__ = [
    "UNITS",
    "Amount",
    "Direction",
    "Exits",
    "Filters",
    "Parameter",
    "Params",
    "Strategy",
    "TargetLevel",
    "format_number",
    "param_prefix",
    "slice_signals",
    "trading_start",
]
