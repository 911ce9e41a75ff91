"""Build a :class:`~noxfx.plans.model.TradingPlan` from bars (pure computation).

Steps: analyse (rating, trend, patterns, levels, higher timeframes); take the setup rule's
current signal (:mod:`noxfx.plans.setup`); enter at the ask (long) or bid (short), stop at
k x ATR, targets 1R/2R/3R; size from the risk budget with the pip value in the account
currency; estimate the probability of the first target before the stop (an ML model's
calibrated probability when one is given, else the setup's own history); then costs,
break-even win rate, expected value, confidence, risk score, rationale, warnings. NO_TRADE is
returned, with its reasons and the levels considered, when there is no signal, the expected
value after costs is not positive, the edge is below the tolerance's minimum, or drawdown
protection forbids a trade.

``confidence_score`` is the probability that the first target (1R) is hit before the stop: a
number a trader can check against outcomes, not a score of indicator agreement.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from noxfx.analysis.report import AnalysisReport
from noxfx.errors import InsufficientData
from noxfx.instruments import SESSIONS, Instrument, get_instrument
from noxfx.plans.history import SideHistory
from noxfx.plans.model import (
    Direction,
    Entry,
    PositionPlan,
    Probability,
    Quote,
    SetupHistory,
    Statement,
    StopLoss,
    TakeProfit,
    TradingPlan,
)
from noxfx.plans.payoff import BARRIERS
from noxfx.plans.setup import TARGET_FRACTIONS, TARGET_R, SetupParams, setup_signals
from noxfx.risk.drawdown import AccountState, protection
from noxfx.timeframes import parse_timeframe


@dataclass(frozen=True, slots=True)
class PlanRequest:
    """What the trader asks for. Money in ``account_currency``; risk in percent of balance."""

    symbol: str
    timeframe: str = "1h"
    balance: float = 10_000.0
    account_currency: str = "USD"
    risk_pct: float | None = None  # default: by risk tolerance (0.5 / 1 / 2 %)
    risk_tolerance: str = "medium"
    leverage: float = 30.0
    spread_pips: float | None = None  # default: the bars' spread column or the catalogue's
    commission_per_lot: float = 0.0  # account currency per lot per side
    #: The broker's swap per lot per night in the account currency (+ credit, - debit), for
    #: longs and shorts; None: unknown, and the expected value then leaves swap out (said in
    #: ``missing_inputs``).
    swap_long: float | None = None
    swap_short: float | None = None


def _quote(inst: Instrument, bars: pd.DataFrame, spread_pips: float | None) -> Quote:
    bid = float(bars["close"].iloc[-1])
    spread = inst.typical_spread_pips if spread_pips is None else spread_pips
    return Quote(bid=bid, ask=inst.round_price(bid + inst.from_pips(spread)), spread_pips=spread)


def _levels(
    inst: Instrument, long: bool, entry: float, atr: float, params: SetupParams
) -> tuple[StopLoss, list[TakeProfit]]:
    sign = 1.0 if long else -1.0
    dist = params.stop_atr * atr
    stop = StopLoss(
        price=inst.round_price(entry - sign * dist),
        pips=round(inst.to_pips(dist), 1),
        basis=f"{params.stop_atr:g} x ATR(14) = {inst.to_pips(atr):.1f} pips x {params.stop_atr:g}",
    )
    targets = [
        TakeProfit(
            price=inst.round_price(entry + sign * r * dist),
            pips=round(inst.to_pips(r * dist), 1),
            r_multiple=r,
            close_fraction=f,
        )
        for r, f in zip(TARGET_R, TARGET_FRACTIONS, strict=True)
    ]
    return stop, targets


def _risk_score(
    bars: pd.DataFrame, atr_series: pd.Series, spread_pips: float, inst: Instrument,
    as_of: pd.Timestamp, multiplier: float, warnings: list[str],
) -> int:  # fmt: skip
    """1 (calm, cheap, liquid hours) .. 10 (volatile, costly, thin, in drawdown)."""
    recent = atr_series.dropna().iloc[-500:]
    pct = float((recent < recent.iloc[-1]).mean()) if len(recent) > 20 else 0.5
    score = 1.0 + 4.0 * pct
    atr_pips = inst.to_pips(float(recent.iloc[-1])) if len(recent) else float("nan")
    if np.isfinite(atr_pips) and atr_pips > 0:
        score += min(2.0, 10.0 * spread_pips / atr_pips)
    if not _in_session(inst, as_of):
        score += 1.0
        warnings.append("outside the pair's main sessions: thinner liquidity, wider spreads")
    if multiplier < 1.0:
        score += 1.0
    score += min(2.0, 0.5 * sum("correlation" in w for w in warnings))
    return int(np.clip(round(score), 1, 10))


def _in_session(inst: Instrument, t: pd.Timestamp) -> bool:
    for name in inst.sessions:
        s = SESSIONS[name]
        local = t.tz_convert(s.tz)
        hhmm = f"{local:%H:%M}"
        if s.open_local <= hhmm < s.close_local and local.day_of_week < 5:
            return True
    return False


def _wilson(p: float, n: int) -> tuple[float, float]:
    if n == 0:
        return (0.0, 1.0)
    z = 1.96
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (float(centre - half), float(centre + half))


def generate_plan(
    request: PlanRequest,
    bars: pd.DataFrame,
    higher: Mapping[str, pd.DataFrame] | None = None,
    *,
    prices: Mapping[str, float] | None = None,
    account_state: AccountState | None = None,
    ml_probability: tuple[float | None, float | None, str, int] | None = None,
    ml_prediction: Any = None,
) -> TradingPlan:
    """The plan for ``request`` on ``bars`` (the request's timeframe, UTC bar open times).

    ``prices`` (symbol -> price at the same time) convert the pip value into the account currency
    for crosses; ``ml_probability`` is ``(p_long, p_short, model_version, oos_cases)`` from a
    calibrated model for exactly the plan's barriers; ``ml_prediction`` (a
    :class:`noxfx.ml.predict.Prediction`) is reported in the rationale and warnings. Its barriers
    (1 x ATR target and stop, 24 bars) are not the plan's, so it does not replace the setup's own
    probability.
    """
    from noxfx.analysis.report import analyze

    inst = get_instrument(request.symbol)
    tf = parse_timeframe(request.timeframe)
    params = SetupParams.for_tolerance(request.risk_tolerance)
    higher = dict(higher or {})
    report = analyze(inst.symbol, tf, bars, higher)
    as_of = report.as_of
    signals = setup_signals(bars, tf.seconds, {k: v for k, v in higher.items()
                                               if parse_timeframe(k) > tf}, params)  # fmt: skip
    last = signals.iloc[-1]
    long_signal, short_signal = bool(last["long"]), bool(last["short"])
    considered_long = long_signal or (not short_signal and float(last["rating"]) >= 0)
    spread_col = bars["spread"].iloc[-1] if "spread" in bars else None
    spread = request.spread_pips
    if spread is None and spread_col is not None and np.isfinite(spread_col) and spread_col > 0:
        spread = float(spread_col) / 10.0  # MT5 spreads are in points (pipettes)
    quote = _quote(inst, bars, spread)
    atr = report.indicators.get("atr_14")
    if atr is None or atr <= 0:
        raise InsufficientData(f"{inst.symbol} {tf}: no ATR(14) yet, cannot place a stop.")
    entry_price = quote.ask if considered_long else quote.bid
    entry = Entry("market", entry_price, as_of + pd.Timedelta(seconds=tf.seconds))
    stop, targets = _levels(inst, considered_long, entry_price, atr, params)

    warnings: list[str] = []
    missing: list[str] = []
    prices = dict(prices or {})
    prices.setdefault(inst.symbol, quote.mid)
    state = account_state or AccountState(request.balance, request.balance)
    guard = protection(state)
    warnings.extend(guard.reasons)
    risk_pct = request.risk_pct if request.risk_pct is not None else params.default_risk_pct
    position = _position(request, inst, stop, risk_pct, prices, guard.multiplier, missing)
    pip_value = position.pip_value

    history, sides = _history(bars, signals, params, inst, quote.spread_pips, missing)
    past = sides.get("long" if considered_long else "short")
    probability = _probability(considered_long, ml_probability, past)
    commission_pips = (2 * request.commission_per_lot / pip_value) if np.isfinite(pip_value) \
        else 0.0  # fmt: skip
    if request.commission_per_lot == 0.0:
        missing.append("commission (your broker's, per lot per side): not given, so the "
                       "expected value assumes none (give --commission)")  # fmt: skip
    swap_days = past.nights if past is not None else None
    swap_r = _swap_r(request, considered_long, position, swap_days, missing)
    # the history's trades paid the spread: with its probability, its payoffs; otherwise the
    # barriers' and the spread on top (noxfx.plans.payoff)
    payoff = past.payoff if (past is not None and past.payoff is not None
                             and probability.source == HISTORY_SOURCE) else BARRIERS  # fmt: skip
    spread_r = 0.0 if payoff.spread_included else quote.spread_pips / stop.pips
    cost_r = spread_r + commission_pips / stop.pips - (swap_r or 0.0)
    break_even = payoff.break_even(cost_r)
    p = probability.tp1_before_stop
    ev_r = None if p is None else payoff.expected_value_r(p, cost_r)
    ev_account = None if ev_r is None else ev_r * position.risk_amount

    reasons = _no_trade_reasons(
        long_signal or short_signal, float(last["rating"]), params, p, ev_r, break_even
    )
    if not guard.allowed:
        reasons.append("drawdown protection: " + "; ".join(guard.reasons))
    if position.lots == 0.0:
        reasons.append("the risk budget buys less than the minimum lot")
    direction: Direction = "NO_TRADE" if reasons else ("LONG" if considered_long else "SHORT")
    rationale = _rationale(report, last, probability, history, inst)
    if ml_prediction is not None:
        rationale.append(_ml_statement(ml_prediction))
        if not (ml_prediction.long.oos_skill or ml_prediction.short.oos_skill):
            warnings.append(f"ML model {ml_prediction.model_version} shows no "
                            "out-of-sample skill over the base rate: its probabilities are "
                            "not an edge")  # fmt: skip
    else:
        missing.append("ML prediction: no trained model (run `noxfx ml train`)")
    risk_score = _risk_score(bars, _atr_series(bars), quote.spread_pips, inst, as_of,
                             guard.multiplier, warnings)  # fmt: skip
    side = "below" if considered_long else "above"
    invalidation = (
        f"a trade through {stop.price} ({side} entry) voids the setup; unfilled "
        f"after {entry.valid_until:%Y-%m-%d %H:%M} UTC, regenerate the plan"
    )
    return TradingPlan(
        symbol=inst.symbol, timeframe=tf.name, as_of=as_of, quote=quote, direction=direction,
        considered_direction="LONG" if considered_long else "SHORT", entry=entry, stop=stop,
        targets=targets, position=position, probability=probability,
        break_even_win_rate=break_even, expected_value_r=ev_r, expected_value_account=ev_account,
        cost_r=cost_r, swap_r=swap_r, swap_days=swap_days, payoff_win_r=payoff.win_r,
        payoff_loss_r=payoff.loss_r, payoff_source=payoff.source,
        confidence_score=float(np.clip(p, 0, 1)) if p is not None else 0.0,
        risk_score=risk_score, rationale=rationale, history=history,
        invalidation=invalidation, warnings=warnings, missing_inputs=missing,
        no_trade_reasons=reasons, account_currency=request.account_currency.upper(),
        rating=report.rating.as_dict(),
    )  # fmt: skip


def _position(
    request: PlanRequest, inst: Instrument, stop: StopLoss, risk_pct: float,
    prices: Mapping[str, float], multiplier: float, missing: list[str],
) -> PositionPlan:  # fmt: skip
    """Fixed-fractional size with the pip value in the account currency, and its margin."""
    from noxfx.risk.conversion import margin_required, pip_value_per_lot
    from noxfx.risk.sizing import fixed_fractional

    try:
        pip_value = pip_value_per_lot(inst.symbol, request.account_currency, prices)
    except InsufficientData as exc:
        missing.append(str(exc))
        return PositionPlan(0.0, 0.0, 0.0, 0.0, float("nan"), None, request.leverage,
                            ["pip value unknown in the account currency"])  # fmt: skip
    size = fixed_fractional(request.balance, risk_pct, stop.pips, pip_value,
                            contract_size=inst.contract_size, multiplier=multiplier)  # fmt: skip
    try:
        margin: float | None = margin_required(inst.symbol, size.units, request.account_currency,
                                               prices, request.leverage)  # fmt: skip
    except InsufficientData:
        margin = None
    return PositionPlan(size.lots, size.units, size.risk_amount, size.risk_pct, pip_value,
                        margin, request.leverage, list(size.notes))  # fmt: skip


def _swap_r(
    request: PlanRequest, long: bool, position: PositionPlan, days: float | None,
    missing: list[str],
) -> float | None:  # fmt: skip
    """Expected swap of the trade in R (+ credit, - debit): rate x lots x mean rollover days of
    this setup's past trades / money at risk; None when the rate or the history is unknown."""
    rate = request.swap_long if long else request.swap_short
    if rate is None:
        held = f"; trades like this were held over {days:.2f} rollover days on average" \
            if days is not None else ""  # fmt: skip
        missing.append("swap rates (your broker's, per lot per night): not given, so the "
                       f"expected value leaves swap out{held}")  # fmt: skip
        return None
    if days is None or position.risk_amount <= 0:
        return None
    return rate * position.lots * days / position.risk_amount


