"""Leak checks: does the evaluation see anything a live forecast could not?

:func:`leak_check` runs three probes on real bars and flags each one that fails. Each probe
catches a different kind of leak, and none of them alone catches all:

* ``permuted_labels``: the labels are shuffled, so nothing can predict them; the walk-forward
  AUC must be within ``z`` null standard deviations of 0.5 (iid: the shuffled labels are).
  Catches a pipeline that finds skill in noise (training rows among the test rows, a selection
  on the test score). Blind to leaks that follow the labels: a feature read from bar ``t+1``
  loses its link to shuffled labels, and a calibrator fitted on shuffled test labels is as
  uninformative as the labels.
* ``test_labels_unused``: for every fold, the labels of all samples at or after the fold's test
  start are inverted (``1 - y``) and the fold is forecast again; its forecasts must not change
  (largest difference at most ``1e-12``). Catches any use of the test labels: a calibrator
  fitted on the test fold, a threshold or base rate taken from it, training on it.
* ``shuffled_bars``: the bars' moves (each bar's open, high, low and close relative to the
  previous close, in logs) are permuted in time and the bars rebuilt; features **and labels** are
  then built from the shuffled bars. In such a series the future is independent of the past, so
  an honest pipeline scores AUC 0.5 within ``z`` null standard deviations, computed with the
  effective sample size ``n / overlap`` (labels overlap). A feature that reads bar ``t+1`` keeps
  its link to the label (both come from the same shuffled bars) and scores far above chance.

The pipeline under test is the dataset builder ``build(bars) -> Dataset`` (default
:func:`~noxfx.ml.dataset.build_dataset`) and the per-fold step ``forecast`` (default
:func:`~noxfx.ml.validation.fold_forecast`); tests pass deliberately leaky variants of each.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from noxfx.ml.dataset import Dataset, SideSamples, build_dataset
from noxfx.ml.labels import BarrierConfig
from noxfx.ml.metrics import auc_null_sd, roc_auc
from noxfx.ml.validation import (
    FoldForecaster,
    WalkForwardConfig,
    fold_forecast,
    purged_walk_forward,
    walk_forward_evaluate,
)

#: forecasts of a fold may differ by at most this much when its test labels change
FORECAST_TOLERANCE = 1e-12


@dataclass(frozen=True)
class LeakProbe:
    """One probe: ``statistic`` against ``limit`` (the probe passes when within it)."""

    name: str
    passed: bool
    statistic: float
    limit: float
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class LeakReport:
    """The probes of :func:`leak_check`; ``passed`` when every probe passed."""

    side: str
    probes: list[LeakProbe]

    @property
    def passed(self) -> bool:
        return all(p.passed for p in self.probes)

    @property
    def failed(self) -> list[str]:
        return [p.name for p in self.probes if not p.passed]

    def probe(self, name: str) -> LeakProbe:
        return next(p for p in self.probes if p.name == name)

    def as_dict(self) -> dict[str, Any]:
        return {
            "side": self.side,
            "passed": self.passed,
            "failed": self.failed,
            "probes": [p.as_dict() for p in self.probes],
        }


def shuffled_bars(bars: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """``bars`` with their moves permuted in time: a series whose future is independent of its
    past, with the real distribution of bar shapes and returns.

    Each bar ``i >= 1`` is described by ``log(open/high/low/close[i] / close[i-1])``; these rows
    are permuted and the prices rebuilt from the first close. The index (bar open times) and any
    other column are kept; highs stay >= opens/closes >= lows.
    """
    ohlc = bars[["open", "high", "low", "close"]].to_numpy(dtype=np.float64)
    rel = np.log(ohlc[1:] / ohlc[:-1, 3:4])
    rel = rel[np.random.default_rng(seed).permutation(len(rel))]
    close = ohlc[0, 3] * np.exp(np.cumsum(rel[:, 3]))
    prev = np.concatenate([[ohlc[0, 3]], close[:-1]])
    rebuilt = prev[:, None] * np.exp(rel)
    out = bars.copy()
    for j, col in enumerate(("open", "high", "low", "close")):
        out[col] = np.concatenate([ohlc[:1, j], rebuilt[:, j]])
    return out


def _auc_probe(
    name: str, y: np.ndarray, p: np.ndarray, overlap: float, z: float, what: str
) -> LeakProbe:
    auc = roc_auc(y, p)
    n_eff = max(len(y) / max(overlap, 1.0), 2.0)
    rate = float(np.mean(y))
    sd = auc_null_sd(max(round(rate * n_eff), 1), max(round((1.0 - rate) * n_eff), 1))
    dev = abs(auc - 0.5)
    return LeakProbe(
        name=name,
        passed=bool(math.isfinite(auc) and dev <= z * sd),
        statistic=float(dev),
        limit=float(z * sd),
        detail=(
            f"{what}: AUC {auc:.4f} on {len(y)} forecasts (n effective {n_eff:.0f}); "
            f"|AUC - 0.5| must be <= {z:g} null sd = {z * sd:.4f}"
        ),
    )


def _permuted(s: SideSamples, seed: int) -> SideSamples:
    y = np.random.default_rng(seed).permutation(s.y)
    return SideSamples(s.side, s.X, y, s.pos, s.t1, s.exit_r, s.cost_r)


def leak_check(
    bars: pd.DataFrame,
    *,
    symbol: str,
    timeframe: str,
    side: str = "long",
    model: str = "lightgbm",
    labels: BarrierConfig | None = None,
    config: WalkForwardConfig | None = None,
    model_params: dict[str, Any] | None = None,
    seed: int = 7,
    build: Callable[[pd.DataFrame], Dataset] | None = None,
    forecast: FoldForecaster | None = None,
    z: float = 4.0,
) -> LeakReport:
    """Run the three probes of the module docstring on one side of ``bars``.

    ``build`` and ``forecast`` are the pipeline under test (defaults: the production ones,
    :func:`~noxfx.ml.dataset.build_dataset` with ``labels``, and
    :func:`~noxfx.ml.validation.fold_forecast`). ``z`` is the tolerance of the two AUC probes
    in null standard deviations.
    """
    cfg = config or WalkForwardConfig(n_folds=3)
    step = forecast or fold_forecast

    def default_build(b: pd.DataFrame) -> Dataset:
        return build_dataset(b, symbol=symbol, timeframe=timeframe, labels=labels)

    make = build or default_build
    data = make(bars)
    samples = data.sides[side]
    embargo = cfg.embargo_for(data.labels.horizon_bars)

    def evaluate(s: SideSamples) -> tuple[np.ndarray, np.ndarray, float]:
        ev = walk_forward_evaluate(
            s,
            model=model,
            config=cfg,
            embargo=embargo,
            baselines=False,
            seed=seed,
            model_params=model_params,
            forecast=step,
        )
        return ev.y, ev.p, float(ev.overall["label_overlap_bars"])

    probes: list[LeakProbe] = []
    y, p, _ = evaluate(_permuted(samples, seed))
    probes.append(_auc_probe("permuted_labels", y, p, 1.0, z, "labels shuffled"))

    worst = 0.0
    for fold in purged_walk_forward(samples.pos, samples.t1, cfg, embargo):
        before = step(model, samples, fold, cfg.calibration, seed, model_params)
        flipped = np.where(samples.pos >= fold.test_start, 1.0 - samples.y, samples.y)
        other = SideSamples(
            samples.side, samples.X, flipped, samples.pos, samples.t1, samples.exit_r,
            samples.cost_r,
        )  # fmt: skip
        after = step(model, other, fold, cfg.calibration, seed, model_params)
        worst = max(worst, float(np.max(np.abs(np.asarray(after) - np.asarray(before)))))
    probes.append(
        LeakProbe(
            name="test_labels_unused",
            passed=worst <= FORECAST_TOLERANCE,
            statistic=worst,
            limit=FORECAST_TOLERANCE,
            detail=(
                "labels from each fold's test start on inverted: the fold's forecasts moved by "
                f"up to {worst:.3g} (must be <= {FORECAST_TOLERANCE:g})"
            ),
        )
    )

    shuffled = make(shuffled_bars(bars, seed))
    y, p, overlap = evaluate(shuffled.sides[side])
    probes.append(_auc_probe("shuffled_bars", y, p, overlap, z, "bar moves shuffled in time"))
    return LeakReport(side=side, probes=probes)


__all__ = ["FORECAST_TOLERANCE", "LeakProbe", "LeakReport", "leak_check", "shuffled_bars"]
