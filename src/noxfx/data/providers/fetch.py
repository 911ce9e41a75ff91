"""Fetching provider bars into the bar store, and cross-checking sources against each other.

:func:`fetch` is the provider counterpart of :func:`noxfx.data.importer.import_files`, with the
same rule: **every bar is validated before it is stored**. A long range is cut into chunks (the
provider's :meth:`~noxfx.data.providers.base.Provider.request_span`); each chunk is fetched,
checked with :func:`noxfx.data.validation.validate`, and upserted atomically with
``BarStore.write(..., source="provider:<name>")``. A chunk with defects is refused with its
validation report (:class:`~noxfx.errors.InvalidBars`) and nothing of it is written; chunks
before it stay stored.

**Resuming.** When the dataset already exists, only what it lacks is fetched: from its last
stored bar (re-fetched, since it may have been stored while still forming) to ``end``, and from
``start`` to its first bar when ``start`` is earlier. So running the same command again after an
interruption (network down, Ctrl-C, a refused chunk) continues where it stopped.

:func:`crosscheck` compares two or more sources bar by bar and reports the bars where any price
differs by more than a threshold in pips.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import TYPE_CHECKING, Any

import numpy as np

from noxfx.data.providers.base import (
    CapabilityMissing,
    NotConfigured,
    Provider,
    ProviderError,
    TimeframeNotSupported,
    utc_timestamp,
)
from noxfx.data.providers.resilience import Clock, SystemClock, utc_now
from noxfx.data.store import BarStore, WriteResult
from noxfx.data.validation import Thresholds, validate
from noxfx.errors import InsufficientData, InvalidBars, InvalidInput
from noxfx.instruments import get_instrument
from noxfx.timeframes import Timeframe, parse_timeframe

if TYPE_CHECKING:
    import pandas as pd

#: how far back a fetch reaches when nothing is stored and no start is given
DEFAULT_LOOKBACK_DAYS = 365


@dataclass(frozen=True)
class FetchProgress:
    """Reported after each chunk: ``done`` of ``total`` chunks, the chunk's UTC bounds, bars
    received in it and bars written so far."""

    done: int
    total: int
    chunk_start: pd.Timestamp
    chunk_end: pd.Timestamp
    bars: int
    written: int


@dataclass
class FetchResult:
    """What a fetch did. ``ranges`` are the UTC ranges requested (after resume)."""

    symbol: str
    timeframe: str
    provider: str
    start: pd.Timestamp
    end: pd.Timestamp
    ranges: list[tuple[pd.Timestamp, pd.Timestamp]] = field(default_factory=list)
    chunks: int = 0
    bars: int = 0
    added: int = 0
    replaced: int = 0
    total: int | None = None
    sources: list[str] = field(default_factory=list)
    warnings: int = 0
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "symbol": self.symbol, "timeframe": self.timeframe, "provider": self.provider,
            "start": self.start.isoformat(), "end": self.end.isoformat(),
            "ranges": [[a.isoformat(), b.isoformat()] for a, b in self.ranges],
            "chunks": self.chunks, "bars": self.bars, "added": self.added,
            "replaced": self.replaced, "total": self.total, "sources": self.sources,
            "warnings": self.warnings, "notes": self.notes,
        }  # fmt: skip


def fetch(
    store: BarStore,
    provider: Provider,
    symbol: str,
    timeframe: str | Timeframe,
    start: Any = None,
    end: Any = None,
    *,
    progress: Callable[[FetchProgress], None] | None = None,
    resume: bool = True,
    thresholds: Thresholds | None = None,
    clock: Clock | None = None,
) -> FetchResult:
    """Fetch ``symbol`` ``timeframe`` bars opened in ``[start, end]`` (UTC) from ``provider``
    into ``store`` (see the module docstring). ``end`` defaults to now; ``start`` to the last
    stored bar, or :data:`DEFAULT_LOOKBACK_DAYS` back (capped by the provider's depth)."""
    tf = parse_timeframe(timeframe)
    sym = get_instrument(symbol).symbol
    provider.instrument(sym)  # SymbolNotSupported before any work
    ok, note = provider.configured()
    if not ok:
        raise NotConfigured(note, provider=provider.name)
    if not provider.capabilities().history:
        raise CapabilityMissing("serves no price history to fetch", provider=provider.name)
    if not provider.supports(sym, tf):
        raise TimeframeNotSupported(f"no {tf} history for {sym}", provider=provider.name)
    stored = _stored_range(store, sym, tf) if resume else None
    lo, hi, notes = _bounds(provider, tf, start, end, utc_now(clock or SystemClock()), stored)
    result = FetchResult(sym, tf.name, _label(provider), lo, hi, notes=notes)
    result.ranges = _missing_ranges(lo, hi, stored, tf)
    chunks = [c for a, b in result.ranges for c in _chunks(a, b, provider.request_span(tf), tf)]
    result.chunks = len(chunks)
    if stored is not None and result.ranges != [(lo, hi)]:
        result.notes.append(f"resumed: {stored[0]:%Y-%m-%d %H:%M}..{stored[1]:%Y-%m-%d %H:%M} "
                            f"already stored")  # fmt: skip
    for i, (a, b) in enumerate(chunks, start=1):
        try:
            written = _fetch_chunk(store, provider, sym, tf, a, b, thresholds, result)
        except (ProviderError, InvalidBars) as exc:
            _explain_interruption(exc, store, sym, tf, f"chunk {i}/{len(chunks)}", a, b)
            raise
        if progress is not None:
            progress(FetchProgress(i, len(chunks), a, b, written, result.added + result.replaced))
    return result


def _bounds(
    provider: Provider,
    tf: Timeframe,
    start: Any,
    end: Any,
    now: pd.Timestamp,
    stored: tuple[Any, Any] | None,
) -> tuple[pd.Timestamp, pd.Timestamp, list[str]]:
    """The UTC range to fetch: defaults, and the provider's depth limit (start moved, with a
    note, or :class:`TimeframeNotSupported` when the whole range is too old)."""
    import pandas as pd

    notes: list[str] = []
    hi = min(utc_timestamp(end, "end"), now) if end is not None else now
    depth = provider.capabilities().max_depth_days.get(tf.name)
    if start is not None:
        lo = utc_timestamp(start, "start")
    elif stored is not None:
        lo = min(stored[1], hi)
    else:
        days = DEFAULT_LOOKBACK_DAYS if depth is None else min(depth, DEFAULT_LOOKBACK_DAYS)
        lo = now - pd.Timedelta(days=days)
    if lo > hi:
        raise InvalidInput(f"start {lo:%Y-%m-%d %H:%M} is after end {hi:%Y-%m-%d %H:%M} (UTC).")
    floor = now - pd.Timedelta(days=depth) if depth is not None else None
    if floor is not None and lo < floor:
        if hi < floor:
            raise TimeframeNotSupported(
                f"keeps {tf} bars for {depth:g} days only; {lo:%Y-%m-%d}..{hi:%Y-%m-%d} is older",
                provider=provider.name,
            )
        notes.append(f"start moved from {lo:%Y-%m-%d} to {floor:%Y-%m-%d}: "
                     f"{provider.name} keeps {tf} bars for {depth:g} days")  # fmt: skip
        lo = floor
    return lo, hi, notes


def _explain_interruption(
    exc: ProviderError | InvalidBars,
    store: BarStore,
    sym: str,
    tf: Timeframe,
    which: str,
    a: pd.Timestamp,
    b: pd.Timestamp,
) -> None:
    """Say which chunk failed, what is stored, and how to resume, in the error's message."""
    stored = _stored_range(store, sym, tf)
    have = f"stored up to {stored[1]:%Y-%m-%d %H:%M}Z" if stored else "nothing stored yet"
    text = (f"{which} ({a:%Y-%m-%d %H:%M}..{b:%Y-%m-%d %H:%M}Z) not stored, {have}: "
            f"run the same fetch again to resume")  # fmt: skip
    if isinstance(exc, ProviderError):
        exc.add_context(text)
    else:
        exc.message = f"{exc.message}; {text}"
        exc.args = (exc.message,)


def _label(provider: Provider) -> str:
    label = getattr(provider, "label", None)
    return f"{provider.name}({label})" if label else provider.name


def _stored_range(store: BarStore, symbol: str, tf: Timeframe) -> tuple[Any, Any] | None:
    if not store.path(symbol, tf).exists():
        return None
    info = store.info(symbol, tf)
    if info.first is None or info.last is None:
        return None
    return info.first, info.last


def _missing_ranges(
    lo: pd.Timestamp, hi: pd.Timestamp, stored: tuple[Any, Any] | None, tf: Timeframe
) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """Parts of ``[lo, hi]`` the store lacks: before its first bar, and from its last bar on
    (the last stored bar is fetched again: it may have been stored while still forming)."""
    import pandas as pd

    if stored is None:
        return [(lo, hi)]
    first, last = stored
    out = []
    if lo < first:
        out.append((lo, min(hi, first - pd.Timedelta(seconds=tf.seconds))))
    if hi >= last:
        out.append((max(lo, last), hi))
    return [(a, b) for a, b in out if a <= b]


def _chunks(
    lo: pd.Timestamp, hi: pd.Timestamp, span: pd.Timedelta, tf: Timeframe
) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """``[lo, hi]`` cut into consecutive closed ranges of about ``span`` (at least one bar);
    each bar's open time falls in exactly one chunk."""
    import pandas as pd

    span = max(span, pd.Timedelta(seconds=tf.seconds))
    out = []
    a = lo
    while a <= hi:
        b = min(a + span - pd.Timedelta(1, "ns"), hi)
        out.append((a, b))
        a = a + span
    return out


def _fetch_chunk(
    store: BarStore,
    provider: Provider,
    sym: str,
    tf: Timeframe,
    a: pd.Timestamp,
    b: pd.Timestamp,
    thresholds: Thresholds | None,
    result: FetchResult,
) -> int:
    frame = provider.history(sym, tf, a, b)
    served_by = str(frame.attrs.get("provider", provider.name))
    if frame.empty:
        return 0
    label = f"{served_by} {sym} {tf} {a:%Y-%m-%d %H:%M}..{b:%Y-%m-%d %H:%M}Z"
    report = validate(frame, tf, source=label, thresholds=thresholds)
    if not report.ok:
        lines = report.lines(limit=5)
        raise InvalidBars(
            f"{served_by} sent defective {sym} {tf} bars ({len(report.errors)} errors: "
            f"{'; '.join(lines[:3])})",
            report=report,
        )
    result.warnings += len(report.warnings)
    written: WriteResult = store.write(sym, tf, frame, source=f"provider:{served_by}")
    result.bars += len(frame)
    result.added += written.added
    result.replaced += written.replaced
    result.total = written.total
    if served_by not in result.sources:
        result.sources.append(served_by)
    return len(frame)


# ---------------------------------------------------------------------------------- crosscheck
@dataclass
class Disagreement:
    """One bar where two sources differ: the largest difference over the compared fields."""

    time: pd.Timestamp
    a: str
    b: str
    field: str
    a_price: float
    b_price: float
    diff_pips: float

    def as_dict(self) -> dict[str, Any]:
        return {"time": self.time.isoformat(), "a": self.a, "b": self.b, "field": self.field,
                "a_price": self.a_price, "b_price": self.b_price,
                "diff_pips": round(self.diff_pips, 2)}  # fmt: skip


@dataclass
class PairStats:
    """Agreement of two sources: common bars, bars only one has, and price differences in
    pips (b minus a); ``median_close_diff_pips`` shows a systematic offset (bid vs mid)."""

    a: str
    b: str
    common: int
    only_a: int
    only_b: int
    disagreements: int
    max_abs_diff_pips: float | None
    median_close_diff_pips: float | None

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class CrossCheckReport:
    """Result of :func:`crosscheck`: per-pair statistics and the disagreeing bars."""

    symbol: str
    timeframe: str
    threshold_pips: float
    pairs: list[PairStats]
    disagreements: list[Disagreement]

    @property
    def ok(self) -> bool:
        return not self.disagreements

    def as_dict(self, limit: int | None = None) -> dict[str, Any]:
        return {"symbol": self.symbol, "timeframe": self.timeframe,
                "threshold_pips": self.threshold_pips, "ok": self.ok,
                "pairs": [p.as_dict() for p in self.pairs],
                "disagreements": [d.as_dict() for d in self.disagreements[:limit]]}  # fmt: skip


def crosscheck(
    data: BarStore | Mapping[str, pd.DataFrame],
    symbol: str,
    timeframe: str | Timeframe,
    sources: Sequence[str | Provider] | None = None,
    *,
    start: Any = None,
    end: Any = None,
    threshold_pips: float = 3.0,
    fields: Sequence[str] = ("open", "high", "low", "close"),
) -> CrossCheckReport:
    """Compare sources bar by bar and report bars where they differ by more than
    ``threshold_pips`` in any of ``fields``.

    ``data`` is either frames by source name (``sources`` picks some, default all), or a bar
    store: then each source is ``"store"`` (the stored dataset) or a :class:`Provider` whose
    history over ``[start, end]`` is fetched (not stored). ``start``/``end`` default to the
    stored dataset's last 500 bars.
    """
    tf = parse_timeframe(timeframe)
    inst = get_instrument(symbol)
    if isinstance(data, BarStore):
        frames = _frames_from_store(data, inst.symbol, tf, sources or ["store"], start, end)
    else:
        names = [str(s) for s in (sources or list(data))]
        missing = [n for n in names if n not in data]
        if missing:
            raise InvalidInput(f"No frame for source(s) {', '.join(missing)}.")
        frames = {n: data[n] for n in names}
    if len(frames) < 2:
        raise InvalidInput("A cross-check needs at least two sources.")
    pairs, found = [], []
    for a, b in combinations(frames, 2):
        stats, rows = _compare(a, frames[a], b, frames[b], inst.pip_size, threshold_pips, fields)
        pairs.append(stats)
        found.extend(rows)
    found.sort(key=lambda d: (d.time, d.a, d.b))
    return CrossCheckReport(inst.symbol, tf.name, threshold_pips, pairs, found)


def _frames_from_store(
    store: BarStore,
    sym: str,
    tf: Timeframe,
    sources: Sequence[str | Provider],
    start: Any,
    end: Any,
) -> dict[str, pd.DataFrame]:
    import pandas as pd

    lo = utc_timestamp(start, "start") if start is not None else None
    hi = utc_timestamp(end, "end") if end is not None else None
    if lo is None or hi is None:
        try:
            tail = store.read(sym, tf).iloc[-500:]
        except InsufficientData:
            tail = None
        if tail is None or tail.empty:
            raise InvalidInput(f"No stored {sym} {tf} bars to take a range from: pass start/end.")
        lo = lo if lo is not None else tail.index[0]
        hi = hi if hi is not None else tail.index[-1]
    frames: dict[str, pd.DataFrame] = {}
    for src in sources:
        if isinstance(src, Provider):
            frames[src.name] = src.history(sym, tf, lo, hi)
        elif src in ("store", "stored"):
            frames["store"] = store.read(sym, tf, lo, hi)
        else:
            raise InvalidInput(f"Source {src!r}: pass 'store' or a Provider object.")
    return {k: v.loc[~pd.DatetimeIndex(v.index).duplicated(keep="last")] for k, v in frames.items()}


def _compare(
    a: str,
    fa: pd.DataFrame,
    b: str,
    fb: pd.DataFrame,
    pip: float,
    threshold: float,
    fields: Sequence[str],
) -> tuple[PairStats, list[Disagreement]]:
    common = fa.index.intersection(fb.index)
    only_a, only_b = len(fa.index.difference(fb.index)), len(fb.index.difference(fa.index))
    if len(common) == 0:
        return PairStats(a, b, 0, only_a, only_b, 0, None, None), []
    cols = list(fields)
    xa = fa.loc[common, cols].to_numpy(dtype="float64")
    xb = fb.loc[common, cols].to_numpy(dtype="float64")
    diff = (xb - xa) / pip
    absd = np.abs(diff)
    worst = np.nanargmax(np.where(np.isnan(absd), -1.0, absd), axis=1)
    worst_abs = absd[np.arange(len(common)), worst]
    bad = np.flatnonzero(worst_abs > threshold)
    rows = [
        Disagreement(common[int(i)], a, b, cols[worst[i]], float(xa[i, worst[i]]),
                     float(xb[i, worst[i]]), float(diff[i, worst[i]]))
        for i in bad
    ]  # fmt: skip
    close = cols.index("close") if "close" in cols else 0
    stats = PairStats(
        a, b, len(common), only_a, only_b, len(rows), float(np.nanmax(absd)),
        float(np.nanmedian(diff[:, close])),
    )  # fmt: skip
    return stats, rows


__all__ = [
    "DEFAULT_LOOKBACK_DAYS",
    "CrossCheckReport",
    "Disagreement",
    "FetchProgress",
    "FetchResult",
    "PairStats",
    "crosscheck",
    "fetch",
]
