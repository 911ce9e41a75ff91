"""Readers for the bar file formats traders download, and detection of format/symbol/timeframe.

Each format has its documented time zone; everything leaves here as UTC bar open times.

* ``generic``: header ``Timestamp,Open,High,Low,Close,Volume``, ``%Y-%m-%d %H:%M:%S``, UTC.
* ``metatrader``: MT4 export, no header, TAB (or comma) separated: time (``%Y-%m-%d %H:%M``, or
  ``%Y.%m.%d,%H:%M`` in two columns), open, high, low, close, volume; UTC (GMT export).
* ``mt5``: header ``DateTime,Open,High,Low,Close,TickVolume,Spread``, ``%Y.%m.%d %H:%M:%S``,
  broker server time = New York + 7h (GMT+2 in winter, GMT+3 in US summer).
* ``histdata``: HistData Generic ASCII, no header, ``;`` separated, ``%Y%m%d %H%M%S``, EST
  without daylight saving (UTC-5 all year).
* ``dukascopy``: header ``Gmt time,Open,High,Low,Close,Volume``, ``%d.%m.%Y %H:%M:%S.000``, UTC.
* ``yahoo``: yfinance CSV, ``;`` (with decimal commas) or ``,`` separated, header
  ``Date;Adj Close;Close;High;Low;Open;Volume`` (columns are mapped by name), dates as UTC.

Time zones (``tz``) accepted everywhere: an IANA name (``Europe/London``), ``UTC``/``GMT``, a
fixed offset (``+02:00``, ``UTC-5``, ``EST`` = UTC-5 without DST) or ``mt-server`` (New York +
7h, the usual MetaTrader server clock: GMT+2 in winter, GMT+3 in US summer).

The parsed frame keeps a ``line`` column: the 1-based line of the source file each row came from,
so validation can point at it.
"""

from __future__ import annotations

import gzip
import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from noxfx.errors import InvalidInput, UnsupportedFormat
from noxfx.instruments import CATALOGUE
from noxfx.timeframes import Timeframe, infer_timeframe, parse_timeframe

if TYPE_CHECKING:
    import pandas as pd

FORMATS: tuple[str, ...] = ("generic", "metatrader", "mt5", "histdata", "dukascopy", "yahoo")

#: The documented time zone of each format.
DEFAULT_TZ: dict[str, str] = {
    "generic": "UTC",
    "metatrader": "UTC",
    "mt5": "mt-server",
    "histdata": "EST",
    "dukascopy": "UTC",
    "yahoo": "UTC",
}


@dataclass
class ParsedFile:
    """A file read into a bar frame (UTC index, plus a ``line`` column), before validation."""

    path: Path
    format: str
    tz: str
    symbol: str
    timeframe: Timeframe
    frame: pd.DataFrame


# ---------------------------------------------------------------------------- detection
def _head(path: Path, n: int = 5) -> list[str]:
    opener = gzip.open if _is_gzip(path) else open
    try:
        with opener(path, "rt", encoding="utf-8-sig", errors="replace") as fh:
            return [line.rstrip("\r\n") for _, line in zip(range(n), fh, strict=False)]
    except OSError as exc:
        raise UnsupportedFormat(f"{path}: cannot read ({exc.strerror or exc}).") from exc


def _is_gzip(path: Path) -> bool:
    with open(path, "rb") as fh:
        return fh.read(2) == b"\x1f\x8b"


def detect_format(path: Path) -> str:
    """Recognise the format of ``path`` from its first lines."""
    lines = [ln for ln in _head(path) if ln.strip()]
    if not lines:
        raise UnsupportedFormat(f"{path}: the file is empty.")
    first = lines[0].strip()
    low = first.lower()
    if low.startswith("gmt time"):
        return "dukascopy"
    if low.startswith("date") and "adj close" in low:
        return "yahoo"
    if "tickvolume" in low or low.startswith("<date>"):
        return "mt5"
    if re.match(r"^(timestamp|time|datetime|date)\b", low):
        return "generic"
    if re.match(r"^\d{8} \d{6};", first):
        return "histdata"
    if re.match(r"^\d{4}[-.]\d{2}[-.]\d{2}[ ,\t]\d{2}:\d{2}", first):
        return "metatrader"
    raise UnsupportedFormat(
        f"{path}: unrecognised format (first line {first[:60]!r}). "
        f"Pass --format, one of: {', '.join(FORMATS)}."
    )


_TF_IN_NAME = [
    (re.compile(r"(?:^|[_\-. ])([MHDW])(\d{1,2})(?=$|[_\-. ])", re.I), lambda m: f"{m[1]}{m[2]}"),
    (re.compile(r"_(\d+)_([MHDW])_", re.I), lambda m: f"{m[2]}{m[1]}"),  # Dukascopy _1_D_
]


