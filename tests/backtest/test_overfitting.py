"""Deflated Sharpe Ratio and PBO by CSCV: the papers' formulas, a slow reference, and the
behaviour on real EURUSD bars (a dominant strategy vs pure-noise strategies)."""

from __future__ import annotations

import math
from itertools import combinations
from statistics import NormalDist

import numpy as np
import pandas as pd
import pytest

from noxfx.backtest import BacktestConfig, Signals
from noxfx.backtest.optimize import optimize, space_for
from noxfx.backtest.overfitting import (
    BlockStats,
    cscv_splits,
    deflated_sharpe,
    deflated_sharpe_from_returns,
    expected_max_sharpe,
    pbo_from_blocks,
    probabilistic_sharpe_ratio,
    probability_of_backtest_overfitting,
)
from noxfx.backtest.strategy import Parameter, Strategy
from noxfx.errors import InsufficientData, InvalidInput


def test_deflated_sharpe_matches_the_papers_worked_example() -> None:
    """Bailey & Lopez de Prado (2014), section 5: N = 100 trials, V[SR] = 1/2 annualised,
    best SR 2.5 annualised over 5 years of daily data (T = 1,250), skew -3, kurtosis 10 give
    SR0 = 0.1132 (per day) and DSR = 0.9004."""
    days = 250
    result = deflated_sharpe(2.5 / math.sqrt(days), 1250, -3.0, 10.0, 100, 0.5 / days)
    assert result.expected_max_sharpe == pytest.approx(0.1132, abs=5e-5)
    assert result.dsr == pytest.approx(0.9004, abs=5e-4)
    # the same by hand, term by term
    gamma = 0.5772156649015329
    z = NormalDist().inv_cdf
    sr0 = math.sqrt(0.5 / days) * ((1 - gamma) * z(1 - 1 / 100) + gamma * z(1 - 1 / (100 * math.e)))
    sr = 2.5 / math.sqrt(days)
    stat = (sr - sr0) * math.sqrt(1249) / math.sqrt(1 + 3 * sr + (10 - 1) / 4 * sr**2)
    assert result.dsr == pytest.approx(NormalDist().cdf(stat), rel=1e-12)


def test_psr_and_sr0_edge_cases() -> None:
    assert expected_max_sharpe(1, 0.5) == 0.0
    assert expected_max_sharpe(100, 0.0) == 0.0
    assert probabilistic_sharpe_ratio(0.1, 0.1, 500, 0.0, 3.0) == pytest.approx(0.5)
    assert math.isnan(probabilistic_sharpe_ratio(0.1, 0.0, 1, 0.0, 3.0))
    # more trials -> higher bar -> lower DSR
    low = deflated_sharpe(0.1, 1000, 0.0, 3.0, 1000, 0.002).dsr
    high = deflated_sharpe(0.1, 1000, 0.0, 3.0, 10, 0.002).dsr
    assert low < high
    with pytest.raises(InvalidInput):
        deflated_sharpe(0.1, 1000, 0.0, 3.0, 0, 0.002)


def test_dsr_from_returns_uses_sample_moments() -> None:
    rng = np.random.default_rng(3)
    r = rng.standard_t(5, 2000) * 0.01 + 0.001
    trials = rng.normal(0.0, 0.03, 50)
    out = deflated_sharpe_from_returns(r, trials)
    d = r - r.mean()
    skew = np.mean(d**3) / np.mean(d**2) ** 1.5
    kurt = np.mean(d**4) / np.mean(d**2) ** 2
    ref = deflated_sharpe(r.mean() / r.std(ddof=1), 2000, skew, kurt, 50, np.var(trials, ddof=1))
    assert out.dsr == pytest.approx(ref.dsr, rel=1e-12)
    assert out.n_trials == 50 and out.kurtosis == pytest.approx(kurt)


