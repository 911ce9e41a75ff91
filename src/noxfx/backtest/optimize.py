"""Parameter optimisation of a strategy, with the statistics that say how much to believe it.

    from noxfx.backtest.optimize import optimize, parse_ranges

    space = parse_ranges(["fast=5:50:5", "slow=20:200:10"], strategy)
    result = optimize(strategy, bars, space, BacktestConfig(symbol="EURUSD"),
                      method="grid", objective="sharpe")
    result.best_params, result.deflated_sharpe.dsr, result.pbo.pbo

Methods: ``grid`` (every combination), ``random`` (``trials`` distinct combinations drawn
uniformly from the grid) and ``optuna`` (Tree-structured Parzen Estimator, asked in batches).
Combinations that break the strategy's constraints are never run. Objectives
(:data:`OBJECTIVES`, all maximised) are computed exactly as
:class:`~noxfx.backtest.metrics.Metrics` computes them; a combination with fewer than
``min_trades`` trades scores minus infinity.

Speed: combinations go through one parallel numba call per group
(:func:`noxfx.backtest.optimize_nb.sweep_nb`, the same bar loop as
:func:`~noxfx.backtest.simulate`). Combinations whose configs differ only in the size of pip,
price or ATR stops/targets/trailing/break-even distances share a group (the distances are
scaled per combination); signals are computed once per distinct value of the parameters the
rules read (:attr:`~noxfx.backtest.strategy.Strategy.signal_parameters`).

Honesty: every result carries the number of trials, the Deflated Sharpe Ratio of the winner
(its daily returns against the Sharpe ratios of all trials) and the probability of backtest
overfitting by CSCV over the trials' daily returns (:mod:`noxfx.backtest.overfitting`; PBO
ranks trials by their daily Sharpe ratio, the paper's measure, whatever the objective).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from noxfx.backtest.config import BacktestConfig
from noxfx.backtest.overfitting import (
    BlockStats,
    DeflatedSharpe,
    PBOResult,
    deflated_sharpe_from_returns,
    pbo_from_blocks,
)
from noxfx.backtest.parameters import range_count
from noxfx.backtest.strategy import Params, Strategy
from noxfx.backtest.sweep import Sweep, evaluate_combinations, trading_days
from noxfx.errors import InsufficientData, InvalidInput

if TYPE_CHECKING:
    from noxfx.backtest.engine import BacktestResult

Method = Literal["grid", "random", "optuna"]
#: ``progress(done, total)``: called after each evaluated batch of combinations.
Progress = Callable[[int, int], None]

#: Objectives one can maximise, with their meaning (all columns of :attr:`Sweep.metrics`).
OBJECTIVES: dict[str, str] = {
    "sharpe": "annualised Sharpe ratio of daily returns (260 days)",
    "sortino": "annualised Sortino ratio of daily returns",
    "net_profit": "net profit in account currency",
    "net_profit_frac": "net profit as a fraction of the initial balance",
    "cagr": "compound annual growth rate",
    "calmar": "CAGR / maximum drawdown",
    "profit_factor": "gross profit / gross loss, per trade",
    "expectancy": "mean net P&L per trade, account currency",
    "expectancy_r": "mean R multiple per trade (needs a stop)",
    "win_rate": "fraction of winning trades",
    "sqn": "system quality number (Van Tharp)",
}


@dataclass(frozen=True, slots=True)
class ParamRange:
    """The values one parameter takes in a search, ascending (one value: held fixed)."""

    name: str
    values: tuple[int | float, ...]
    integer: bool

    @property
    def step(self) -> float | None:
        """The common difference when the values are evenly spaced (None otherwise)."""
        if len(self.values) < 2:
            return None
        diffs = np.diff(np.asarray(self.values, dtype=np.float64))
        return float(diffs[0]) if np.allclose(diffs, diffs[0], rtol=1e-9, atol=1e-12) else None


def parse_ranges(specs: Sequence[str], strategy: Strategy) -> dict[str, ParamRange]:
    """``["fast=5:50:5", "slow=20,50,100", "stop_atr=2"]`` -> ranges (``lo:hi:step``
    inclusive, a comma list, or one fixed value), checked against the strategy's parameters.
    Parameters not named keep their declared range (or their default if they have none)."""
    given: dict[str, list[int | float]] = {}
    for spec in specs:
        name, sep, text = spec.partition("=")
        name = name.strip()
        if not sep or not text.strip():
            raise InvalidInput(f"--param {spec!r}: write name=lo:hi:step, name=a,b,c or name=v.")
        if name not in strategy.parameters:
            known = ", ".join(strategy.parameters) or "none"
            raise InvalidInput(f"--param {spec!r}: {strategy.name} has no parameter {name!r} "
                               f"(parameters: {known}).")  # fmt: skip
        given[name] = _values(name, text.strip(), strategy)
    return space_for(strategy, given)


def _parse_spec(name: str, text: str) -> tuple[float, float, float] | list[float]:
    """``lo:hi:step`` as its three numbers, or a comma list (or one number) as its values;
    nothing is built from a range here."""
    try:
        if ":" in text:
            parts = [float(p) for p in text.split(":")]
            if len(parts) != 3:
                raise ValueError
            return parts[0], parts[1], parts[2]
        return [float(p) for p in text.split(",") if p.strip()]
    except ValueError:
        raise InvalidInput(
            f"--param {name}={text}: write lo:hi:step (e.g. 5:50:5), a,b,c or one number."
        ) from None


def count_values(name: str, text: str, strategy: Strategy) -> int:
    """How many values the range text ``text`` (``lo:hi:step``, ``a,b,c`` or ``v``) gives
    parameter ``name``, by arithmetic: no value is built. Raises :class:`InvalidInput` for an
    unknown name, a malformed, non-finite or reversed range, bounds outside the parameter's
    own, or more than :data:`~noxfx.backtest.parameters.MAX_GRID_VALUES` values."""
    if name not in strategy.parameters:
        known = ", ".join(strategy.parameters) or "none"
        raise InvalidInput(f"--param {name}={text}: {strategy.name} has no parameter {name!r} "
                           f"(parameters: {known}).")  # fmt: skip
    param = strategy.parameters[name]
    parsed = _parse_spec(name, text)
    if isinstance(parsed, tuple):
        lo, hi, step = parsed
        if not step > 0 or lo > hi:
            raise InvalidInput(f"--param {name}={text}: write lo:hi:step with lo <= hi and a "
                               "positive step (e.g. 5:50:5).")  # fmt: skip
        count = range_count(lo, hi, step, f"--param {name}={text}")
        param.validate(round(lo, 10))  # bounds inside the parameter's: every value is
        param.validate(round(lo + (count - 1) * step, 10))
        return count
    if not parsed:
        raise InvalidInput(f"--param {name}={text}: no values.")
    return len({param.validate(round(v, 10)) for v in parsed})


def space_counts(specs: Sequence[str], strategy: Strategy) -> dict[str, int]:
    """Values per parameter of the space :func:`parse_ranges` would build from ``specs``
    (declared ranges for parameters not named, 1 for those without a range), counted without
    building anything; the grid has ``math.prod`` of them combinations."""
    counts: dict[str, int] = {}
    for name, param in strategy.parameters.items():
        counts[name] = param.count() if None not in (param.min, param.max, param.step) else 1
    for spec in specs:
        name, sep, text = spec.partition("=")
        name = name.strip()
        if not sep or not text.strip():
            raise InvalidInput(f"--param {spec!r}: write name=lo:hi:step, name=a,b,c or name=v.")
        counts[name] = count_values(name, text.strip(), strategy)
    return counts


def _values(name: str, text: str, strategy: Strategy) -> list[int | float]:
    param = strategy.parameters[name]
    count = count_values(name, text, strategy)  # refuses absurd ranges before building them
    parsed = _parse_spec(name, text)
    if isinstance(parsed, tuple):
        lo, _hi, step = parsed
        raw = [lo + k * step for k in range(count)]
    else:
        raw = parsed
    return [param.validate(round(v, 10)) for v in raw]


def space_for(
    strategy: Strategy, given: Mapping[str, Sequence[int | float]] | None = None
) -> dict[str, ParamRange]:
    """The search space: ``given`` values, else each parameter's declared grid, else its
    default alone."""
    given = dict(given or {})
    space = {}
    for name, param in strategy.parameters.items():
        if name in given:
            values = [param.validate(v) for v in given[name]]
        elif None not in (param.min, param.max, param.step):
            values = param.grid()
        else:
            values = [param.validate(param.default)]
        space[name] = ParamRange(name, tuple(sorted(set(values))), param.integer)
    return space


def grid_size(space: Mapping[str, ParamRange]) -> int:
    """Number of combinations of the full grid (constraints not applied)."""
    return math.prod(len(r.values) for r in space.values())


@dataclass(frozen=True)
class OptimizationResult:
    """Outcome of :func:`optimize`.

    ``trials``: one row per combination run (parameter columns, metric columns and
    ``objective``), in the order run. ``best``: the full backtest of ``best_params`` (trades,
    equity). ``deflated_sharpe``: DSR of the winner given ``n_trials``. ``pbo``: probability of
    backtest overfitting by CSCV (None with fewer than 2 trials or too few days).
    """

    strategy: str
    method: str
    objective: str
    config: BacktestConfig
    trials: pd.DataFrame
    best_params: Params
    best_value: float
    best: BacktestResult
    deflated_sharpe: DeflatedSharpe
    pbo: PBOResult | None
    skipped: int = 0  # combinations not run because they broke a constraint
    notes: tuple[str, ...] = field(default=())

    @property
    def n_trials(self) -> int:
        return len(self.trials)

    def top(self, n: int = 10) -> pd.DataFrame:
        """The ``n`` best trials by the objective."""
        return self.trials.sort_values("objective", ascending=False, kind="stable").head(n)

    def as_dict(self, top: int = 10) -> dict[str, Any]:
        """Plain-JSON form (metrics of the best run, DSR, PBO, the top trials)."""
        rows = self.top(top).replace([np.inf, -np.inf], np.nan).astype(object)
        return {
            "strategy": self.strategy,
            "method": self.method,
            "objective": self.objective,
            "n_trials": self.n_trials,
            "skipped_by_constraints": self.skipped,
            "best_params": self.best_params,
            "best_value": _json_float(self.best_value),
            "best_metrics": self.best.metrics.as_dict(),
            "deflated_sharpe": self.deflated_sharpe.as_dict(),
            "pbo": self.pbo.as_dict() if self.pbo is not None else None,
            "top_trials": rows.where(rows.notna(), None).to_dict("records"),
            "notes": list(self.notes),
        }


def _json_float(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _feasible_grid(
    strategy: Strategy, space: Mapping[str, ParamRange], limit: int
) -> tuple[list[Params], int]:
    size = grid_size(space)
    if size > limit:
        raise InvalidInput(
            f"The grid has {size:,} combinations (limit {limit:,}); narrow the --param ranges or "
            "use --method random / optuna with --trials."
        )
    names = list(space)
    combos, skipped = [], 0
    for values in itertools.product(*(space[n].values for n in names)):
        params = dict(zip(names, values, strict=True))
        if strategy.satisfies_constraints(params):
            combos.append(params)
        else:
            skipped += 1
    return combos, skipped


def _random_combos(
    strategy: Strategy, space: Mapping[str, ParamRange], trials: int, seed: int
) -> tuple[list[Params], int]:
    """``trials`` distinct feasible combinations drawn uniformly from the grid."""
    names = list(space)
    sizes = [len(space[n].values) for n in names]
    total = math.prod(sizes)
    rng = np.random.default_rng(seed)
    seen: set[int] = set()
    combos: list[Params] = []
    skipped = 0
    attempts = 0
    while len(combos) < trials and len(seen) < total and attempts < 50 * trials + 1000:
        attempts += 1
        k = int(rng.integers(total))
        if k in seen:
            continue
        seen.add(k)
        params = {}
        for name, size in zip(reversed(names), reversed(sizes), strict=True):
            k, digit = divmod(k, size)
            params[name] = space[name].values[digit]
        params = {n: params[n] for n in names}
        if strategy.satisfies_constraints(params):
            combos.append(params)
        else:
            skipped += 1
    return combos, skipped


def _objective_values(metrics: pd.DataFrame, objective: str, min_trades: int) -> np.ndarray:
    values = metrics[objective].to_numpy(dtype=np.float64).copy()
    values[~np.isfinite(values)] = -np.inf
    values[metrics["trades"].to_numpy() < min_trades] = -np.inf
    return values


class _Collector:
    """Accumulates sweep chunks: metrics rows, per-trial daily Sharpe and CSCV block sums."""

    def __init__(self, blocks: int) -> None:
        self.blocks = blocks
        self.params: list[Params] = []
        self.frames: list[pd.DataFrame] = []
        self.sharpe: list[np.ndarray] = []
        self.block_stats: list[BlockStats] = []
        self.n_days = 0

    def add(self, sweep: Sweep) -> None:
        self.params.extend(sweep.params)
        self.frames.append(sweep.metrics)
        self.sharpe.append(sweep.daily_sharpe)
        self.n_days = sweep.daily_returns.shape[0]
        if self.blocks >= 4:
            self.block_stats.append(BlockStats.from_returns(sweep.daily_returns, self.blocks))

    def frame(self) -> pd.DataFrame:
        metrics = pd.concat(self.frames, ignore_index=True) if self.frames else pd.DataFrame()
        params = pd.DataFrame(self.params)
        return pd.concat([params, metrics], axis=1)


def _blocks_for(n_days: int, wanted: int) -> int:
    """The CSCV block count: ``wanted`` (even), reduced so each block has >= 2 days; 0 when
    fewer than 4 blocks fit."""
    blocks = min(wanted - wanted % 2, (n_days // 2) // 2 * 2)
    return blocks if blocks >= 4 else 0


def _check(objective: str, method: str, trials: int | None) -> None:
    if objective not in OBJECTIVES:
        raise InvalidInput(f"Unknown objective {objective!r}; choose from {', '.join(OBJECTIVES)}.")
    if method not in ("grid", "random", "optuna"):
        raise InvalidInput(f"Unknown method {method!r}; choose grid, random or optuna.")
    if trials is not None and trials < 1:
        raise InvalidInput("trials must be at least 1.")


@dataclass(frozen=True)
class _Search:
    """Which combinations to run, and the loop that runs them in batches."""

    strategy: Strategy
    space: Mapping[str, ParamRange]
    method: str
    trials: int
    seed: int
    objective: str
    min_trades: int
    max_combinations: int
    batch_size: int

    def run(
        self,
        run: Callable[[list[Params]], Sweep],
        collect: Callable[[Sweep], None],
        progress: Progress | None,
    ) -> int:
        """Run the search; return how many combinations broke a constraint."""
        if self.method == "optuna":
            from noxfx.backtest._optuna import run_optuna

            return run_optuna(
                self.strategy, self.space, self.trials, self.seed, self.objective,
                self.min_trades, run, collect, progress, self.batch_size,
            )  # fmt: skip
        if self.method == "grid":
            combos, skipped = _feasible_grid(self.strategy, self.space, self.max_combinations)
        else:
            combos, skipped = _random_combos(self.strategy, self.space, self.trials, self.seed)
        if not combos:
            raise InsufficientData("No combination of the parameter ranges meets the constraints.")
        step = self.batch_size
        for start in range(0, len(combos), step):
            collect(run(combos[start : start + step]))
            if progress is not None:
                progress(min(start + step, len(combos)), len(combos))
        return skipped


def optimize(
    strategy: Strategy,
    bars: pd.DataFrame,
    space: Mapping[str, ParamRange] | None = None,
    config: BacktestConfig | None = None,
    *,
    method: Method = "grid",
    trials: int | None = None,
    objective: str = "sharpe",
    min_trades: int = 10,
    blocks: int = 16,
    max_splits: int | None = 20_000,
    seed: int = 0,
    trade_from: pd.Timestamp | str | None = None,
    progress: Progress | None = None,
    max_combinations: int = 200_000,
    batch_size: int = 64,
) -> OptimizationResult:
    """Search ``space`` (default: the strategy's declared ranges) for the parameters that
    maximise ``objective`` on ``bars``.

    ``trials``: how many combinations ``random`` and ``optuna`` run (default 100; ``grid`` runs
    every feasible one). ``min_trades``: combinations with fewer trades are never chosen.
    ``blocks``: S of CSCV (even; 16 as in the paper, fewer when there are few days);
    ``max_splits`` caps the CSCV splits (C(16, 8) = 12,870 all fit). ``trade_from``: bars
    before it only warm indicators up. ``progress(done, total)`` is called after each batch.
    Raises :class:`~noxfx.errors.InsufficientData` when no combination reaches ``min_trades``.
    """
    _check(objective, method, trials)
    config = config or BacktestConfig()
    full = space_for(strategy)
    full.update(space or {})
    space = {k: full[k] for k in strategy.parameters}
    notes: list[str] = []

    def run(combos: list[Params]) -> Sweep:
        return evaluate_combinations(strategy, bars, combos, config, trade_from=trade_from)

    n_blocks = _blocks_for(trading_days(bars, trade_from), blocks)
    if n_blocks == 0:
        notes.append("PBO not computed: fewer than 8 trading days.")
    collector = _Collector(n_blocks)
    search = _Search(strategy, space, method, trials or 100, seed, objective, min_trades,
                     max_combinations, batch_size)  # fmt: skip
    skipped = search.run(run, collector.add, progress)
    frame = collector.frame()
    values = _objective_values(frame, objective, min_trades)
    frame["objective"] = values
    if not np.isfinite(values).any():
        raise InsufficientData(
            f"No combination made at least {min_trades} trades with a defined {objective}; "
            "widen the date range or lower min_trades."
        )
    best_i = int(np.argmax(values))
    best_params = dict(collector.params[best_i])
    best = strategy.backtest(bars, best_params, config, trade_from=trade_from)
    dsr = deflated_sharpe_from_returns(
        daily_returns(best.equity, config.initial_balance),
        np.concatenate(collector.sharpe),
        n_trials=len(frame),
    )
    pbo = None
    if n_blocks and len(frame) >= 2:
        pbo = pbo_from_blocks(BlockStats.concat(collector.block_stats), max_splits=max_splits,
                              seed=seed)  # fmt: skip
    elif len(frame) < 2:
        notes.append("PBO not computed: it needs at least 2 trials.")
    return OptimizationResult(
        strategy=strategy.name,
        method=method,
        objective=objective,
        config=best.config,
        trials=frame,
        best_params=best_params,
        best_value=float(values[best_i]),
        best=best,
        deflated_sharpe=dsr,
        pbo=pbo,
        skipped=skipped,
        notes=tuple(notes),
    )


def daily_returns(equity: pd.Series, initial_balance: float) -> np.ndarray:
    """Daily returns of an equity curve as :mod:`noxfx.backtest.metrics` computes them: equity
    at the last bar of each FX day (17:00 New York cut), the first against the initial
    balance."""
    from noxfx.backtest.rollover import fx_day_number

    eq = equity.to_numpy(dtype=np.float64)
    if len(eq) == 0:
        return np.zeros(0)
    days = fx_day_number(pd.DatetimeIndex(equity.index))
    last = np.flatnonzero(np.r_[days[1:] != days[:-1], True])
    daily = np.r_[initial_balance, eq[last]]
    with np.errstate(divide="ignore", invalid="ignore"):
        rets = daily[1:] / daily[:-1] - 1.0
    return np.where(np.isfinite(rets), rets, np.nan)


__all__ = [
    "OBJECTIVES",
    "Method",
    "OptimizationResult",
    "ParamRange",
    "Progress",
    "count_values",
    "daily_returns",
    "grid_size",
    "optimize",
    "parse_ranges",
    "space_counts",
    "space_for",
]
