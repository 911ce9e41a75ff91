"""Recalibrated forecasts for the latest bar, with expected value after costs and explanations.

``predict(symbol, timeframe, bars, registry)`` loads the champion model (or a given version),
computes the features of the **last bar in** ``bars`` (which must be complete: its close is the
decision time ``as_of``) and returns a :class:`Prediction` with, for a long and a short trade
entered at the next bar's open:

* ``probability``: P(target before stop within ``horizon_bars``) after the calibrator (fitted
  on the most recent out-of-sample slice); a timeout counts as
  "not the target" (``timeout="zero"`` labels, the default);
* ``n_calibration``: the number of out-of-sample outcomes the calibration was fitted on, and
  ``oos`` the walk-forward out-of-sample scores of the model (n, Brier skill, AUC, ...);
* ``expected_value_r``: ``p * R - (1 - p) * 1 - cost_r`` in R (multiples of the stop distance),
  ``R`` = target / stop distance, ``cost_r`` = spread pips / stop pips. It treats a timeout as a
  full loss, so it is conservative; ``break_even_probability`` = ``(1 + cost_r) / (1 + R)``;
* ``oos_skill``: True only when the model's walk-forward out-of-sample Brier skill score is
  positive **and** its AUC is above 0.5 at the 5 % level with the effective sample size
  (``oos["auc_p_value_effective"] < 0.05``). When it is False the probability is still rescaled
  by the calibrator but no better than the base rate out of sample: a plan should not treat its
  EV as an edge. Whether the rescaling held out of sample is ``oos["calibration"]``
  (:func:`noxfx.ml.metrics.calibration_verdict`: calibrated only when every walk-forward fold's
  ECE is below the threshold; models trained before that field existed lack it);
* ``top_features``: the largest contributions to the model's raw log-odds (LightGBM
  ``pred_contrib=True``; exact terms for logistic regression; none for the random forest).
  Calibration rescales the score afterwards, so these explain the ranking, not the exact value.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from noxfx.errors import InsufficientData, InvalidBars, InvalidInput
from noxfx.instruments import get_instrument
from noxfx.timeframes import bucket_close, parse_timeframe

if TYPE_CHECKING:
    from noxfx.ml.registry import ModelRegistry
    from noxfx.ml.training import TrainedModel

#: bars of history used for the features (enough for EMA200 and the daily indicators to settle)
HISTORY_BARS = 3000
#: significance level of the out-of-sample AUC for ``SidePrediction.oos_skill``
SKILL_P_VALUE = 0.05


@dataclass(frozen=True, slots=True)
class FeatureContribution:
    """One feature's value at ``as_of`` and its contribution to the raw log-odds."""

    feature: str
    value: float
    contribution: float


@dataclass(frozen=True, slots=True)
class SidePrediction:
    """The forecast for one trade direction (prices in quote currency, distances in price)."""

    side: str
    probability: float
    probability_raw: float
    n_calibration: int
    reward_risk: float
    cost_r: float
    expected_value_r: float
    break_even_probability: float
    stop_distance: float
    target_distance: float
    stop_pips: float
    target_pips: float
    top_features: tuple[FeatureContribution, ...]
    oos: dict[str, Any]
    oos_skill: bool


@dataclass(frozen=True, slots=True)
class Prediction:
    """Forecasts for the bar after ``as_of`` (the UTC close time of the last bar used)."""

    symbol: str
    timeframe: str
    target: str
    as_of: pd.Timestamp
    last_bar_open_utc: pd.Timestamp
    model_version: str | None
    model_kind: str
    horizon_bars: int
    spread_pips: float
    reference_price: float
    long: SidePrediction
    short: SidePrediction

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["as_of"] = self.as_of.isoformat()
        out["last_bar_open_utc"] = self.last_bar_open_utc.isoformat()
        return out


