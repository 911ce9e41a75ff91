"""The replay provider: stored bars served back as history, quotes and a tick stream.

This is the embedded default for quotes and streams (no account, no network):

* ``history`` reads the bar store (derived timeframes are resampled by the store itself).
* ``quote`` is the close of the last stored bar of the finest stored timeframe, taken as the
  **bid**, with the instrument's typical spread added for the ask (``indicative=True``); its
  ``time`` is that bar's close time (UTC).
* ``stream`` replays stored bars as ticks: four per bar (open, then the nearer extreme of a
  bullish/bearish bar, the other extreme, close), at 0, 1/3, 2/3 of the bar and one second before
  its close. Several symbols are merged in time order. With ``speed`` set, it is paced: the wait
  between two ticks is their market-time distance divided by ``speed`` (``speed=60`` plays an hour
  of market in a minute), capped at ``max_sleep_s`` so weekends do not stall it.
* ``as_of`` (UTC) freezes the replay at a point in time: only bars complete by then are served.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from noxfx.data.providers.base import (
    ALL_TIMEFRAMES,
    Capabilities,
    Provider,
    Quote,
    SymbolNotSupported,
    Tick,
    TimeframeNotSupported,
    indicative_quote,
    utc_timestamp,
)
from noxfx.data.providers.resilience import Clock, SystemClock
from noxfx.errors import InsufficientData
from noxfx.instruments import Instrument, get_instrument
from noxfx.timeframes import Timeframe, bucket_close

if TYPE_CHECKING:
    import pandas as pd

    from noxfx.data.store import BarStore

#: fractions of the bar at which the four replayed ticks fall (the last is 1 s before close)
_TICK_FRACTIONS = (0.0, 1 / 3, 2 / 3)


class ReplayProvider(Provider):
    """Stored bars as a market-data source (see the module docstring)."""

    name = "replay"

    def __init__(
        self,
        store: BarStore | None = None,
        *,
        clock: Clock | None = None,
        speed: float | None = None,
        max_sleep_s: float = 5.0,
        as_of: Any = None,
        replay_bars: int = 500,
    ) -> None:
        from noxfx.data.store import BarStore

        self.store = store if store is not None else BarStore.default()
        self.clock = clock or SystemClock()
        self.speed = speed
        self.max_sleep_s = max_sleep_s
        self.as_of = utc_timestamp(as_of, "as_of") if as_of is not None else None
        self.replay_bars = replay_bars

    def capabilities(self) -> Capabilities:
        return Capabilities(
            history=True, quotes=True, stream=True, native=ALL_TIMEFRAMES,
            max_depth_days={tf: None for tf in ALL_TIMEFRAMES},
            request_days={tf: 3650.0 for tf in ALL_TIMEFRAMES},
            symbols=frozenset(self.store.symbols()),
            notes=f"bars stored under {self.store.root}; quotes = last close + typical spread",
        )  # fmt: skip

    def configured(self) -> tuple[bool, str]:
        n = len(self.store.symbols())
        if n:
            return True, f"{n} symbols stored"
        return False, "the bar store is empty (run `noxfx data bootstrap`)"

    def _map_symbol(self, instrument: Instrument) -> str:
        return instrument.symbol

    # ------------------------------------------------------------------ history
    def instrument(self, symbol: str) -> Instrument:
        inst = get_instrument(symbol)
        if inst.symbol not in self.store.symbols():
            raise SymbolNotSupported(
                f"no stored {inst.symbol} bars (load some with `noxfx data bootstrap`, "
                f"`noxfx data import` or `noxfx data fetch`)",
                provider=self.name,
            )
        return inst

    def _history(
        self, instrument: Instrument, timeframe: Timeframe, start: pd.Timestamp, end: pd.Timestamp
    ) -> pd.DataFrame:
        try:
            frame = self.store.read(instrument.symbol, timeframe, start, end)
        except InsufficientData as exc:  # a provider error, so a fallback chain can move on
            raise TimeframeNotSupported(str(exc), provider=self.name) from exc
        return self._cut(frame, timeframe)

    def _cut(self, frame: pd.DataFrame, tf: Timeframe) -> pd.DataFrame:
        """Only bars complete at ``as_of`` (all bars when not frozen)."""
        if self.as_of is None or frame.empty:
            return frame
        import pandas as pd

        closes = pd.DatetimeIndex([bucket_close(t, tf) for t in frame.index])
        return frame[closes <= self.as_of]

    def _finest(self, symbol: str) -> Timeframe:
        stored = self.store.stored_timeframes(symbol)
        if not stored:
            raise InsufficientData(
                f"replay: no stored bars for {symbol}; import or fetch some first."
            )
        return stored[0]

    # ------------------------------------------------------------------ quotes
    def quote(self, symbols: Sequence[str]) -> list[Quote]:
        out = []
        for raw in symbols:
            inst = self.instrument(raw)
            tf = self._finest(inst.symbol)
            info = self.store.info(inst.symbol, tf)
            start = None if info.last is None else info.last - _span(tf, 3)
            if self.as_of is not None:
                start = self.as_of - _span(tf, 3)
            bars = self._cut(self.store.read(inst.symbol, tf, start, self.as_of), tf)
            if bars.empty:
                raise InsufficientData(f"replay: no {inst.symbol} bar before {self.as_of}.")
            last = bars.index[-1]
            close = float(bars["close"].iloc[-1])
            out.append(indicative_quote(inst.symbol, close, bucket_close(last, tf), self.name,
                                        price_is="bid"))  # fmt: skip
        return out

    # ------------------------------------------------------------------ stream
    def stream(self, symbols: Sequence[str], start: Any = None, end: Any = None) -> Iterator[Tick]:
        """Ticks replayed from stored bars of ``symbols`` opened in ``[start, end]`` (default:
        the last ``replay_bars`` bars up to ``as_of``), merged in time order, paced by ``speed``."""
        insts = [self.instrument(s) for s in symbols]
        hi = utc_timestamp(end, "end") if end is not None else self.as_of
        sources = []
        for inst in insts:
            tf = self._finest(inst.symbol)
            lo = utc_timestamp(start, "start") if start is not None else None
            bars = self._cut(self.store.read(inst.symbol, tf, lo, hi), tf)
            if start is None:
                bars = bars.iloc[-self.replay_bars :]
            sources.append(_bar_ticks(bars, tf, inst, self.name))
        return self._paced(heapq.merge(*sources, key=lambda t: t.time))

    def _paced(self, ticks: Iterator[Tick]) -> Iterator[Tick]:
        previous = None
        for tick in ticks:
            if self.speed and previous is not None:
                gap = (tick.time - previous).total_seconds() / self.speed
                if gap > 0:
                    self.clock.sleep(min(gap, self.max_sleep_s))
            previous = tick.time
            yield tick


def _span(tf: Timeframe, bars: int) -> pd.Timedelta:
    import pandas as pd

    return pd.Timedelta(seconds=tf.seconds * bars)


def _bar_ticks(bars: pd.DataFrame, tf: Timeframe, inst: Instrument, source: str) -> Iterator[Tick]:
    """Four ticks per bar, bid = the bar's price path, ask = bid + typical spread."""
    import pandas as pd

    if bars.empty:
        return
    o, h, lo, c = (bars[k].to_numpy(dtype="float64") for k in ("open", "high", "low", "close"))
    bullish = c >= o
    path = np.column_stack([o, np.where(bullish, lo, h), np.where(bullish, h, lo), c])
    seconds = [tf.seconds * f for f in _TICK_FRACTIONS] + [tf.seconds - 1]
    offsets = pd.to_timedelta(np.array(seconds), unit="s")
    spread = inst.from_pips(inst.typical_spread_pips)
    for t0, prices in zip(bars.index, path, strict=True):
        for off, bid in zip(offsets, prices, strict=True):
            b = inst.round_price(float(bid))
            yield Tick(inst.symbol, t0 + off, b, inst.round_price(b + spread), source)


__all__ = ["ReplayProvider"]
