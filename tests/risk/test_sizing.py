from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from noxfx.errors import InvalidInput
from noxfx.risk.sizing import (
    LotRules,
    fixed_fractional,
    kelly,
    kelly_fraction,
    risk_parity_weights,
    round_lots,
    volatility_target,
)


def test_worked_example() -> None:
    # 10,000 USD, 1 %, 25-pip stop on EURUSD (10 USD/pip/lot): 100 / 250 = 0.4 lots
    size = fixed_fractional(10_000, 1.0, 25, 10.0)
    assert size.lots == pytest.approx(0.4) and size.units == pytest.approx(40_000)
    assert size.risk_amount == pytest.approx(100.0) and size.risk_pct == pytest.approx(1.0)


@given(
    balance=st.floats(100, 10_000_000),
    risk=st.floats(0.05, 5),
    stop=st.floats(1, 500),
    pip_value=st.floats(0.5, 20),
)
def test_risk_never_exceeds_the_budget_and_misses_by_under_one_step(
    balance: float, risk: float, stop: float, pip_value: float
) -> None:
    rules = LotRules()
    size = fixed_fractional(balance, risk, stop, pip_value, rules=rules)
    budget = balance * risk / 100
    assert size.risk_amount <= budget + 1e-6
    one_step = rules.step * stop * pip_value
    if size.lots > 0 and size.lots < rules.maximum:
        assert budget - size.risk_amount < one_step + 1e-6
    assert size.lots == round(size.lots, 2)


def test_below_minimum_lot_is_no_position() -> None:
    size = fixed_fractional(100, 0.5, 80, 10.0)  # 0.50 USD / 800 = 0.000625 lots
    assert size.lots == 0.0 and "below the minimum" in size.notes[0]


def test_round_lots() -> None:
    rules = LotRules(step=0.01, minimum=0.01, maximum=50)
    assert round_lots(0.4099999, rules) == 0.4
    assert round_lots(0.009, rules) == 0.0
    assert round_lots(120, rules) == 50


def test_kelly() -> None:
    assert kelly_fraction(0.55, 1.0) == pytest.approx(0.10)
    assert kelly_fraction(0.4, 1.0) < 0
    capped = kelly(10_000, 0.6, 2.0, 20, 10.0)  # full Kelly 40 %, quarter 10 % -> capped 2 %
    assert capped.risk_pct == pytest.approx(2.0) and "capped" in " ".join(capped.notes)
    none = kelly(10_000, 0.4, 1.0, 20, 10.0)
    assert none.lots == 0.0


def test_volatility_target_and_parity() -> None:
    size = volatility_target(10_000, 0.5, 70, 30, 10.0)  # 50 USD per 70-pip day
    assert size.lots == pytest.approx(0.07)
    w = risk_parity_weights({"EURUSD": 0.005, "GBPJPY": 0.010})
    assert w["EURUSD"] == pytest.approx(2 / 3) and sum(w.values()) == pytest.approx(1)


def test_bad_inputs() -> None:
    with pytest.raises(InvalidInput, match="stop distance must be positive"):
        fixed_fractional(10_000, 1, 0, 10)
    with pytest.raises(InvalidInput, match="Risk must be"):
        fixed_fractional(10_000, 150, 20, 10)