def _no_trade_reasons(
    signal: bool, rating: float, params: SetupParams, p: float | None, ev_r: float | None,
    break_even: float,
) -> list[str]:  # fmt: skip
    reasons = []
    if not signal:
        reasons.append(f"no setup: rating {rating:+.2f} is inside ±{params.threshold:g} or the "
                       "higher timeframes disagree")  # fmt: skip
    if p is None:
        reasons.append("no probability estimate for this setup")
    elif ev_r is not None and ev_r <= 0:
        reasons.append(f"expected value after costs is {ev_r:+.3f} R (not positive)")
    elif p - break_even < params.min_edge:
        reasons.append(
            f"edge {100 * (p - break_even):+.1f} pts over the {100 * break_even:.1f} % "
            f"break-even is below the {100 * params.min_edge:g} pts this tolerance needs"
        )
    return reasons


def _atr_series(bars: pd.DataFrame) -> pd.Series:
    from noxfx.analysis.indicators import compute

    return compute(bars.iloc[-2000:], "atr:14")["atr_14"]


def _history(
    bars: pd.DataFrame, signals: pd.DataFrame, params: SetupParams, inst: Instrument,
    spread_pips: float, missing: list[str],
) -> tuple[SetupHistory | None, dict[str, SideHistory]]:  # fmt: skip
    from noxfx.plans.history import setup_history

    try:
        return setup_history(bars, signals, params, inst, spread_pips)
    except InsufficientData as exc:
        missing.append(f"setup history: {exc}")
        return None, {}


