"""The ledger resolver and the batched backfill on the bundled real bars."""

from __future__ import annotations

import numpy as np
import pandas as pd

from noxfx.backtest.config import BacktestConfig, Distance, Signals
from noxfx.backtest.engine import simulate
from noxfx.data.sample import bootstrap
from noxfx.data.store import BarStore
from noxfx.plans.backfill import backfill_plans
from noxfx.plans.generator import PlanRequest, generate_plan
from noxfx.portfolio.ledger import resolve
from noxfx.portfolio.reliability import reliability_frame, wilson_interval


def _store(tmp_path) -> BarStore:  # type: ignore[no-untyped-def]
    store = BarStore(tmp_path / "bars")
    bootstrap(store)
    return store


def test_backfill_matches_the_generator_and_resolver_matches_simulate(tmp_path) -> None:  # type: ignore[no-untyped-def]
    store = _store(tmp_path)
    bars = store.read("EURUSD", "1h")
    higher = {h: store.read("EURUSD", h) for h in ("4h", "1d")}
    plans = backfill_plans(bars, higher, "EURUSD", "1h", start="2017-01-01", end="2017-12-31",
                           every=24)  # fmt: skip
    assert len(plans) > 200
    for k in (5, 77, 150):
        row = plans.iloc[k]
        j = int(row["bar"])
        t = bars.index[j]
        w = bars.iloc[: j + 1]
        w = w[w.index >= t - pd.DateOffset(years=5)]
        fr = {h: f[(f.index <= t) & (f.index >= w.index[0] - pd.DateOffset(years=1))]
              for h, f in higher.items()}  # fmt: skip
        plan = generate_plan(PlanRequest(symbol="EURUSD", timeframe="1h"), w, fr)
        assert plan.as_of == row["as_of"]
        assert plan.direction == row["direction"]
        assert plan.considered_direction == row["considered"]
        assert (plan.entry.price, plan.stop.price, plan.targets[0].price) == (
            row["entry"],
            row["stop"],
            row["tp1"],
        )
        assert abs(plan.probability.tp1_before_stop - row["p_tp1"]) < 0.005  # type: ignore[operator]

    # non-overlapping plans (every 72 bars > the 48-bar horizon): one simulate() run trades them
    # all, and must give the resolver's outcomes and exit prices
    sparse = plans.iloc[::3].reset_index(drop=True)
    resolved = resolve(bars, sparse, "EURUSD")
    assert set(resolved["outcome"]) <= {"tp1_first", "stop_first", "time_exit", "expired_unfilled"}
    sig_bar = sparse["bar"].to_numpy()
    long_e = np.zeros(len(bars), bool)
    short_e = np.zeros(len(bars), bool)
    long_e[sig_bar[sparse["considered"] == "LONG"]] = True
    short_e[sig_bar[sparse["considered"] == "SHORT"]] = True
    pip = 0.0001
    stop_d = pd.Series(np.nan, index=bars.index)
    tp_d = pd.Series(np.nan, index=bars.index)
    stop_d.iloc[sig_bar] = sparse["stop_pips"].to_numpy() * pip
    tp_d.iloc[sig_bar] = sparse["tp1_pips"].to_numpy() * pip
    spread = float(sparse["spread_pips"].iloc[0])
    res = simulate(bars, Signals(long_entry=long_e, short_entry=short_e, stop_distance=stop_d,
                                 target_distance=tp_d),
                   BacktestConfig(symbol="EURUSD", spread_pips=spread, use_spread_column=False,
                                  stop_loss=Distance.pips(1), max_bars_in_trade=48))  # fmt: skip
    filled = resolved[resolved["outcome"] != "expired_unfilled"].reset_index(drop=True)
    t = res.trades.reset_index(drop=True)
    assert len(t) == len(filled)
    words = {"take_profit": "tp1_first", "stop_loss": "stop_first", "time_exit": "time_exit"}
    assert [words[str(x)] for x in t["exit_reason"]] == list(filled["outcome"])
    np.testing.assert_allclose(t["exit_price"], filled["exit_price"])
    np.testing.assert_allclose(t["entry_price"], filled["fill_price"])


def test_reliability_table() -> None:
    rng = np.random.default_rng(1)
    p = rng.uniform(0.3, 0.7, 4000)
    y = (rng.uniform(size=4000) < p).astype(float)
    frame = pd.DataFrame({"p_tp1": p, "hit": y, "ev_r": 2 * p - 1, "realised_r": 2 * y - 1})
    rel = reliability_frame(frame)
    assert rel.n == 4000 and rel.ece is not None and rel.ece < 0.03
    assert rel.brier_skill is not None and rel.brier_skill > 0
    lo, hi = wilson_interval(45, 100)
    assert lo < 0.45 < hi
    biased = reliability_frame(frame.assign(p_tp1=np.clip(p + 0.1, 0, 1)))
    assert biased.calibrated is False and "MISCALIBRATED" in biased.verdict