def _side(
    trained: TrainedModel,
    side: str,
    x: np.ndarray,
    *,
    sl_dist: float,
    tp_dist: float,
    pip_size: float,
    spread_pips: float,
    top_n: int,
) -> SidePrediction:
    sm = trained.sides[side]
    p_cal, p_raw = sm.predict(x)
    p = float(p_cal[0])
    rr = tp_dist / sl_dist
    stop_pips = sl_dist / pip_size
    cost_r = spread_pips / stop_pips
    top: tuple[FeatureContribution, ...] = ()
    contrib = sm.model.contributions(x)
    if contrib is not None and top_n > 0:
        values = contrib[0, :-1]
        order = np.argsort(-np.abs(values))[:top_n]
        top = tuple(
            FeatureContribution(trained.feature_names[j], float(x[0, j]), float(values[j]))
            for j in order
        )
    oos = dict(trained.metrics.get("sides", {}).get(side, {}))
    oos.pop("baselines", None)
    bss, auc_p = oos.get("brier_skill"), oos.get("auc_p_value_effective")
    skill = bss is not None and auc_p is not None and bss > 0 and auc_p < SKILL_P_VALUE
    return SidePrediction(
        side=side,
        probability=p,
        probability_raw=float(p_raw[0]),
        n_calibration=sm.n_calibration,
        reward_risk=rr,
        cost_r=cost_r,
        expected_value_r=p * rr - (1.0 - p) - cost_r,
        break_even_probability=(1.0 + cost_r) / (1.0 + rr),
        stop_distance=sl_dist,
        target_distance=tp_dist,
        stop_pips=stop_pips,
        target_pips=tp_dist / pip_size,
        top_features=top,
        oos=oos,
        oos_skill=bool(skill),
    )


def predict_with(
    trained: TrainedModel,
    bars: pd.DataFrame,
    *,
    spread_pips: float | None = None,
    top_n: int = 5,
    history_bars: int = HISTORY_BARS,
) -> Prediction:
    """:func:`predict` with a model already in hand."""
    from noxfx.ml.features import build_features
    from noxfx.ml.labels import barrier_distances

    if len(bars) == 0:
        raise InsufficientData("no bars to predict from")
    if not isinstance(bars.index, pd.DatetimeIndex) or bars.index.tz is None:
        raise InvalidBars("bars must be indexed by a tz-aware DatetimeIndex (UTC bar open time)")
    inst = get_instrument(trained.symbol)
    tf = parse_timeframe(trained.timeframe)
    tail = bars.iloc[-history_bars:]
    feats = build_features(tail, tf, trained.feature_config)
    x = feats[trained.feature_names].to_numpy(dtype=np.float64)[-1:]
    missing = [n for n, v in zip(trained.feature_names, x[0], strict=True) if not np.isfinite(v)]
    if missing:
        raise InsufficientData(
            f"features undefined at the last bar ({', '.join(missing[:5])}); pass more history "
            f"(got {len(tail)} bars)"
        )
    tp, sl = barrier_distances(tail, trained.labels, inst.pip_size)
    tp_dist, sl_dist = float(tp[-1]), float(sl[-1])
    if not (tp_dist > 0 and sl_dist > 0):
        raise InsufficientData("the barrier distance (ATR) is undefined at the last bar")
    spread = trained.spread_pips if spread_pips is None else float(spread_pips)
    if spread < 0:
        raise InvalidInput(f"spread_pips must be >= 0, got {spread}")
    last_open = pd.Timestamp(tail.index[-1])
    kwargs = {
        "sl_dist": sl_dist,
        "tp_dist": tp_dist,
        "pip_size": inst.pip_size,
        "spread_pips": spread,
        "top_n": top_n,
    }
    return Prediction(
        symbol=trained.symbol,
        timeframe=tf.name,
        target=trained.target,
        as_of=bucket_close(last_open, tf),
        last_bar_open_utc=last_open,
        model_version=trained.version,
        model_kind=trained.model_kind,
        horizon_bars=trained.labels.horizon_bars,
        spread_pips=spread,
        reference_price=float(tail["close"].iloc[-1]),
        long=_side(trained, "long", x, **kwargs),  # type: ignore[arg-type]
        short=_side(trained, "short", x, **kwargs),  # type: ignore[arg-type]
    )


def predict(
    symbol: str,
    timeframe: str,
    bars: pd.DataFrame,
    registry: ModelRegistry,
    *,
    target: str = "triple_barrier",
    version: str | None = None,
    spread_pips: float | None = None,
    top_n: int = 5,
) -> Prediction:
    """Forecast long and short trades after the last bar of ``bars`` with the champion model
    (or ``version``) of ``symbol``/``timeframe``/``target`` from ``registry``.

    ``bars``: bar frame of ``timeframe`` whose last bar is complete (at least a few hundred
    bars; the last :data:`HISTORY_BARS` are used). ``spread_pips``: round-trip cost (default:
    the spread the model was evaluated with, the instrument's typical spread).
    """
    trained = registry.load(symbol, timeframe, target, version)
    if parse_timeframe(timeframe).name != trained.timeframe:
        raise InvalidInput(f"model is for {trained.timeframe} bars, not {timeframe}")
    return predict_with(trained, bars, spread_pips=spread_pips, top_n=top_n)


__all__ = [
    "HISTORY_BARS",
    "SKILL_P_VALUE",
    "FeatureContribution",
    "Prediction",
    "SidePrediction",
    "predict",
    "predict_with",
]
