"""The bar frame every part of NOX passes around.

A *bar frame* is a ``pandas.DataFrame`` indexed by a ``DatetimeIndex`` named ``time`` holding the
**bar open time in UTC** (nanosecond resolution), sorted ascending and unique, with float64
columns ``open high low close volume`` and optionally ``spread`` (in points of the source, as
MetaTrader writes it). Prices are quote currency per unit of base, as quoted (usually bid).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from noxfx.errors import InvalidBars

if TYPE_CHECKING:
    import pandas as pd

PRICE_COLUMNS: tuple[str, ...] = ("open", "high", "low", "close")
BAR_COLUMNS: tuple[str, ...] = (*PRICE_COLUMNS, "volume")
OPTIONAL_COLUMNS: tuple[str, ...] = ("spread",)


def as_bar_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Return ``frame`` in canonical bar-frame form (columns, dtypes, UTC ns index named time).

    Raises :class:`InvalidBars` when required columns are missing or the index is not a
    tz-aware DatetimeIndex. Does not sort or de-duplicate: that is validation's job.
    """
    import pandas as pd

    missing = [c for c in PRICE_COLUMNS if c not in frame.columns]
    if missing:
        raise InvalidBars(f"Bars are missing columns: {', '.join(missing)}.")
    if not isinstance(frame.index, pd.DatetimeIndex) or frame.index.tz is None:
        raise InvalidBars("Bars must be indexed by a tz-aware DatetimeIndex (UTC bar open time).")
    cols = [c for c in (*BAR_COLUMNS, *OPTIONAL_COLUMNS) if c in frame.columns]
    out = frame[cols].astype("float64")
    if "volume" not in out:
        out["volume"] = 0.0
    out.index = frame.index.tz_convert("UTC").as_unit("ns").rename("time")
    return out


def empty_bars() -> pd.DataFrame:
    """A bar frame with no rows."""
    import pandas as pd

    index = pd.DatetimeIndex([], tz="UTC", name="time").as_unit("ns")
    return pd.DataFrame({c: pd.Series(dtype="float64") for c in BAR_COLUMNS}, index=index)


__all__ = ["BAR_COLUMNS", "OPTIONAL_COLUMNS", "PRICE_COLUMNS", "as_bar_frame", "empty_bars"]
