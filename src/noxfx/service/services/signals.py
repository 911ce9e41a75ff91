"""Ratings, indicators and ML predictions for the API (thin calls into the library)."""

from __future__ import annotations

from typing import Any

from noxfx.service.errors import NotFound
from noxfx.service.runtime import runtime
from noxfx.service.services.market import data_version, resolve
from noxfx.service.services.serialize import dumps, to_jsonable


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
    key = f"prediction:{inst.symbol}:{tf.name}:{champion}:{data_version(inst.symbol)}"

    def compute() -> bytes:
        from noxfx.ml.predict import predict

        bars = rt.store.read(inst.symbol, tf)
        try:
            pred = predict(inst.symbol, tf.name, bars, rt.models, version=champion)
        except ModelNotFound as exc:
            raise NotFound(str(exc)) from exc
        return dumps(pred)

    return rt.cache.get_or_set(key, rt.settings.cache_ttl_prediction_seconds, compute)


__all__ = ["indicators", "prediction_json", "rating"]
