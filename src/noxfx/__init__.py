"""NOX: forex market analysis and trading plans whose probabilities are tested out of sample.

Public surface (kept small, heavy modules are imported lazily by the code that needs them)::

    from noxfx import get_instrument, parse_timeframe, BarStore
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from noxfx.data.store import BarStore
    from noxfx.instruments import Instrument, get_instrument, normalize_symbol
    from noxfx.timeframes import Timeframe, parse_timeframe, resample

_LAZY = {
    "BarStore": "noxfx.data.store",
    "Instrument": "noxfx.instruments",
    "get_instrument": "noxfx.instruments",
    "normalize_symbol": "noxfx.instruments",
    "Timeframe": "noxfx.timeframes",
    "parse_timeframe": "noxfx.timeframes",
    "resample": "noxfx.timeframes",
}


def __getattr__(name: str) -> Any:
    """Import public names on first use so ``import noxfx`` stays cheap (pandas loads later)."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'noxfx' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)


__all__ = [
    "BarStore",
    "Instrument",
    "Timeframe",
    "__version__",
    "get_instrument",
    "normalize_symbol",
    "parse_timeframe",
    "resample",
]
