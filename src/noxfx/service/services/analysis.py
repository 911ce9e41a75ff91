"""The analysis report of one symbol and timeframe (:func:`noxfx.analysis.report.analyze`),
with the next higher timeframes, cached per data version for ``cache_ttl_analysis_seconds``."""

from __future__ import annotations

import json
from typing import Any

from noxfx.service.runtime import runtime
from noxfx.service.services.market import cached, resolve
from noxfx.service.services.serialize import dumps


def analysis_json(symbol: str, timeframe: str) -> bytes:
    """The report as JSON bytes (cached)."""
    inst, tf = resolve(symbol, timeframe)
    return cached(inst.symbol, f"analysis:{inst.symbol}:{tf.name}",
                  runtime().settings.cache_ttl_analysis_seconds,
                  lambda: dumps(_report(inst.symbol, tf.name)))  # fmt: skip


def analysis_report(symbol: str, timeframe: str) -> dict[str, Any]:
    """The report as a plain dict (jobs store this)."""
    result: dict[str, Any] = json.loads(analysis_json(symbol, timeframe))
    return result


def _report(symbol: str, timeframe: str) -> dict[str, Any]:
    from noxfx.workflows import analysis_for

    return analysis_for(runtime().store, symbol, timeframe).as_dict()


__all__ = ["analysis_json", "analysis_report"]
