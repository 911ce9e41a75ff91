"""Instruments, bars and the last quote, read from the bar store and cached.

Cache keys carry the symbol's *data version*: a digest of the name, mtime and size of each of
its Parquet files. An import rewrites a file (atomic rename: new mtime/size), so the next request
builds new keys and never serves bars older than the store. TTLs: quotes
``cache_ttl_quote_seconds`` (2 s), bar windows ``cache_ttl_bars_seconds``.

The quote is derived from the newest stored bar of the finest stored timeframe (the replay feed,
NOX's offline default): mid = its close, bid/ask = mid ∓ half the instrument's typical spread,
time = that bar's close. A live provider will replace this function, not its callers.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from noxfx.errors import InsufficientData, InvalidInput
from noxfx.instruments import Instrument, get_instrument, list_instruments
from noxfx.service.errors import ValidationFailed
from noxfx.service.runtime import runtime
from noxfx.service.services.serialize import dumps, to_jsonable
from noxfx.timeframes import Timeframe, parse_timeframe

DEFAULT_LIMIT = 500
MAX_LIMIT = 5000


def instruments(kind: str | None = None) -> list[dict[str, Any]]:
    return [i.as_dict() for i in list_instruments(kind)]


def data_version(symbol: str) -> str:
    """Digest of the stored files of ``symbol`` (changes whenever any of them is rewritten).

    The store only ever replaces files by renaming into the symbol's folder, which updates the
    folder's mtime; so the digest is recomputed only when that mtime moves. A folder changed in
    the last two seconds is always re-read (file-system clocks are coarse: two renames within
    one tick can leave the same mtime; git guards its index against the same race).
    """
    folder = runtime().store.root / symbol
    try:
        st = folder.stat()
    except OSError:
        return "empty"
    stamp = (st.st_ino, st.st_mtime_ns)
    known = _versions.get(folder)
    if known is not None and known[0] == stamp:
        return known[1]
    parts = []
    for path in sorted(folder.glob("*.parquet")):
        fst = path.stat()
        parts.append(f"{path.name}:{fst.st_mtime_ns}:{fst.st_size}")
    version = hashlib.sha1("|".join(parts).encode()).hexdigest()[:16] if parts else "empty"
    if time.time_ns() - st.st_mtime_ns > 2_000_000_000:
        _versions[folder] = (stamp, version)
    return version


_versions: dict[Path, tuple[tuple[int, int], str]] = {}


def cached(symbol: str, key: str, ttl_seconds: float, compute: Callable[[], bytes]) -> bytes:
    """``compute()`` from the service cache under ``key`` plus the data version of ``symbol``
    (so new bars of the symbol make a new entry)."""
    return runtime().cache.get_or_set(f"{key}:{data_version(symbol)}", ttl_seconds, compute)


def parse_time(value: str | None, field: str) -> Any:
    """A UTC ``pd.Timestamp`` from an ISO date/time (naive = UTC), or None."""
    if value is None or value == "":
        return None
    import pandas as pd

    try:
        ts = pd.Timestamp(value)
        if pd.isna(ts):
            raise ValueError(value)
    except (ValueError, TypeError, OverflowError) as exc:
        raise ValidationFailed(
            f"{field} is not a date/time.",
            [{"location": "query", "field": field,
              "message": f"Not a date/time: {value!r} (use e.g. 2020-01-31 or "
                         "2020-01-31T12:00:00Z)."}],
        ) from exc  # fmt: skip
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def parse_range(start: str | None, end: str | None, location: str) -> tuple[Any, Any]:
    """(start, end) as UTC timestamps or None; 422 when start is after end."""
    lo, hi = parse_time(start, "start"), parse_time(end, "end")
    if lo is not None and hi is not None and lo > hi:
        raise ValidationFailed(
            "start is after end.",
            [{"location": location, "field": "start", "message": "Must not be after end."}],
        )
    return lo, hi


def resolve(symbol: str, timeframe: str) -> tuple[Instrument, Timeframe]:
    inst = get_instrument(symbol)
    try:
        tf = parse_timeframe(timeframe)
    except InvalidInput as exc:  # pragma: no cover - the schema validates the timeframe first
        raise ValidationFailed(str(exc), [{"location": "query", "field": "timeframe",
                                           "message": str(exc)}]) from exc  # fmt: skip
    return inst, tf


def market_data(symbol: str, timeframe: str, start: str | None, end: str | None,
                limit: int = DEFAULT_LIMIT) -> bytes:  # fmt: skip
    """The JSON document of ``GET /market-data/{symbol}``: the last ``limit`` bars in
    ``[start, end]`` and the current quote (pre-serialised, straight from the cache)."""
    inst, tf = resolve(symbol, timeframe)
    lo, hi = parse_range(start, end, "query")
    rt = runtime()
    version = data_version(inst.symbol)
    key = f"bars:{inst.symbol}:{tf.name}:{lo}:{hi}:{limit}:{version}"
    bars = rt.cache.get_or_set(key, rt.settings.cache_ttl_bars_seconds,
                               lambda: _bars_json(inst, tf, lo, hi, limit))  # fmt: skip
    quote = quote_json(inst.symbol, version)
    head = dumps({"symbol": inst.symbol, "timeframe": tf.name, "data_version": version})
    return head[:-1] + b',"quote":' + quote + b',"bars":' + bars + b"}"


def _bars_json(inst: Instrument, tf: Timeframe, lo: Any, hi: Any, limit: int) -> bytes:
    frame = runtime().store.read(inst.symbol, tf, lo, hi)
    frame = frame.iloc[-limit:]
    times = [t.isoformat() for t in frame.index]
    cols = [frame[c].tolist() for c in ("open", "high", "low", "close", "volume")]
    rows = [{"time": t, "open": o, "high": h, "low": lo_, "close": c, "volume": v}
            for t, o, h, lo_, c, v in zip(times, *cols, strict=True)]  # fmt: skip
    return dumps({"count": len(rows), "items": rows})


#: A live quote older than this (wall seconds) is stale: the stored close is served instead.
LIVE_QUOTE_MAX_AGE_S = 60.0


def quote_json(symbol: str, version: str | None = None) -> bytes:
    """The live quote when the stream runs and quoted ``symbol`` within
    :data:`LIVE_QUOTE_MAX_AGE_S` (``source`` ``live:<feed>``, ``age_seconds``), else the
    stored close (cached per data version)."""
    live = live_quote(symbol)
    if live is not None:
        return dumps(live)
    rt = runtime()
    version = version or data_version(symbol)
    return rt.cache.get_or_set(f"quote:{symbol}:{version}", rt.settings.cache_ttl_quote_seconds,
                               lambda: dumps(quote(symbol)))  # fmt: skip


def live_quote(symbol: str) -> dict[str, Any] | None:
    """This process's last live quote of ``symbol`` in the QuoteOut shape, or None."""
    from flask import current_app

    from noxfx.service.realtime import realtime_of

    live = realtime_of(current_app)
    got = None if live is None else live.state.quote(get_instrument(symbol).symbol)
    if got is None or got["age_seconds"] > LIVE_QUOTE_MAX_AGE_S:
        return None
    return {"symbol": got["symbol"], "bid": got["bid"], "ask": got["ask"], "mid": got["mid"],
            "spread_pips": got["spread"], "time": got["time"], "source": f"live:{got['source']}",
            "bar_timeframe": None, "age_seconds": got["age_seconds"]}  # fmt: skip


