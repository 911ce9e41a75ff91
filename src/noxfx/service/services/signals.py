"""Ratings, indicators and ML predictions for the API (thin calls into the library)."""

from __future__ import annotations

from typing import Any

from noxfx.service.errors import NotFound
from noxfx.service.runtime import runtime
from noxfx.service.services.market import resolve
from noxfx.service.services.serialize import to_jsonable


def rating(symbol: str, timeframe: str) -> dict[str, Any]:
    from noxfx.analysis.ratings import technical_analysis

    inst, tf = resolve(symbol, timeframe)
    bars = runtime().store.read(inst.symbol, tf)
    result: dict[str, Any] = to_jsonable(technical_analysis(bars.iloc[-2000:], inst.symbol,
                                                            tf.name).as_dict())  # fmt: skip
    return result


def indicators(symbol: str, timeframe: str, specs: list[str], limit: int) -> dict[str, Any]:
    from noxfx.analysis.indicators import compute

    inst, tf = resolve(symbol, timeframe)
    bars = runtime().store.read(inst.symbol, tf).iloc[-(limit + 2000) :]
    frame = compute(bars, specs).iloc[-limit:]
    rows = to_jsonable(frame.reset_index().to_dict("records"))
    return {"symbol": inst.symbol, "timeframe": tf.name, "columns": list(frame.columns),
            "rows": rows}  # fmt: skip


def prediction(symbol: str, timeframe: str) -> dict[str, Any]:
    from noxfx.workflows import ml_prediction_for

    inst, tf = resolve(symbol, timeframe)
    bars = runtime().store.read(inst.symbol, tf)
    pred = ml_prediction_for(inst.symbol, tf.name, bars)
    if pred is None:
        raise NotFound(f"No trained model for {inst.symbol} {tf.name}: run `noxfx ml train`.")
    result: dict[str, Any] = to_jsonable(pred)
    return result


__all__ = ["indicators", "prediction", "rating"]
