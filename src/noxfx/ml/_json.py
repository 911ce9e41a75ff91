"""Strict JSON for the ML artefacts: NaN/inf become null, NumPy scalars and timestamps plain."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np


def _default(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return _clean(obj.item())
    if isinstance(obj, np.ndarray):
        return _clean(obj.tolist())
    if hasattr(obj, "isoformat"):
        return obj.isoformat()
    if hasattr(obj, "as_dict"):
        return _clean(obj.as_dict())
    return str(obj)


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def dumps(obj: Any) -> str:
    """``obj`` as indented JSON (no NaN: JSON has none)."""
    return json.dumps(_clean(obj), default=_default, indent=2, allow_nan=False)


__all__ = ["dumps"]
