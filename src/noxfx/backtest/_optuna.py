"""The Optuna (TPE) search loop of :func:`noxfx.backtest.optimize.optimize`.

Trials are asked in batches so each batch runs as one parallel sweep; a combination Optuna asks
for twice is run once (its value is told again); combinations breaking a constraint are told
as pruned and not counted. Optuna is imported here only, so the rest of the backtester works
without it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from noxfx.errors import InvalidInput

if TYPE_CHECKING:
    from noxfx.backtest.optimize import ParamRange, Progress
    from noxfx.backtest.strategy import Params, Strategy
    from noxfx.backtest.sweep import Sweep


def _distributions(space: Mapping[str, ParamRange]) -> tuple[dict[str, Any], Params]:
    from optuna.distributions import (
        CategoricalDistribution,
        FloatDistribution,
        IntDistribution,
    )

    dists: dict[str, Any] = {}
    fixed: Params = {}
    for name, rng in space.items():
        values = rng.values
        if len(values) == 1:
            fixed[name] = values[0]
            continue
        step = rng.step
        if step is not None and rng.integer:
            dists[name] = IntDistribution(int(values[0]), int(values[-1]), step=int(step))
        elif step is not None:
            dists[name] = FloatDistribution(float(values[0]), float(values[-1]), step=step)
        else:
            dists[name] = CategoricalDistribution(list(values))
    return dists, fixed


def run_optuna(
    strategy: Strategy,
    space: Mapping[str, ParamRange],
    trials: int,
    seed: int,
    objective: str,
    min_trades: int,
    run: Callable[[list[Params]], Sweep],
    collect: Callable[[Sweep], None],
    progress: Progress | None,
    batch_size: int,
) -> int:
    """Run up to ``trials`` distinct feasible combinations; return how many asked combinations
    broke a constraint."""
    try:
        import optuna
    except ImportError:  # pragma: no cover - optuna is a declared dependency
        raise InvalidInput(
            "--method optuna needs the optuna package (pip install optuna)."
        ) from None
    from optuna.trial import TrialState

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    dists, fixed = _distributions(space)
    sampler = optuna.samplers.TPESampler(seed=seed, n_startup_trials=min(10, max(1, trials // 4)))
    study = optuna.create_study(direction="maximize", sampler=sampler)
    done: dict[tuple[float, ...], float] = {}
    names = list(space)
    skipped = 0
    asked = 0
    batch = max(1, min(batch_size, 16))
    while len(done) < trials and asked < 20 * trials + 100:
        pending = [study.ask(dists) for _ in range(min(batch, trials - len(done)))]
        asked += len(pending)
        combos: list[Params] = []
        keys = []
        for trial in pending:
            params = {**fixed, **trial.params}
            params = {n: round(float(params[n]), 10) for n in names}
            params = strategy.resolve_params(params)
            keys.append(tuple(float(params[n]) for n in names))
            combos.append(params)
        new = {}
        for key, params in zip(keys, combos, strict=True):
            if key not in done and key not in new and strategy.satisfies_constraints(params):
                new[key] = params
        if new:
            sweep = run(list(new.values()))
            collect(sweep)
            values = sweep.metrics[objective].to_numpy(dtype=np.float64)
            enough = sweep.metrics["trades"].to_numpy() >= min_trades
            for key, value, ok in zip(new, values, enough, strict=True):
                done[key] = float(value) if ok and math.isfinite(value) else -math.inf
        for trial, key in zip(pending, keys, strict=True):
            if key in done:
                study.tell(trial, done[key])
            else:
                skipped += 1
                study.tell(trial, state=TrialState.PRUNED)
        if progress is not None:
            progress(len(done), trials)
        if len(done) >= _space_size(space):
            break
    return skipped


def _space_size(space: Mapping[str, ParamRange]) -> int:
    return math.prod(len(r.values) for r in space.values())


__all__ = ["run_optuna"]
