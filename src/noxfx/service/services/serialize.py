"""JSON for the API: timestamps as ISO 8601 UTC, NumPy scalars as Python numbers, NaN as null."""

from __future__ import annotations

import dataclasses
import json
import math
import uuid
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any


def to_jsonable(obj: Any) -> Any:
    """A structure of dicts/lists/str/int/float/bool/None equivalent to ``obj``."""
    if obj is None or isinstance(obj, bool | int | str):
        return obj
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, Mapping):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple | set | frozenset):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, datetime | date):
        return obj.isoformat()
    if isinstance(obj, uuid.UUID):
        return str(obj)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return to_jsonable(dataclasses.asdict(obj))
    item = getattr(obj, "item", None)  # NumPy scalars
    if callable(item):
        return to_jsonable(item())
    tolist = getattr(obj, "tolist", None)  # NumPy arrays
    if callable(tolist):
        return to_jsonable(tolist())
    isoformat = getattr(obj, "isoformat", None)  # pandas Timestamp / NaT
    if callable(isoformat):
        text = isoformat()
        return None if text == "NaT" else text
    return str(obj)


def dumps(obj: Any) -> bytes:
    """Compact UTF-8 JSON of :func:`to_jsonable` ``(obj)``."""
    return json.dumps(to_jsonable(obj), separators=(",", ":"), allow_nan=False).encode()


__all__ = ["dumps", "to_jsonable"]
