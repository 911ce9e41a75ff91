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
    assert plan.break_even_win_rate == pytest.approx((1 + plan.cost_r) / 2)
    assert plan.expected_value_r == pytest.approx(p - (1 - p) - plan.cost_r)
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
    assert charged.expected_value_r == pytest.approx(p - (1 - p) - charged.cost_r)
    assert charged.break_even_win_rate > plain.break_even_win_rate