def quote(symbol: str) -> dict[str, Any]:
    """The last quote of ``symbol`` from stored bars (see the module docstring)."""
    import pandas as pd

    inst = get_instrument(symbol)
    store = runtime().store
    stored = store.stored_timeframes(inst.symbol)
    if not stored:
        raise InsufficientData(f"No {inst.symbol} bars in the store, so no quote. Import some "
                               "with `noxfx data import` or `noxfx data bootstrap`.")  # fmt: skip
    tf = stored[0]
    last = store.info(inst.symbol, tf).last
    frame = store.read(inst.symbol, tf, start=last)
    if frame.empty:
        raise InsufficientData(f"No {inst.symbol} {tf} bars in the store.")
    close = float(frame["close"].iloc[-1])
    half = inst.from_pips(inst.typical_spread_pips) / 2
    return to_jsonable({
        "symbol": inst.symbol, "bid": inst.round_price(close - half),
        "ask": inst.round_price(close + half), "mid": close,
        "spread_pips": inst.typical_spread_pips,
        "time": frame.index[-1] + pd.Timedelta(seconds=tf.seconds),
        "source": "stored-bars", "bar_timeframe": tf.name, "age_seconds": None,
    })  # fmt: skip


__all__ = [
    "DEFAULT_LIMIT",
    "MAX_LIMIT",
    "cached",
    "data_version",
    "instruments",
    "market_data",
    "parse_range",
    "quote",
    "resolve",
]
