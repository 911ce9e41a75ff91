"""Trading plans on real bars: invariants, honest NO_TRADE, and no use of the future."""

from __future__ import annotations

import itertools
import math

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from noxfx.data.formats import read_file
from noxfx.plans.generator import PlanRequest, generate_plan
from noxfx.risk.drawdown import AccountState
from noxfx.timeframes import resample
from tests.conftest import shared


@pytest.fixture(scope="module")
def eurusd() -> pd.DataFrame:
    frame = read_file(shared("generic/EURUSD_H1.csv.gz")).frame.drop(columns="line")
    return frame[frame["close"] > 0].loc["2016-01-01":]


def _higher(bars: pd.DataFrame) -> dict[str, pd.DataFrame]:
    return {"4h": resample(bars, "4h", source="1h"), "1d": resample(bars, "1d", source="1h")}


@pytest.mark.parametrize("cut", ["2017-05-10 13:00", "2018-11-21 08:00", "2019-08-02 15:00",
                                 "2020-03-12 10:00", "2020-12-29 08:00"])  # fmt: skip
def test_plan_invariants(eurusd: pd.DataFrame, cut: str) -> None:
    bars = eurusd.loc[:cut]
    plan = generate_plan(PlanRequest("EURUSD", "1h", balance=10_000, risk_pct=1.0), bars,
                         _higher(bars))  # fmt: skip
    long = plan.considered_direction == "LONG"
    prices = [plan.stop.price, plan.entry.price, *[t.price for t in plan.targets]]
    assert prices == sorted(prices) if long else prices == sorted(prices, reverse=True)
    assert plan.entry.price == (plan.quote.ask if long else plan.quote.bid)
    # risk equals balance x risk % within one lot step
    one_step = 0.01 * plan.stop.pips * plan.position.pip_value
    assert 100.0 - one_step <= plan.position.risk_amount + 1e-9 <= 100.0 + 1e-9
    assert plan.as_of == bars.index[-1] + pd.Timedelta(hours=1)
    p = plan.probability.tp1_before_stop
    assert p is not None and 0 <= p <= 1 and plan.probability.cases >= 30
    win, loss = plan.payoff_win_r, plan.payoff_loss_r
    assert plan.payoff_source.startswith("setup history") and win > 0 > loss
    assert plan.break_even_win_rate == pytest.approx((plan.cost_r - loss) / (win - loss))
    assert plan.expected_value_r == pytest.approx(p * win + (1 - p) * loss - plan.cost_r)
    if plan.direction == "NO_TRADE":
        assert plan.no_trade_reasons
    else:
        assert plan.expected_value_r > 0 and not plan.no_trade_reasons
    assert 1 <= plan.risk_score <= 10 and 0 <= plan.confidence_score <= 1
    assert plan.history is not None and plan.history.end == bars.index[-1]


def test_plan_does_not_read_the_future(eurusd: pd.DataFrame) -> None:
    bars = eurusd.loc[:"2019-08-02 15:00"]
    a = generate_plan(PlanRequest("EURUSD"), bars, _higher(bars))
    # same cut, but higher frames built from the full history (they run past as_of)
    b = generate_plan(PlanRequest("EURUSD"), bars, _higher(eurusd))
    assert a.as_dict() == b.as_dict()


def test_drawdown_halt_means_no_trade(eurusd: pd.DataFrame) -> None:
    bars = eurusd.loc[:"2020-12-29 08:00"]
    plan = generate_plan(PlanRequest("EURUSD"), bars, _higher(bars),
                         account_state=AccountState(8_000, 10_000))  # fmt: skip
    assert plan.direction == "NO_TRADE"
    assert any("drawdown" in r for r in plan.no_trade_reasons)


def test_ml_probability_is_used_when_given(eurusd: pd.DataFrame) -> None:
    bars = eurusd.loc[:"2020-12-29 08:00"]
    plan = generate_plan(PlanRequest("EURUSD"), bars, _higher(bars),
                         ml_probability=(0.7, 0.3, "v1", 1234))  # fmt: skip
    expected = 0.7 if plan.considered_direction == "LONG" else 0.3
    assert plan.probability.tp1_before_stop == expected
    assert plan.probability.source == "ml:v1" and plan.probability.calibrated
    assert plan.probability.cases == 1234


def test_cross_on_usd_account_uses_conversion(eurusd: pd.DataFrame) -> None:
    gbp = read_file(shared("generic/GBPUSD_H1.csv.gz")).frame.loc["2016-01-01":"2019-08-02 15:00"]
    bars = gbp.drop(columns="line")
    plan = generate_plan(PlanRequest("GBPUSD", account_currency="EUR", risk_pct=1.0), bars,
                         _higher(bars), prices={"EURUSD": 1.11})  # fmt: skip
    assert plan.position.pip_value == pytest.approx(10 / 1.11)
    assert math.isfinite(plan.position.risk_amount)


@settings(max_examples=8, deadline=None)
@given(cut=st.integers(3_000, 31_000), tolerance=st.sampled_from(["low", "medium", "high"]),
       balance=st.floats(1_000, 1_000_000), risk=st.floats(0.1, 3.0))  # fmt: skip
def test_plan_properties(
    eurusd: pd.DataFrame, cut: int, tolerance: str, balance: float, risk: float
) -> None:
    """Ordering of levels and the risk budget hold at any time, for any account."""
    bars = eurusd.iloc[:cut]
    req = PlanRequest("EURUSD", balance=balance, risk_pct=risk, risk_tolerance=tolerance)
    plan = generate_plan(req, bars, _higher(bars))
    sign = 1 if plan.considered_direction == "LONG" else -1
    levels = [plan.stop.price, plan.entry.price, *[t.price for t in plan.targets]]
    assert all(sign * (b - a) > 0 for a, b in itertools.pairwise(levels))
    budget = balance * risk / 100
    one_step = 0.01 * plan.stop.pips * plan.position.pip_value
    assert plan.position.risk_amount <= budget + 1e-6
    if 0 < plan.position.lots < 100:  # 100 lots is the broker maximum: a cap, noted in the plan
        assert budget - plan.position.risk_amount < one_step + 1e-6


