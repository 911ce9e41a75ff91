"""The one JSON encoder of NOX (CLI ``--json``, API bodies, ML artefacts).

:func:`to_jsonable` turns any result into dicts, lists, strings, numbers, booleans and None:
timestamps (``datetime``, ``date``, pandas ``Timestamp``) as ISO 8601 (UTC where the value is
UTC; ``NaT`` as null), NaN and infinities as null (JSON has none), NumPy scalars and arrays as
Python numbers and lists, UUIDs and paths as strings, objects with ``as_dict()`` (or pydantic
``model_dump``) through it, other dataclasses field by field. :func:`dumps` writes compact UTF-8
bytes (the API), :func:`dumps_pretty` indented text (the CLI and stored artefacts).
"""

from __future__ import annotations

import dataclasses
import json
import math
import uuid
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import PurePath
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
        text = obj.isoformat()
        return None if text == "NaT" else text  # pandas NaT is a datetime
    if isinstance(obj, uuid.UUID | PurePath):
        return str(obj)
    if not isinstance(obj, type):
        structured = _structured(obj)
        if structured is not None:
            return to_jsonable(structured)
    tolist = getattr(obj, "tolist", None)  # NumPy arrays and scalars, pandas Series
    if callable(tolist):
        return to_jsonable(tolist())
    isoformat = getattr(obj, "isoformat", None)  # pandas Timestamp / NaT
    if callable(isoformat):
        text = isoformat()
        return None if text == "NaT" else text
    return str(obj)


def _structured(obj: Any) -> Any:
    """``obj.as_dict()``, pydantic's ``model_dump``, or a dataclass's fields; else None."""
    as_dict = getattr(obj, "as_dict", None)
    if callable(as_dict):
        return as_dict()
    model_dump = getattr(obj, "model_dump", None)
    if callable(model_dump):
        return model_dump(mode="json")
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return dataclasses.asdict(obj)
    return None


def dumps(obj: Any) -> bytes:
    """Compact UTF-8 JSON of ``to_jsonable(obj)``."""
    return json.dumps(to_jsonable(obj), separators=(",", ":"), allow_nan=False).encode()


def dumps_pretty(obj: Any) -> str:
    """Indented JSON text of ``to_jsonable(obj)``."""
    return json.dumps(to_jsonable(obj), indent=2, allow_nan=False)


__all__ = ["dumps", "dumps_pretty", "to_jsonable"]