#: :attr:`Probability.source` of a probability taken from the setup's own history.
HISTORY_SOURCE = "setup history (same rule, past trades, costs included)"


def _probability(
    long: bool,
    ml: tuple[float | None, float | None, str, int] | None,
    side: SideHistory | None,
) -> Probability:
    if ml is not None:
        p = ml[0] if long else ml[1]
        if p is not None:
            return Probability(p, f"ml:{ml[2]}", True, ml[3], None)
    if side is not None and side.p_tp1 is not None:
        return Probability(side.p_tp1, HISTORY_SOURCE, False, side.cases,
                           _wilson(side.p_tp1, side.cases))  # fmt: skip
    return Probability(None, "none", False, 0, None)


def _ml_statement(pred: Any) -> Statement:
    lg, sh = pred.long, pred.short
    return Statement(
        f"ML {pred.model_version}: P(1 ATR target before 1 ATR stop in {pred.horizon_bars} bars) "
        f"long/short, calibrated on {lg.n_calibration} cases",
        f"{lg.probability:.3f}/{sh.probability:.3f}",
    )


def _rationale(
    report: AnalysisReport, last: pd.Series, prob: Probability, history: SetupHistory | None,
    inst: Instrument,
) -> list[Statement]:  # fmt: skip
    r = report.rating.summary
    out = [
        Statement(
            f"{report.timeframe} rating {r['RECOMMENDATION']}",
            round(report.rating.ratings["all"] or 0.0, 3),
        ),
        Statement("votes buy/sell/neutral", f"{r['BUY']}/{r['SELL']}/{r['NEUTRAL']}"),
        Statement(f"{report.timeframe} trend", report.trend.get("direction")),
    ]
    for v in report.higher_timeframes:
        out.append(Statement(f"{v.timeframe} rating {v.recommendation}, trend "
                             f"{v.trend.get('direction')}",
                             None if v.rating is None else round(v.rating, 3)))  # fmt: skip
    if np.isfinite(last.get("higher_rating", np.nan)):
        out.append(
            Statement("higher-timeframe mean rating", round(float(last["higher_rating"]), 3))
        )
    for pat in report.chart_patterns[:3]:
        out.append(Statement(f"chart pattern {pat.get('type')} ({pat.get('status')})",
                             pat.get("target")))  # fmt: skip
    price = report.last_price
    for lv in report.levels[:4]:
        lv_price = lv.get("price")
        if lv_price is not None:
            dist = round(inst.to_pips(abs(lv_price - price)), 1)
            out.append(Statement(f"{lv.get('kind', 'level')} at {lv_price} ({dist} pips away)",
                                 lv.get("touches")))  # fmt: skip
    if prob.tp1_before_stop is not None:
        out.append(Statement(f"P(TP1 before stop) from {prob.source}, n={prob.cases}",
                             round(prob.tp1_before_stop, 3)))  # fmt: skip
    if history is not None:
        out.append(Statement(
            f"setup history {history.start:%Y-%m-%d}..{history.end:%Y-%m-%d}: "
            f"{history.trades} trades; win rate / profit factor / average R",
            "/".join("-" if x is None else f"{x:.3f}"
                     for x in (history.win_rate, history.profit_factor, history.average_r)),
        ))  # fmt: skip
    return out


__all__ = ["PlanRequest", "generate_plan"]
