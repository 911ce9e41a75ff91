"""Dukascopy historical tick files, aggregated into bars from the bid.

One file per instrument and UTC hour::

    https://datafeed.dukascopy.com/datafeed/EURUSD/2017/00/03/07h_ticks.bi5
                                            symbol/year/month-1/day/hour

LZMA-compressed (``.lzma`` "alone" format; an hour without ticks is an empty body, an hour the
feed does not have is a 404). Decompressed, it is a run of 20-byte big-endian records::

    uint32 ms since the start of the hour | uint32 ask | uint32 bid | float32 ask volume |
    float32 bid volume

Prices are integers in points: divide by 10^5 (10^3 for pairs quoted in JPY and other 0.01-pip
quotes, and for the metals). Volumes are in millions of base units.

Bars are built from the **bid**: open/close the first/last bid in the bar, high/low the extremes,
volume the sum of bid volumes, ``spread`` the mean ask-bid in points. Bars are cut with
:func:`noxfx.timeframes.bucket_open` (UTC clock up to 1h; 4h, 1d, 1w from the 17:00 New York day),
and a request always downloads the whole buckets its bars need, so a bar is never built from part
of its ticks. Hours wholly inside the weekend closure (Friday 17:00 to Sunday 17:00 New York) are
not requested, and the rare ticks stamped inside it are dropped (our bars never open there).
Past hours never change, so their files are cached for a day; the last six hours are not cached.
"""

from __future__ import annotations

import lzma
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from noxfx.data.providers._http import HttpClient, HttpResult
from noxfx.data.providers.base import (
    ALL_TIMEFRAMES,
    Capabilities,
    MalformedPayload,
    Provider,
    ProviderError,
)
from noxfx.instruments import CATALOGUE, Instrument
from noxfx.timeframes import Timeframe, bucket_close, bucket_open, in_weekend

if TYPE_CHECKING:
    import pandas as pd

URL = "https://datafeed.dukascopy.com/datafeed/{symbol}/{year:04d}/{month0:02d}/{day:02d}/{hour:02d}h_ticks.bi5"
TICK_DTYPE = np.dtype(
    [("ms", ">u4"), ("ask", ">u4"), ("bid", ">u4"), ("ask_volume", ">f4"), ("bid_volume", ">f4")]
)
HOUR_MS = 3_600_000
#: exotics we know Dukascopy carries with the point size above (a conservative list)
_EXOTICS = {"USDTRY", "USDZAR", "USDMXN", "USDSEK", "USDNOK", "USDDKK", "USDPLN", "USDSGD",
            "USDHKD", "USDCNH", "EURTRY", "EURSEK", "EURNOK", "EURDKK", "EURPLN", "EURHUF",
            "EURCZK", "USDHUF", "USDCZK"}  # fmt: skip
SYMBOLS: frozenset[str] = frozenset(
    s for s, i in CATALOGUE.items() if i.kind in ("major", "cross", "metal") or s in _EXOTICS
)
#: days one fetch chunk covers (24 hourly files per day)
REQUEST_DAYS = {"1m": 1.0, "5m": 1.0, "15m": 1.0, "30m": 1.0, "1h": 2.0, "4h": 3.0, "1d": 7.0,
                "1w": 7.0}  # fmt: skip
PAST_TTL_S = 86_400.0
RECENT_HOURS_UNCACHED = 6


def point_factor(instrument: Instrument) -> float:
    """What Dukascopy's integer prices are divided by: 10^3 for metals, else 10^precision."""
    return 1_000.0 if instrument.kind == "metal" else float(10**instrument.precision)


def tick_url(symbol: str, hour: pd.Timestamp) -> str:
    """URL of the tick file of ``hour`` (UTC, on the hour); months count from 00."""
    return URL.format(symbol=symbol, year=hour.year, month0=hour.month - 1, day=hour.day,
                      hour=hour.hour)  # fmt: skip


def decode_ticks(
    raw: bytes, hour: pd.Timestamp, factor: float, *, provider: str = "dukascopy"
) -> pd.DataFrame:
    """Ticks of one ``.bi5`` file: UTC time index, ``bid ask`` prices, ``bid_volume
    ask_volume``. An empty file is an hour without ticks."""
    import pandas as pd

    if not raw:
        return _empty_ticks()
    try:
        data = lzma.decompress(raw)
    except lzma.LZMAError as exc:
        raise MalformedPayload(f"{hour:%Y-%m-%d %H}h tick file is not LZMA data ({exc})",
                               provider=provider) from exc  # fmt: skip
    if len(data) % TICK_DTYPE.itemsize:
        raise MalformedPayload(
            f"{hour:%Y-%m-%d %H}h tick file holds {len(data)} bytes, not whole 20-byte records",
            provider=provider,
        )
    rec = np.frombuffer(data, dtype=TICK_DTYPE)
    if len(rec) and int(rec["ms"].max()) >= HOUR_MS:
        raise MalformedPayload(f"{hour:%Y-%m-%d %H}h tick file has offsets beyond the hour",
                               provider=provider)  # fmt: skip
    index = hour + pd.to_timedelta(rec["ms"].astype("int64"), unit="ms")
    return pd.DataFrame(
        {"bid": rec["bid"].astype("float64") / factor, "ask": rec["ask"].astype("float64") / factor,
         "bid_volume": rec["bid_volume"].astype("float64"),
         "ask_volume": rec["ask_volume"].astype("float64")},
        index=pd.DatetimeIndex(index, name="time").as_unit("ns"),
    )  # fmt: skip