def test_swap_enters_the_expected_value_or_is_named_missing(eurusd: pd.DataFrame) -> None:
    """Swap is a cost like the spread: with the broker's rates the plan charges the mean
    rollover days of its past trades; without them it says the EV leaves swap out."""
    bars = eurusd.loc[:"2019-08-02 15:00"]
    plain = generate_plan(PlanRequest("EURUSD", risk_pct=1.0), bars, _higher(bars))
    assert plain.swap_r is None and plain.swap_days is not None and plain.swap_days >= 0
    assert any("swap rates" in m and "leaves swap out" in m for m in plain.missing_inputs)
    charged = generate_plan(PlanRequest("EURUSD", risk_pct=1.0, swap_long=-8.0, swap_short=-8.0),
                            bars, _higher(bars))  # fmt: skip
    assert not any("swap rates" in m for m in charged.missing_inputs)
    expected = -8.0 * charged.position.lots * charged.swap_days / charged.position.risk_amount
    assert charged.swap_r == pytest.approx(expected) and charged.swap_r < 0
    assert charged.cost_r == pytest.approx(plain.cost_r - charged.swap_r)
    p = charged.probability.tp1_before_stop
    win, loss = charged.payoff_win_r, charged.payoff_loss_r
    assert charged.expected_value_r == pytest.approx(p * win + (1 - p) * loss - charged.cost_r)
    assert charged.break_even_win_rate > plain.break_even_win_rate


def _side_trades(bars: pd.DataFrame, plan_long: bool) -> pd.DataFrame:
    """The setup's TP1-or-stop trades, rebuilt here from the engine (no commission, no swap)."""
    from noxfx.backtest.config import BacktestConfig, Distance, Signals
    from noxfx.backtest.engine import simulate
    from noxfx.plans.history import HORIZON_BARS
    from noxfx.plans.setup import SetupParams, setup_signals

    params = SetupParams.for_tolerance("medium")
    sig = setup_signals(bars, 3600, _higher(bars), params)
    fresh = {k: sig[k] & ~sig[k].shift(1, fill_value=False) for k in ("long", "short")}
    k = params.stop_atr
    cfg = BacktestConfig(symbol="EURUSD", spread_pips=0.8, use_spread_column=False,
                         stop_loss=Distance.atr(k), take_profit=Distance.atr(k),
                         max_bars_in_trade=HORIZON_BARS, risk_percent=1.0,
                         conversion_rate=1.0)  # fmt: skip
    t = simulate(bars, Signals(long_entry=fresh["long"], short_entry=fresh["short"]), cfg).trades
    return t[t["direction"] == ("long" if plan_long else "short")]


@pytest.mark.parametrize("cut", ["2018-11-21 08:00", "2020-12-29 08:00"])
def test_expected_value_is_what_the_setups_trades_returned(eurusd: pd.DataFrame, cut: str) -> None:
    """The history's trades paid the spread: EV is their mean R, not 2P - 1 - spread (issue 13:
    the spread was charged twice)."""
    bars = eurusd.loc[:cut]
    plan = generate_plan(PlanRequest("EURUSD", spread_pips=0.8), bars, _higher(bars))
    trades = _side_trades(bars, plan.considered_direction == "LONG")
    assert plan.probability.cases == len(trades)
    assert plan.expected_value_r == pytest.approx(trades["r_multiple"].mean(), abs=1e-9)
    assert plan.cost_r == 0.0  # no commission given, no swap given: nothing on top
    assert any("commission" in m for m in plan.missing_inputs)
    # the old formula charged the spread a second time: strictly more pessimistic
    p = plan.probability.tp1_before_stop
    assert p is not None
    assert p - (1 - p) - 0.8 / plan.stop.pips < plan.expected_value_r


def test_commission_is_charged_on_top_of_the_history(eurusd: pd.DataFrame) -> None:
    bars = eurusd.loc[:"2020-12-29 08:00"]
    free = generate_plan(PlanRequest("EURUSD", spread_pips=0.8), bars, _higher(bars))
    paid = generate_plan(PlanRequest("EURUSD", spread_pips=0.8, commission_per_lot=3.5), bars,
                         _higher(bars))  # fmt: skip
    extra = 2 * 3.5 / paid.position.pip_value / paid.stop.pips
    assert paid.cost_r == pytest.approx(extra)
    assert free.expected_value_r is not None and paid.expected_value_r is not None
    assert paid.expected_value_r == pytest.approx(free.expected_value_r - extra)
    assert not any("commission" in m for m in paid.missing_inputs)


def test_a_model_probability_pays_the_spread_on_the_barriers(eurusd: pd.DataFrame) -> None:
    bars = eurusd.loc[:"2020-12-29 08:00"]
    plan = generate_plan(PlanRequest("EURUSD", spread_pips=0.8), bars, _higher(bars),
                         ml_probability=(0.6, 0.6, "v1", 500))  # fmt: skip
    assert (plan.payoff_win_r, plan.payoff_loss_r) == (1.0, -1.0)
    assert plan.cost_r == pytest.approx(0.8 / plan.stop.pips)
    assert plan.expected_value_r == pytest.approx(0.6 - 0.4 - plan.cost_r)
    assert plan.break_even_win_rate == pytest.approx((1 + plan.cost_r) / 2)
