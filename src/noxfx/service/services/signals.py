"""Ratings, indicators and ML predictions for the API (thin calls into the library)."""

from __future__ import annotations

import json
from typing import Any

from noxfx.service.errors import NotFound
from noxfx.service.runtime import runtime
from noxfx.service.services.market import cached, resolve
from noxfx.service.services.serialize import dumps, to_jsonable


def rating_json(symbol: str, timeframe: str) -> bytes:
    """The rating on the last 2,000 stored bars, cached per data version
    (``cache_ttl_analysis_seconds``)."""
    from noxfx.analysis.ratings import technical_analysis

    inst, tf = resolve(symbol, timeframe)
    rt = runtime()

    def compute() -> bytes:
        bars = rt.store.read(inst.symbol, tf).iloc[-2000:]
        return dumps(technical_analysis(bars, inst.symbol, tf.name).as_dict())

    return cached(inst.symbol, f"rating:{inst.symbol}:{tf.name}",
                  rt.settings.cache_ttl_analysis_seconds, compute)  # fmt: skip


#: The parts of the analysis report that ``GET /patterns/{symbol}`` returns.
PATTERN_FIELDS = ("symbol", "timeframe", "as_of", "last_bar", "last_price", "candles",
                  "chart_patterns", "levels")  # fmt: skip


def patterns_json(symbol: str, timeframe: str) -> bytes:
    """Candlestick and chart patterns and support/resistance levels (the pattern part of the
    analysis report), and how each active chart pattern type did when traded on this pair's
    history (:func:`noxfx.analysis.pattern_stats.type_history`); cached per data version."""
    from noxfx.service.services.analysis import analysis_json

    inst, tf = resolve(symbol, timeframe)
    rt = runtime()

    def compute() -> bytes:
        from noxfx.analysis.pattern_stats import DEFAULT_HORIZON, type_history

        report = json.loads(analysis_json(inst.symbol, tf.name))
        doc = {k: report.get(k) for k in PATTERN_FIELDS}
        types = {p["type"] for p in doc["chart_patterns"] or []}
        spread = inst.from_pips(inst.typical_spread_pips)
        doc["history"] = type_history(rt.store.read(inst.symbol, tf), spread,
                                      types=types) if types else {}  # fmt: skip
        doc["history_method"] = (
            "Each past breakout of the type on this pair and timeframe traded the textbook "
            "way: next open, measured-move target, stop at the invalidation line, closed after "
            f"{DEFAULT_HORIZON} bars, typical spread {inst.typical_spread_pips:g} pips charged. "
            "mean_r is the result per trade in R after the spread, low/high its 95 % interval."
        )
        return dumps(doc)

    return cached(inst.symbol, f"patterns:{inst.symbol}:{tf.name}",
                  rt.settings.cache_ttl_analysis_seconds, compute)  # fmt: skip


def indicators(symbol: str, timeframe: str, specs: list[str], limit: int) -> dict[str, Any]:
    from noxfx.analysis.indicators import compute

    inst, tf = resolve(symbol, timeframe)
    bars = runtime().store.read(inst.symbol, tf).iloc[-(limit + 2000) :]
    frame = compute(bars, specs).iloc[-limit:]
    rows = to_jsonable(frame.reset_index().to_dict("records"))
    return {"symbol": inst.symbol, "timeframe": tf.name, "columns": list(frame.columns),
            "rows": rows}  # fmt: skip


def prediction_json(symbol: str, timeframe: str) -> bytes:
    """The champion model's prediction at the last stored bar, as JSON bytes, cached for
    ``cache_ttl_prediction_seconds`` (15 min) per data version *and* champion version (new bars
    or a promoted model make a new key)."""
    from noxfx.ml.registry import ModelNotFound

    inst, tf = resolve(symbol, timeframe)
    rt = runtime()
    champion = rt.models.champion(inst.symbol, tf.name)
    if champion is None:
        raise NotFound(f"No trained model for {inst.symbol} {tf.name}: run `noxfx ml train`.")

    def compute() -> bytes:
        from noxfx.ml.predict import predict

        bars = rt.store.read(inst.symbol, tf)
        try:
            pred = predict(inst.symbol, tf.name, bars, rt.models, version=champion)
        except ModelNotFound as exc:
            raise NotFound(str(exc)) from exc
        return dumps(pred)

    return cached(inst.symbol, f"prediction:{inst.symbol}:{tf.name}:{champion}",
                  rt.settings.cache_ttl_prediction_seconds, compute)  # fmt: skip


__all__ = [
    "PATTERN_FIELDS",
    "indicators",
    "patterns_json",
    "prediction_json",
    "rating_json",
]
