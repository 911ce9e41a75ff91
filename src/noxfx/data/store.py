"""The bar store: one Parquet file per symbol and timeframe under ``NOX_HOME/bars``.

Layout::

    $NOX_HOME/bars/EURUSD/1h.parquet
    $NOX_HOME/bars/EURUSD/1d.parquet

Guarantees:

* **Atomic writes.** A dataset is written to a temporary file in the same folder, fsynced, then
  renamed over the old one (``os.replace``) and the folder fsynced. A process killed mid-write
  leaves the previous file intact, and readers only ever see a complete file.
* **Upserts.** Writing bars that overlap stored ones replaces the overlap (new data win), keeps
  the rest, and leaves the dataset sorted without duplicate times. Writers of one dataset are
  serialised with an advisory lock file, so concurrent imports do not lose each other's bars.
* **Derived timeframes.** Reading a timeframe that is not stored resamples stored finer ones
  (:func:`noxfx.timeframes.resample`), e.g. 1h -> 4h/1d/1w, with forex conventions. A derived
  timeframe exists only where finer data covers it: each bar comes from the finest source whose
  span covers that bar completely (a partial edge bar only when no source has it whole), so two
  months of 1m bars improve those two months of 4h bars and leave the other years to the 1h
  data. A natively stored timeframe always wins over a derived one: it is read as stored.
  :meth:`BarStore.datasets` with ``derived=True`` lists the derived views and their sources.

Each file carries its provenance (source, format, import time) in the Parquet key-value metadata.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from noxfx.errors import InsufficientData, StoreError
from noxfx.instruments import get_instrument
from noxfx.timeframes import TIMEFRAMES, Timeframe, parse_timeframe

if TYPE_CHECKING:
    import pandas as pd

_META_KEY = b"noxfx"


@dataclass(frozen=True, slots=True)
class DatasetInfo:
    """What one stored dataset holds. Times are UTC bar open times."""

    symbol: str
    timeframe: str
    first: pd.Timestamp | None
    last: pd.Timestamp | None
    bars: int
    source: str | None
    path: str
    #: "native" (stored as imported) or "derived" (resampled on read from ``derived_from``)
    origin: str = "native"
    #: the stored timeframes a derived view is built from, finest first (empty when native)
    derived_from: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "symbol": self.symbol,
            "timeframe": self.timeframe,
            "first": self.first.isoformat() if self.first is not None else None,
            "last": self.last.isoformat() if self.last is not None else None,
            "bars": self.bars,
            "source": self.source,
            "origin": self.origin,
            "derived_from": list(self.derived_from),
        }


@dataclass(frozen=True, slots=True)
class WriteResult:
    """Outcome of a write: bars new to the store, bars replaced in an overlap, bars after."""

    symbol: str
    timeframe: str
    added: int
    replaced: int
    total: int


class BarStore:
    """Parquet bar store rooted at ``root`` (normally ``$NOX_HOME/bars``)."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).expanduser()

    @classmethod
    def default(cls) -> BarStore:
        """The store configured by ``NOX_HOME`` (default ``~/.noxfx/bars``)."""
        from noxfx.config import get_settings

        return cls(get_settings().bars_dir)

    # ------------------------------------------------------------------ paths
    def path(self, symbol: str, timeframe: str | Timeframe) -> Path:
        """File of one dataset (whether or not it exists)."""
        sym = get_instrument(symbol).symbol
        return self.root / sym / f"{parse_timeframe(timeframe).name}.parquet"

    def stored_timeframes(self, symbol: str) -> list[Timeframe]:
        """Timeframes stored for ``symbol``, finest first."""
        folder = self.root / get_instrument(symbol).symbol
        if not folder.is_dir():
            return []
        names = {p.stem for p in folder.glob("*.parquet")}
        return sorted(TIMEFRAMES[n] for n in names if n in TIMEFRAMES)

    def symbols(self) -> list[str]:
        """Symbols with at least one stored dataset."""
        if not self.root.is_dir():
            return []
        return sorted(
            p.name for p in self.root.iterdir() if p.is_dir() and any(p.glob("*.parquet"))
        )

    # ------------------------------------------------------------------ reading
    def read(
        self,
        symbol: str,
        timeframe: str | Timeframe,
        start: pd.Timestamp | str | None = None,
        end: pd.Timestamp | str | None = None,
        *,
        derive: bool = True,
    ) -> pd.DataFrame:
        """Bars of ``symbol`` at ``timeframe`` with open time in ``[start, end]`` (UTC).

        When ``timeframe`` is not stored and ``derive`` is true, it is resampled from the finest
        stored finer timeframe. Raises :class:`InsufficientData` when nothing can serve it.
        """
        tf = parse_timeframe(timeframe)
        sym = get_instrument(symbol).symbol
        path = self.path(sym, tf)
        if path.exists():
            return self._read_file(path, _utc(start), _utc(end))
        finer = self.derivable_from(sym, tf)
        if not derive or not finer:
            have = ", ".join(s.name for s in self.stored_timeframes(sym)) or "nothing"
            raise InsufficientData(
                f"No {sym} {tf} bars in the store (stored: {have}). "
                f"Import some with `noxfx data import` or `noxfx data bootstrap`."
            )
        lo, hi = _utc(start), _utc(end)
        if len(finer) == 1:
            out = self._derive_from(sym, tf, finer[0], lo, hi)
        else:
            out = self._derive_covered(sym, tf, finer, lo, hi)
        if lo is not None:
            out = out[out.index >= lo]
        if hi is not None:
            out = out[out.index <= hi]
        return out

    def derivable_from(self, symbol: str, timeframe: str | Timeframe) -> list[Timeframe]:
        """Stored timeframes finer than ``timeframe`` that divide it, finest first (empty when
        ``timeframe`` is stored natively: the native dataset wins)."""
        tf = parse_timeframe(timeframe)
        stored = self.stored_timeframes(symbol)
        if tf in stored:
            return []
        return [s for s in stored if s < tf and (tf.name == "1w" or tf.seconds % s.seconds == 0)]

    def _derive_from(
        self,
        sym: str,
        tf: Timeframe,
        source: Timeframe,
        lo: pd.Timestamp | None,
        hi: pd.Timestamp | None,
    ) -> pd.DataFrame:
        from noxfx.timeframes import bucket_close, bucket_open, resample

        # widen the read to whole buckets, so the first and last derived bars are complete
        src_lo = bucket_open(_index_of(lo), tf)[0] if lo is not None else None
        src_hi = None
        if hi is not None:
            src_hi = bucket_close(bucket_open(_index_of(hi), tf)[0], tf) - _one_ns()
        frame = self._read_file(self.path(sym, source), src_lo, src_hi)
        return resample(frame, tf, source=source)

    def _derive_covered(
        self,
        sym: str,
        tf: Timeframe,
        sources: list[Timeframe],
        lo: pd.Timestamp | None,
        hi: pd.Timestamp | None,
    ) -> pd.DataFrame:
        """Each ``tf`` bar from the finest source whose stored span holds it whole."""
        import numpy as np
        import pandas as pd

        from noxfx.timeframes import bucket_close, bucket_open

        parts = []
        for rank, source in enumerate(sources):
            info = self.info(sym, source)
            out = self._derive_from(sym, tf, source, lo, hi)
            if out.empty or info.first is None or info.last is None:
                continue
            opens = pd.DatetimeIndex(out.index)
            closes = opens + (bucket_close(opens[0], tf) - opens[0])  # one length per timeframe
            span_end = info.last + pd.Timedelta(seconds=source.seconds)
            first_open = bucket_open(_index_of(info.first), tf)[0]
            whole = (opens > first_open) | (first_open == info.first)
            whole &= closes <= span_end
            # whole buckets by source order first; partial edge buckets after every whole one
            priority = np.where(np.asarray(whole), rank, len(sources) + rank)
            parts.append(out.assign(_priority=priority))
        if not parts:
            return self._derive_from(sym, tf, sources[0], lo, hi)
        merged = pd.concat(parts)
        merged = merged.sort_values("_priority", kind="stable")
        merged = merged[~merged.index.duplicated(keep="first")].sort_index()
        return merged.drop(columns="_priority")

    def _read_file(
        self, path: Path, start: pd.Timestamp | None, end: pd.Timestamp | None
    ) -> pd.DataFrame:
        import pyarrow as pa
        import pyarrow.parquet as pq

        filters: list[tuple[str, str, Any]] = []
        if start is not None:
            filters.append(("time", ">=", start))
        if end is not None:
            filters.append(("time", "<=", end))
        try:
            # Open the file once: a writer may rename a new version over the path while we
            # read, and footer and data must come from the same file (the open inode).
            with pa.memory_map(str(path)) as source:
                table = pq.read_table(source, filters=filters or None)
        except FileNotFoundError:
            raise
        except Exception as exc:  # corrupt or unreadable file
            raise StoreError(f"Cannot read {path}: {exc}") from exc
        frame = table.to_pandas()
        if frame.index.name != "time":
            frame = frame.set_index("time")
        frame.index = frame.index.as_unit("ns")
        return frame

    def info(self, symbol: str, timeframe: str | Timeframe) -> DatasetInfo:
        """Summary of one stored dataset, from the Parquet footer (does not read the bars)."""
        import pyarrow.parquet as pq

        path = self.path(symbol, timeframe)
        if not path.exists():
            raise InsufficientData(
                f"No stored dataset {get_instrument(symbol).symbol} {timeframe}."
            )
        meta = pq.read_metadata(path)
        first = last = None
        col = meta.schema.to_arrow_schema().get_field_index("time")
        for rg in range(meta.num_row_groups):
            stats = meta.row_group(rg).column(col).statistics
            if stats is None or not stats.has_min_max:
                continue
            lo, hi = _ts(stats.min), _ts(stats.max)
            first = lo if first is None or lo < first else first
            last = hi if last is None or hi > last else last
        kv = meta.metadata or {}
        prov = json.loads(kv[_META_KEY]) if _META_KEY in kv else {}
        return DatasetInfo(
            symbol=path.parent.name,
            timeframe=path.stem,
            first=first,
            last=last,
            bars=meta.num_rows,
            source=prov.get("source"),
            path=str(path),
        )

    def datasets(self, *, derived: bool = False) -> list[DatasetInfo]:
        """Every stored dataset, by symbol then timeframe (finest first); with ``derived``, also
        each timeframe that reads derive from finer stored data (``origin="derived"``)."""
        out: list[DatasetInfo] = []
        for sym in self.symbols():
            stored = self.stored_timeframes(sym)
            names = sorted({*stored, *(TIMEFRAMES.values() if derived else ())})
            for tf in names:
                if tf in stored:
                    out.append(self.info(sym, tf))
                elif sources := self.derivable_from(sym, tf):
                    out.append(self.derived_info(sym, tf, sources))
        return out

    def derived_info(
        self, symbol: str, timeframe: str | Timeframe, sources: list[Timeframe] | None = None
    ) -> DatasetInfo:
        """Summary of a derived view (reads and resamples its sources to count its bars)."""
        tf = parse_timeframe(timeframe)
        sym = get_instrument(symbol).symbol
        sources = sources if sources is not None else self.derivable_from(sym, tf)
        frame = self.read(sym, tf)
        return DatasetInfo(
            symbol=sym,
            timeframe=tf.name,
            first=frame.index[0] if len(frame) else None,
            last=frame.index[-1] if len(frame) else None,
            bars=len(frame),
            source="derived from " + " + ".join(s.name for s in sources),
            path=str(self.path(sym, sources[0])),
            origin="derived",
            derived_from=tuple(s.name for s in sources),
        )

    # ------------------------------------------------------------------ writing
    def write(
        self,
        symbol: str,
        timeframe: str | Timeframe,
        bars: pd.DataFrame,
        *,
        replace: bool = False,
        source: str | None = None,
    ) -> WriteResult:
        """Upsert ``bars`` (a valid bar frame) into the dataset, atomically.

        Overlapping times take the new values; ``replace=True`` drops the old dataset instead.
        """
        import pandas as pd

        from noxfx.data.bars import as_bar_frame

        tf = parse_timeframe(timeframe)
        sym = get_instrument(symbol).symbol
        new = as_bar_frame(bars)
        new = new[~new.index.duplicated(keep="last")].sort_index()
        path = self.path(sym, tf)
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock(path):
            self._remove_stale_temps(path)
            old = None if replace or not path.exists() else self._read_file(path, None, None)
            if old is None or old.empty:
                merged, replaced = new, 0
            else:
                overlap = old.index.isin(new.index)
                replaced = int(overlap.sum())
                merged = pd.concat([old[~overlap], new]).sort_index()
            added = len(merged) - (0 if old is None else len(old))
            self._atomic_write(
                path, merged, {"source": source, "symbol": sym, "timeframe": tf.name}
            )
        return WriteResult(sym, tf.name, added, replaced, len(merged))

    def delete(self, symbol: str, timeframe: str | Timeframe) -> bool:
        """Remove one dataset; True if it existed."""
        path = self.path(symbol, timeframe)
        with self._lock(path):
            if path.exists():
                path.unlink()
                return True
        return False

    def _atomic_write(self, path: Path, frame: pd.DataFrame, provenance: dict[str, Any]) -> None:
        import pandas as pd
        import pyarrow as pa
        import pyarrow.parquet as pq

        prov = {**provenance, "written_utc": pd.Timestamp.now("UTC").isoformat()}
        table = pa.Table.from_pandas(frame, preserve_index=True)
        table = table.replace_schema_metadata(
            {**(table.schema.metadata or {}), _META_KEY: json.dumps(prov).encode()}
        )
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".tmp", dir=path.parent)
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as fh:
                pq.write_table(table, fh, compression="zstd", row_group_size=1_000_000)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
            _fsync_dir(path.parent)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

    @staticmethod
    def _remove_stale_temps(path: Path) -> None:
        """Delete temp files a killed writer left behind (safe: we hold the dataset's lock)."""
        for tmp in path.parent.glob(f".{path.stem}.*.tmp"):
            tmp.unlink(missing_ok=True)

    @contextlib.contextmanager
    def _lock(self, path: Path) -> Iterator[None]:
        path.parent.mkdir(parents=True, exist_ok=True)
        lock_path = path.with_name(f".{path.stem}.lock")
        try:
            fh = open(lock_path, "a+b")  # noqa: SIM115 - held for the duration of the block
        except OSError as exc:
            raise StoreError(f"Cannot write to the bar store at {path.parent}: {exc}") from exc
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
            fh.close()


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _utc(value: pd.Timestamp | str | None) -> pd.Timestamp | None:
    """Parse a start/end bound; naive values are taken as UTC."""
    if value is None:
        return None
    import pandas as pd

    from noxfx.errors import InvalidInput

    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError) as exc:
        raise InvalidInput(
            f"Not a date/time: {value!r} (use e.g. 2020-01-31 or 2020-01-31T12:00)."
        ) from exc
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def _index_of(ts: pd.Timestamp) -> pd.DatetimeIndex:
    import pandas as pd

    return pd.DatetimeIndex([ts])


def _one_ns() -> pd.Timedelta:
    import pandas as pd

    return pd.Timedelta(1, "ns")


def _ts(value: Any) -> pd.Timestamp:
    import pandas as pd

    ts = pd.Timestamp(value)
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


__all__ = ["BarStore", "DatasetInfo", "WriteResult"]