def _pbo_reference(m: np.ndarray, s: int) -> float:
    """Slow CSCV straight from the paper: concatenate blocks, Sharpe, rank, logit."""
    t = m.shape[0] // s
    m = m[m.shape[0] - t * s :]
    blocks = [m[i * t : (i + 1) * t] for i in range(s)]
    logits = []
    for train_ids in combinations(range(s), s // 2):
        test_ids = [i for i in range(s) if i not in train_ids]
        train = np.concatenate([blocks[i] for i in train_ids])
        test = np.concatenate([blocks[i] for i in test_ids])
        sr_train = train.mean(0) / train.std(0, ddof=1)
        sr_test = test.mean(0) / test.std(0, ddof=1)
        best = int(np.argmax(sr_train))
        rank = pd.Series(sr_test).rank(method="average").iloc[best]
        w = rank / (m.shape[1] + 1)
        logits.append(math.log(w / (1 - w)))
    return float(np.mean(np.asarray(logits) <= 0))


def test_pbo_equals_a_slow_reference() -> None:
    rng = np.random.default_rng(7)
    m = rng.normal(0.0, 0.01, (403, 12))
    m[:, 4] += 0.0008
    for s in (4, 6, 8):
        assert probability_of_backtest_overfitting(m, s).pbo == pytest.approx(_pbo_reference(m, s))


def test_cscv_splits() -> None:
    splits = cscv_splits(16)
    assert splits.shape == (12870, 16) and (splits.sum(1) == 8).all()
    assert len({row.tobytes() for row in splits}) == 12870
    sample = cscv_splits(16, max_splits=500, seed=1)
    assert sample.shape == (500, 16) and len({row.tobytes() for row in sample}) == 500
    with pytest.raises(InvalidInput):
        cscv_splits(5)


def test_pbo_synthetic_dominant_vs_noise() -> None:
    # one noise matrix can give anything from 0.1 to 0.8 (the splits share data); on average
    # over independent matrices PBO is near 0.5
    pbos = [
        probability_of_backtest_overfitting(
            np.random.default_rng(s).normal(0, 0.01, (2000, 40))
        ).pbo
        for s in range(10)
    ]
    assert 0.3 < np.mean(pbos) < 0.7
    noise = np.random.default_rng(11).normal(0.0, 0.01, (2000, 40))
    dominant = noise.copy()
    dominant[:, 7] += 0.004
    result = probability_of_backtest_overfitting(dominant)
    assert result.pbo == 0.0 and result.prob_oos_loss == 0.0
    assert result.n_splits == 12870 and result.n_trials == 40 and result.block_length == 125
    chunks = BlockStats.concat([BlockStats.from_returns(dominant[:, :15], 16),
                                BlockStats.from_returns(dominant[:, 15:], 16)])  # fmt: skip
    assert pbo_from_blocks(chunks).pbo == 0.0
    with pytest.raises(InsufficientData):
        probability_of_backtest_overfitting(noise[:20], 16)
    with pytest.raises(InsufficientData):
        probability_of_backtest_overfitting(noise[:, :1])


class _Coin(Strategy):
    """Random entries, one coin per ``variant``; the variant ``cheat_at`` instead has perfect
    foresight of the next bar's move: the clearly dominant trial."""

    name = "coin"
    parameters = {"variant": Parameter("variant", 0, 0, 29, 1)}  # noqa: RUF012

    def __init__(self, cheat_at: int | None = None) -> None:
        self.cheat_at = cheat_at
        super().__init__()

    def signals(self, bars: pd.DataFrame, params: dict[str, int | float]) -> Signals:
        n = len(bars)
        if params["variant"] == self.cheat_at:
            # the fill is at the next open; peek at that bar's close (lookahead on purpose)
            move = bars["close"].shift(-1).to_numpy() - bars["open"].shift(-1).to_numpy()
            return Signals.from_direction(np.sign(np.nan_to_num(move)))
        rng = np.random.default_rng(int(params["variant"]))
        return Signals.from_direction(np.where(rng.random(n) < 0.5, 1.0, -1.0) *
                                      (rng.random(n) < 0.2))  # fmt: skip


@pytest.fixture(scope="module")
def year_of_bars(h1_bars: pd.DataFrame) -> pd.DataFrame:
    return h1_bars.loc["2019-01-01":"2019-12-31"]


def test_pbo_high_for_random_signals_on_real_bars(year_of_bars: pd.DataFrame) -> None:
    result = optimize(_Coin(), year_of_bars, None, BacktestConfig(symbol="EURUSD"))
    assert result.n_trials == 30
    assert result.pbo is not None and result.pbo.pbo > 0.3, result.pbo
    assert result.deflated_sharpe.dsr < 0.95  # the luckiest coin is not significant


def test_pbo_near_zero_for_a_dominant_strategy_on_real_bars(year_of_bars: pd.DataFrame) -> None:
    coin = _Coin(cheat_at=17)
    result = optimize(coin, year_of_bars, space_for(coin, {"variant": range(21)}),
                      BacktestConfig(symbol="EURUSD"))  # fmt: skip
    assert result.best_params == {"variant": 17}
    assert result.pbo is not None and result.pbo.pbo < 0.01
    assert result.deflated_sharpe.dsr > 0.99