def symbol_from_name(path: Path) -> str | None:
    """A catalogue symbol found in the file name (``DAT_ASCII_EURUSD_M1`` -> EURUSD)."""
    name = re.sub(r"[^A-Z]", "", path.name.upper())
    hits = [(name.find(s), s) for s in CATALOGUE if s in name]
    return min(hits)[1] if hits else None


def timeframe_from_name(path: Path, symbol: str | None) -> Timeframe | None:
    """A timeframe written in the file name (``EURUSD240``, ``USDJPY_H4``, ``_1_D_``)."""
    stem = path.name.split(".")[0]
    if symbol:  # MetaTrader: minutes right after the symbol, EURUSD1440
        m = re.search(symbol + r"(\d{1,5})(?!\d)", stem.upper())
        if m:
            return _tf_or_none(m[1])
    for pattern, fmt in _TF_IN_NAME:
        m = pattern.search(stem)
        if m:
            tf = _tf_or_none(fmt(m))
            if tf is not None:
                return tf
    return None


def _tf_or_none(text: str) -> Timeframe | None:
    try:
        return parse_timeframe(text)
    except Exception:
        return None


# ---------------------------------------------------------------------------- time zones
def to_utc(naive: pd.DatetimeIndex, tz: str) -> pd.DatetimeIndex:
    """Interpret tz-naive wall times in ``tz`` (see module docstring) and convert to UTC."""
    import pandas as pd

    key = tz.strip()
    upper = key.upper()
    if upper in ("UTC", "GMT", "Z"):
        return naive.tz_localize("UTC")
    if upper == "EST":
        return (naive + pd.Timedelta(hours=5)).tz_localize("UTC")
    if upper in ("MT-SERVER", "MT_SERVER", "NY+7"):
        ny = naive - pd.Timedelta(hours=7)
        return _localize(ny, "America/New_York").tz_convert("UTC")
    m = re.fullmatch(r"(?:UTC|GMT)?([+-])(\d{1,2})(?::?(\d{2}))?", upper)
    if m:
        sign = 1 if m[1] == "+" else -1
        offset = pd.Timedelta(hours=int(m[2]), minutes=int(m[3] or 0))
        return (naive - sign * offset).tz_localize("UTC")
    try:
        return _localize(naive, key).tz_convert("UTC")
    except Exception as exc:
        raise InvalidInput(
            f"Unknown time zone {tz!r}: use an IANA name (Europe/London), UTC, +02:00, EST "
            f"or mt-server."
        ) from exc


def _localize(naive: pd.DatetimeIndex, zone: str) -> pd.DatetimeIndex:
    # Ambiguous wall times (the repeated hour in autumn) are taken as the first occurrence
    # (summer time); wall times that do not exist (spring) move forward.
    import numpy as np

    return naive.tz_localize(
        zone, ambiguous=np.ones(len(naive), dtype=bool), nonexistent="shift_forward"
    )


# ---------------------------------------------------------------------------- readers
@dataclass(frozen=True)
class _Layout:
    sep: str | None
    header: bool
    names: tuple[str, ...] | None  # column names when the file has no header
    time_cols: tuple[str, ...]  # columns joined (with a space) into the time stamp
    time_format: str | None
    rename: dict[str, str]  # source column (lower case) -> bar column
    decimal: str = "."


_LAYOUTS: dict[str, _Layout] = {
    "generic": _Layout(
        ",", True, None, ("timestamp",), None,
        {"open": "open", "high": "high", "low": "low", "close": "close", "volume": "volume"},
    ),
    "metatrader": _Layout(
        None, False, ("time", "open", "high", "low", "close", "volume"), ("time",), None, {}
    ),
    "mt5": _Layout(
        ",", True, None, ("datetime",), "%Y.%m.%d %H:%M:%S",
        {"open": "open", "high": "high", "low": "low", "close": "close",
         "tickvolume": "volume", "spread": "spread"},
    ),
    "histdata": _Layout(
        ";", False, ("time", "open", "high", "low", "close", "volume"), ("time",),
        "%Y%m%d %H%M%S", {},
    ),
    "dukascopy": _Layout(
        ",", True, None, ("gmt time",), "%d.%m.%Y %H:%M:%S.%f",
        {"open": "open", "high": "high", "low": "low", "close": "close", "volume": "volume"},
    ),
    "yahoo": _Layout(
        None, True, None, ("date",), None,
        {"open": "open", "high": "high", "low": "low", "close": "close", "volume": "volume"},
    ),
}  # fmt: skip


