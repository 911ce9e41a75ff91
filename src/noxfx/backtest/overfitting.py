"""Honesty statistics for optimised backtests: the Deflated Sharpe Ratio and the probability of
backtest overfitting (PBO) by combinatorially symmetric cross-validation (CSCV).

Why: the best of many tried variants looks good by construction. Both statistics answer "how
much of that is luck?" from the trials themselves.

**Deflated Sharpe Ratio** (Bailey & Lopez de Prado, "The Deflated Sharpe Ratio: Correcting for
Selection Bias, Backtest Overfitting and Non-Normality", J. Portfolio Management 2014). With
``SR`` the selected strategy's Sharpe ratio per period (not annualised), ``T`` its number of
returns, ``g3`` their skewness and ``g4`` their kurtosis (3 for a normal distribution), ``N``
independent trials whose Sharpe ratios (per period) have variance ``V``::

    SR0 = sqrt(V) * ((1 - gamma) * Z^-1(1 - 1/N) + gamma * Z^-1(1 - 1/(N e)))
    DSR = Z((SR - SR0) * sqrt(T - 1) / sqrt(1 - g3 * SR + (g4 - 1) / 4 * SR^2))

``gamma`` is the Euler-Mascheroni constant and ``Z`` the standard normal CDF. ``SR0`` is the
expected maximum Sharpe ratio of ``N`` unskilled trials; the DSR is the probability that the true
Sharpe ratio exceeds zero after accounting for the selection (the Probabilistic Sharpe Ratio
against ``SR0``). Paper's example: N = 100, V = 1/2 annualised (1/500 per day at 250 days),
SR = 2.5 annualised over T = 1,250 days, skew -3, kurtosis 10 give SR0 = 0.1132 per day and
DSR = 0.90. Caveat: ``N`` should count *independent* trials; neighbouring grid points are
correlated, so using the raw number of trials makes the deflation conservative.

**PBO by CSCV** (Bailey, Borwein, Lopez de Prado & Zhu, "The Probability of Backtest
Overfitting", J. Computational Finance 2017). The ``(T, N)`` matrix of per-period returns of
``N`` trials is cut into ``S`` (even) equal, contiguous blocks of rows (the oldest ``T mod S``
rows are dropped). For every choice of ``S/2`` blocks as in-sample (train) and the others as
out-of-sample (test), the trial with the best train Sharpe ratio is taken and its test Sharpe is
ranked among all trials (average ranks for ties, 1 = worst); with ``w = rank / (N + 1)`` the
logit is ``ln(w / (1 - w))``. PBO is the fraction of splits with logit <= 0: how often the
in-sample winner is at or below the median out of sample. ``C(16, 8) = 12,870`` splits for
S = 16. Also reported: the probability that the selected trial loses out of sample (test Sharpe
< 0) and the slope of test on train Sharpe of the selected trials (performance degradation).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from itertools import combinations
from statistics import NormalDist
from typing import Any

import numpy as np
import numpy.typing as npt

from noxfx.errors import InsufficientData, InvalidInput

EULER_GAMMA = 0.5772156649015329
_NORMAL = NormalDist()


@dataclass(frozen=True, slots=True)
class DeflatedSharpe:
    """The Deflated Sharpe Ratio of a selected strategy; Sharpe ratios per period (daily)."""

    dsr: float  # probability (0..1) that the true Sharpe ratio is above zero after selection
    sharpe: float  # the selected strategy's Sharpe ratio per period
    expected_max_sharpe: float  # SR0: the best Sharpe ratio expected from luck alone
    n_trials: int
    n_observations: int
    skewness: float
    kurtosis: float  # 3.0 for normal returns
    trials_sharpe_variance: float

    def as_dict(self) -> dict[str, Any]:
        return {k: _finite(getattr(self, k)) for k in self.__slots__}


@dataclass(frozen=True, slots=True)
class PBOResult:
    """Probability of backtest overfitting by CSCV (see the module docstring)."""

    pbo: float  # fraction of splits whose in-sample winner ranks at or below the OOS median
    n_splits: int
    n_blocks: int
    block_length: int  # returns per block
    n_trials: int
    prob_oos_loss: float  # fraction of splits where the in-sample winner loses out of sample
    degradation_slope: float  # OOS Sharpe regressed on IS Sharpe of the selected trials
    logits: npt.NDArray[np.float64] = field(repr=False)

    def as_dict(self) -> dict[str, Any]:
        out = {k: _finite(getattr(self, k)) for k in self.__slots__ if k != "logits"}
        out["logit_median"] = _finite(float(np.median(self.logits))) if len(self.logits) else None
        return out


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def expected_max_sharpe(n_trials: int, variance: float) -> float:
    """SR0: the expected maximum of ``n_trials`` Sharpe ratios (per period) of unskilled
    strategies whose estimates have ``variance``; 0 for a single trial."""
    if n_trials <= 1 or not variance > 0:
        return 0.0
    z1 = _NORMAL.inv_cdf(1.0 - 1.0 / n_trials)
    z2 = _NORMAL.inv_cdf(1.0 - 1.0 / (n_trials * math.e))
    return math.sqrt(variance) * ((1.0 - EULER_GAMMA) * z1 + EULER_GAMMA * z2)


def probabilistic_sharpe_ratio(
    sharpe: float, benchmark: float, n_observations: int, skewness: float, kurtosis: float
) -> float:
    """Probability that the true Sharpe ratio exceeds ``benchmark`` (both per period), given
    ``n_observations`` returns with ``skewness`` and (non-excess) ``kurtosis``."""
    if n_observations < 2 or not math.isfinite(sharpe):
        return math.nan
    denom = 1.0 - skewness * sharpe + (kurtosis - 1.0) / 4.0 * sharpe**2
    if not denom > 0:
        return math.nan
    z = (sharpe - benchmark) * math.sqrt(n_observations - 1) / math.sqrt(denom)
    return _NORMAL.cdf(z)


def deflated_sharpe(
    sharpe: float,
    n_observations: int,
    skewness: float,
    kurtosis: float,
    n_trials: int,
    trials_sharpe_variance: float,
) -> DeflatedSharpe:
    """The Deflated Sharpe Ratio from summary numbers (Sharpe ratios per period)."""
    if n_trials < 1:
        raise InvalidInput("n_trials must be at least 1.")
    sr0 = expected_max_sharpe(n_trials, trials_sharpe_variance)
    return DeflatedSharpe(
        dsr=probabilistic_sharpe_ratio(sharpe, sr0, n_observations, skewness, kurtosis),
        sharpe=sharpe,
        expected_max_sharpe=sr0,
        n_trials=int(n_trials),
        n_observations=int(n_observations),
        skewness=skewness,
        kurtosis=kurtosis,
        trials_sharpe_variance=trials_sharpe_variance,
    )


def sharpe_per_period(returns: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Sharpe ratio (mean / sample standard deviation, not annualised) of each column of
    ``returns`` ``(T,)`` or ``(T, N)``; NaN where the deviation is zero. NaN returns are
    ignored."""
    r = np.asarray(returns, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.nanmean(r, axis=0)
        std = np.nanstd(r, axis=0, ddof=1)
        return np.where(std > 0, mean / std, np.nan)


def deflated_sharpe_from_returns(
    returns: npt.ArrayLike, trial_sharpes: npt.ArrayLike, n_trials: int | None = None
) -> DeflatedSharpe:
    """DSR of the strategy with per-period ``returns`` selected among trials whose per-period
    Sharpe ratios are ``trial_sharpes`` (NaN entries are left out of the variance; ``n_trials``
    defaults to their count). Skewness and kurtosis are the plain moment estimators."""
    r = np.asarray(returns, dtype=np.float64)
    r = r[np.isfinite(r)]
    sharpes = np.asarray(trial_sharpes, dtype=np.float64)
    finite = sharpes[np.isfinite(sharpes)]
    n = len(sharpes) if n_trials is None else n_trials
    variance = float(np.var(finite, ddof=1)) if len(finite) > 1 else 0.0
    sr = float(sharpe_per_period(r)) if len(r) > 1 else math.nan
    skew, kurt = _moments(r)
    return deflated_sharpe(sr, len(r), skew, kurt, max(int(n), 1), variance)


def _moments(r: npt.NDArray[np.float64]) -> tuple[float, float]:
    """Skewness and non-excess kurtosis (plain moment estimators; 0 and 3 when undefined)."""
    if len(r) < 3:
        return 0.0, 3.0
    d = r - r.mean()
    m2 = float(np.mean(d**2))
    if m2 <= 0:
        return 0.0, 3.0
    return float(np.mean(d**3) / m2**1.5), float(np.mean(d**4) / m2**2)


def cscv_splits(
    n_blocks: int, max_splits: int | None = None, seed: int = 0
) -> npt.NDArray[np.bool_]:
    """The CSCV train memberships ``(K, n_blocks)``: every choice of half the blocks, or a
    random sample of ``max_splits`` of them (without repetition) when there are more."""
    if n_blocks < 2 or n_blocks % 2:
        raise InvalidInput(f"CSCV needs an even number of blocks >= 2, got {n_blocks}.")
    half = n_blocks // 2
    total = math.comb(n_blocks, half)
    if max_splits is None or total <= max_splits:
        rows = np.zeros((total, n_blocks), dtype=np.bool_)
        for k, chosen in enumerate(combinations(range(n_blocks), half)):
            rows[k, list(chosen)] = True
        return rows
    rng = np.random.default_rng(seed)
    seen: set[bytes] = set()
    out: list[npt.NDArray[np.bool_]] = []
    while len(out) < max_splits:
        row = np.zeros(n_blocks, dtype=np.bool_)
        row[rng.choice(n_blocks, half, replace=False)] = True
        key = row.tobytes()
        if key not in seen:
            seen.add(key)
            out.append(row)
    return np.array(out)


@dataclass(frozen=True, slots=True)
class BlockStats:
    """Per-block sums of returns for CSCV, ``(n_blocks, n_trials)`` each: the count of finite
    returns, their sum and their sum of squares. Built from a returns matrix with
    :meth:`from_returns`; chunks of trials over the same periods can be joined with
    :meth:`concat` (how the optimiser keeps memory flat)."""

    count: npt.NDArray[np.float64]
    total: npt.NDArray[np.float64]
    total_sq: npt.NDArray[np.float64]
    block_length: int

    @classmethod
    def from_returns(cls, returns: npt.ArrayLike, n_blocks: int) -> BlockStats:
        """Blocks of ``returns`` ``(T, N)``: ``n_blocks`` equal contiguous row blocks, the
        oldest ``T mod n_blocks`` rows dropped."""
        r = np.asarray(returns, dtype=np.float64)
        if r.ndim != 2:
            raise InvalidInput("PBO needs a (periods, trials) matrix of returns.")
        t = r.shape[0] // n_blocks
        if t < 2:
            raise InsufficientData(
                f"PBO with {n_blocks} blocks needs at least {2 * n_blocks} returns, "
                f"got {r.shape[0]}."
            )
        blocks = r[r.shape[0] - t * n_blocks :].reshape(n_blocks, t, r.shape[1])
        ok = np.isfinite(blocks)
        vals = np.where(ok, blocks, 0.0)
        return cls(ok.sum(axis=1).astype(np.float64), vals.sum(axis=1), (vals**2).sum(axis=1), t)

    @classmethod
    def concat(cls, parts: list[BlockStats]) -> BlockStats:
        """Join the trials (columns) of several block statistics over the same periods."""
        return cls(
            np.concatenate([p.count for p in parts], axis=1),
            np.concatenate([p.total for p in parts], axis=1),
            np.concatenate([p.total_sq for p in parts], axis=1),
            parts[0].block_length,
        )

    @property
    def n_blocks(self) -> int:
        return int(self.count.shape[0])

    @property
    def n_trials(self) -> int:
        return int(self.count.shape[1])


def _sharpe_from_sums(cnt: np.ndarray, s1: np.ndarray, s2: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = s1 / cnt
        var = (s2 - cnt * mean**2) / (cnt - 1)
        std = np.sqrt(np.maximum(var, 0.0))
        # a flat trial (no trades in the sample) has Sharpe 0, not undefined
        out = np.where(std > 1e-15 * np.maximum(np.abs(mean), 1.0), mean / std, 0.0)
    return np.where(cnt > 1, out, np.nan)


def _average_rank_of(values: np.ndarray, picked: np.ndarray) -> np.ndarray:
    """Rank (1 = worst, ties averaged) of ``values[k, picked[k]]`` within each row ``k``.
    NaN counts as worse than everything."""
    v = np.where(np.isfinite(values), values, -np.inf)
    mine = v[np.arange(len(v)), picked][:, None]
    below = (v < mine).sum(axis=1)
    ties = (v == mine).sum(axis=1)  # includes the picked trial itself
    return below + (ties + 1) / 2.0


def probability_of_backtest_overfitting(
    returns: npt.ArrayLike,
    n_blocks: int = 16,
    *,
    max_splits: int | None = None,
    seed: int = 0,
) -> PBOResult:
    """PBO by CSCV of ``returns`` ``(T, N)``: T per-period returns (rows, oldest first) of N
    trials (columns). ``n_blocks`` (even) is S; ``max_splits`` caps the number of train/test
    splits by random sampling (all ``C(S, S/2)`` by default). Raises
    :class:`~noxfx.errors.InsufficientData` with fewer than 2 trials or 2 returns per block."""
    r = np.asarray(returns, dtype=np.float64)
    if r.ndim != 2:
        raise InvalidInput("PBO needs a (periods, trials) matrix of returns.")
    return pbo_from_blocks(BlockStats.from_returns(r, n_blocks), max_splits=max_splits, seed=seed)


def pbo_from_blocks(
    stats: BlockStats, *, max_splits: int | None = None, seed: int = 0
) -> PBOResult:
    """PBO by CSCV from per-block sums (see :func:`probability_of_backtest_overfitting`)."""
    n_blocks, n_trials = stats.n_blocks, stats.n_trials
    if n_trials < 2:
        raise InsufficientData("PBO needs at least 2 trials.")
    cnt, s1, s2 = stats.count, stats.total, stats.total_sq
    splits = cscv_splits(n_blocks, max_splits, seed).astype(np.float64)
    logits, is_best, oos_best = [], [], []
    chunk = max(1, 2_000_000 // max(n_trials, 1) // 3)
    for start in range(0, len(splits), chunk):
        train = splits[start : start + chunk]
        test = 1.0 - train
        sr_train = _sharpe_from_sums(train @ cnt, train @ s1, train @ s2)
        sr_test = _sharpe_from_sums(test @ cnt, test @ s1, test @ s2)
        picked = np.argmax(np.where(np.isfinite(sr_train), sr_train, -np.inf), axis=1)
        rank = _average_rank_of(sr_test, picked)
        w = rank / (n_trials + 1.0)
        logits.append(np.log(w / (1.0 - w)))
        rows = np.arange(len(train))
        is_best.append(sr_train[rows, picked])
        oos_best.append(sr_test[rows, picked])
    lam = np.concatenate(logits)
    x, y = np.concatenate(is_best), np.concatenate(oos_best)
    ok = np.isfinite(x) & np.isfinite(y)
    slope = math.nan
    if ok.sum() > 2 and np.ptp(x[ok]) > 0:
        slope = float(np.polyfit(x[ok], y[ok], 1)[0])
    return PBOResult(
        pbo=float(np.mean(lam <= 0.0)),
        n_splits=len(lam),
        n_blocks=n_blocks,
        block_length=stats.block_length,
        n_trials=n_trials,
        prob_oos_loss=float(np.mean(np.where(np.isfinite(y), y, 0.0) < 0.0)),
        degradation_slope=slope,
        logits=lam,
    )


__all__ = [
    "EULER_GAMMA",
    "BlockStats",
    "DeflatedSharpe",
    "PBOResult",
    "cscv_splits",
    "deflated_sharpe",
    "deflated_sharpe_from_returns",
    "expected_max_sharpe",
    "pbo_from_blocks",
    "probabilistic_sharpe_ratio",
    "probability_of_backtest_overfitting",
    "sharpe_per_period",
]