def _empty_ticks() -> pd.DataFrame:
    import pandas as pd

    index = pd.DatetimeIndex([], tz="UTC", name="time").as_unit("ns")
    columns = ("bid", "ask", "bid_volume", "ask_volume")
    return pd.DataFrame({c: np.array([], dtype="float64") for c in columns}, index=index)


def ticks_to_bars(ticks: pd.DataFrame, timeframe: Timeframe, factor: float) -> pd.DataFrame:
    """Bid bars from ticks (vectorised; ticks are sorted by time first)."""
    import pandas as pd

    from noxfx.data.bars import empty_bars

    if ticks.empty:
        return empty_bars()
    ticks = ticks.sort_index(kind="stable")
    keys = bucket_open(pd.DatetimeIndex(ticks.index), timeframe).as_unit("ns").asi8
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    ends = np.r_[starts[1:], len(keys)] - 1
    bid = ticks["bid"].to_numpy()
    spread = (ticks["ask"].to_numpy() - bid) * factor
    counts = np.diff(np.r_[starts, len(keys)])
    index = pd.DatetimeIndex(keys[starts], tz="UTC", name="time")
    return pd.DataFrame(
        {"open": bid[starts], "high": np.maximum.reduceat(bid, starts),
         "low": np.minimum.reduceat(bid, starts), "close": bid[ends],
         "volume": np.add.reduceat(ticks["bid_volume"].to_numpy(), starts),
         "spread": np.add.reduceat(spread, starts) / counts},
        index=index,
    )  # fmt: skip


class DukascopyProvider(Provider):
    """Dukascopy hourly tick files -> bid bars of any timeframe (no quotes: history only)."""

    name = "dukascopy"

    def __init__(self, client: HttpClient) -> None:
        self.client = client

    def capabilities(self) -> Capabilities:
        return Capabilities(
            history=True, quotes=False, native=ALL_TIMEFRAMES,
            max_depth_days={tf: None for tf in ALL_TIMEFRAMES}, request_days=REQUEST_DAYS,
            symbols=SYMBOLS, notes="bid bars built from hourly tick files (24 requests per day)",
        )  # fmt: skip

    def _map_symbol(self, instrument: Instrument) -> str:
        return instrument.symbol

    def hours(self, timeframe: Timeframe, start: pd.Timestamp, end: pd.Timestamp) -> list:
        """UTC hours whose files the bars opened in ``[start, end]`` need (whole buckets, no
        weekend hours, nothing from the current hour on)."""
        import pandas as pd

        from noxfx.data.providers.resilience import utc_now

        lo = bucket_open(pd.DatetimeIndex([start]), timeframe)[0]
        hi = bucket_close(bucket_open(pd.DatetimeIndex([end]), timeframe)[0], timeframe)
        now_hour = utc_now(self.client.guard.clock).floor("h")
        hi = min(hi, now_hour)
        if hi <= lo:
            return []
        hours = pd.date_range(lo.floor("h"), hi - pd.Timedelta(1, "ns"), freq="h")
        closed = in_weekend(hours) & in_weekend(hours + pd.Timedelta(minutes=59, seconds=59))
        return list(hours[~closed])

    def _decoder(self, hour: pd.Timestamp, factor: float) -> Callable[[HttpResult], pd.DataFrame]:
        """Decode a tick file inside the guard (a corrupt file is never cached); 404 is an
        hour the feed has no file for."""

        def decode(result: HttpResult) -> pd.DataFrame:
            if result.status == 404:
                return _empty_ticks()
            if result.status != 200:
                raise ProviderError(f"HTTP {result.status} for {hour:%Y-%m-%d %H}h",
                                    provider=self.name, status=result.status)  # fmt: skip
            return decode_ticks(result.content, hour, factor, provider=self.name)

        return decode

    def _history(
        self, instrument: Instrument, timeframe: Timeframe, start: pd.Timestamp, end: pd.Timestamp
    ) -> pd.DataFrame:
        import pandas as pd

        from noxfx.data.providers.resilience import utc_now

        factor = point_factor(instrument)
        recent = utc_now(self.client.guard.clock) - pd.Timedelta(hours=RECENT_HOURS_UNCACHED)
        parts = [_empty_ticks()]
        for hour in self.hours(timeframe, start, end):
            ttl = PAST_TTL_S if hour < recent else 0.0
            url = tick_url(instrument.symbol, hour)
            parts.append(self.client.get_parsed(url, self._decoder(hour, factor), cache_ttl_s=ttl))
        ticks = pd.concat(parts)
        ticks = ticks[~in_weekend(pd.DatetimeIndex(ticks.index))]
        return ticks_to_bars(ticks, timeframe, factor)


__all__ = [
    "SYMBOLS",
    "TICK_DTYPE",
    "URL",
    "DukascopyProvider",
    "decode_ticks",
    "point_factor",
    "tick_url",
    "ticks_to_bars",
]