def read_file(
    path: str | Path,
    *,
    fmt: str = "auto",
    tz: str | None = None,
    symbol: str | None = None,
    timeframe: str | None = None,
) -> ParsedFile:
    """Read a bar file of any supported format into a :class:`ParsedFile` (UTC, unvalidated).

    Unparseable times or prices become NaT/NaN so validation can name their lines; a file that
    cannot be read as the format at all raises :class:`UnsupportedFormat`.
    """
    from noxfx.instruments import get_instrument

    p = Path(path)
    if not p.is_file():
        raise InvalidInput(f"No such file: {p}")
    fmt = detect_format(p) if fmt == "auto" else fmt
    if fmt not in _LAYOUTS:
        raise InvalidInput(f"Unknown format {fmt!r}; use auto or one of: {', '.join(FORMATS)}.")
    sym_text = symbol or symbol_from_name(p)
    if sym_text is None:
        raise InvalidInput(f"{p.name}: no symbol in the file name; pass --symbol.")
    sym = get_instrument(sym_text).symbol
    zone = tz or DEFAULT_TZ[fmt]
    frame = _parse(p, fmt, _LAYOUTS[fmt], zone)
    tf = _resolve_timeframe(p, sym, frame, timeframe)
    return ParsedFile(path=p, format=fmt, tz=zone, symbol=sym, timeframe=tf, frame=frame)


def _resolve_timeframe(
    path: Path, symbol: str, frame: pd.DataFrame, given: str | None
) -> Timeframe:
    import pandas as pd

    if given:
        return parse_timeframe(given)
    from_name = timeframe_from_name(path, symbol)
    from_data = infer_timeframe(pd.DatetimeIndex(frame.index.dropna().sort_values()))
    if from_name and from_data and from_name != from_data:
        raise InvalidInput(
            f"{path.name}: the file name says {from_name} but the bars are {from_data} apart; "
            f"pass --timeframe."
        )
    tf = from_name or from_data
    if tf is None:
        raise InvalidInput(f"{path.name}: cannot tell the timeframe; pass --timeframe.")
    return tf


def _parse(path: Path, fmt: str, layout: _Layout, tz: str) -> pd.DataFrame:
    import pandas as pd

    text = _read_text(path)
    sep, decimal = layout.sep, layout.decimal
    first = text.split("\n", 1)[0]
    if fmt == "yahoo":
        sep = ";" if ";" in first else ","
        decimal = "," if sep == ";" and re.search(r";-?\d+,\d", text[:2000]) else "."
    elif fmt == "metatrader":
        sep = "\t" if "\t" in first else ","
    header_lines = 1 if layout.header else 0
    try:
        raw = pd.read_csv(
            io.StringIO(text),
            sep=sep,
            header=0 if layout.header else None,
            names=None if layout.header else list(layout.names or ()),
            dtype=str,
            skip_blank_lines=False,
            keep_default_na=False,
        )
    except Exception as exc:  # pandas ParserError and friends
        raise UnsupportedFormat(f"{path}: not a valid {fmt} file ({_first_line(exc)}).") from exc
    raw.columns = [str(c).strip().lower() for c in raw.columns]
    if fmt == "metatrader" and sep == "," and len(raw.columns) >= 7:
        # MT4 History Center CSV: date and time in separate columns
        raw = raw.iloc[:, :7]
        raw.columns = ["date", "clock", "open", "high", "low", "close", "volume"]
        raw["time"] = raw.pop("date") + " " + raw.pop("clock")
    raw["line"] = range(1 + header_lines, len(raw) + 1 + header_lines)
    raw = raw[raw.drop(columns="line").apply(lambda c: c.str.strip() != "").any(axis=1)]
    missing = [c for c in layout.time_cols if c not in raw.columns]
    if missing or (layout.rename and not set(layout.rename) & set(raw.columns)):
        raise UnsupportedFormat(
            f"{path}: expected {fmt} columns ({', '.join(layout.time_cols)}, open, high, low, "
            f"close), found {', '.join(c for c in raw.columns if c != 'line')}."
        )
    stamp = raw[layout.time_cols[0]].str.strip()
    naive = pd.DatetimeIndex(
        pd.to_datetime(stamp, format=layout.time_format, errors="coerce"), name="time"
    )
    if naive.isna().all() and len(naive):
        raise UnsupportedFormat(f"{path}: no time stamp in the {fmt} layout could be parsed.")
    rename = layout.rename or {c: c for c in ("open", "high", "low", "close", "volume")}
    out = pd.DataFrame(index=to_utc(naive.as_unit("ns"), tz))
    for src, dst in rename.items():
        if src in raw.columns:
            col = raw[src].str.strip()
            if decimal != ".":
                col = col.str.replace(decimal, ".", regex=False)
            out[dst] = pd.to_numeric(col, errors="coerce").to_numpy(dtype="float64")
    if "volume" not in out:
        out["volume"] = 0.0
    out["line"] = raw["line"].to_numpy()
    out.index.name = "time"
    return out


def _read_text(path: Path) -> str:
    try:
        data = path.read_bytes()
        if data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
        return data.decode("utf-8-sig", errors="replace")
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise UnsupportedFormat(f"{path}: cannot read ({exc}).") from exc


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


__all__ = [
    "DEFAULT_TZ",
    "FORMATS",
    "ParsedFile",
    "detect_format",
    "read_file",
    "symbol_from_name",
    "timeframe_from_name",
    "to_utc",
]
