"""Importing bar files into the store: read, validate, optionally repair, then write atomically.

A batch is all-or-nothing at validation: every file is read and checked first, and if any of them
has errors (and ``repair`` is off) nothing at all is written. Each dataset write is atomic on its
own (see :mod:`noxfx.data.store`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from noxfx.data.formats import ParsedFile, read_file
from noxfx.data.store import BarStore, WriteResult
from noxfx.data.validation import Thresholds, ValidationReport, repair, validate
from noxfx.errors import InvalidBars, InvalidInput


@dataclass
class ImportResult:
    """What importing one file did."""

    path: Path
    format: str
    tz: str
    symbol: str
    timeframe: str
    rows_read: int
    report: ValidationReport
    written: WriteResult | None = None

    def as_dict(self, problem_limit: int | None = 20) -> dict[str, Any]:
        w = self.written
        return {
            "path": str(self.path),
            "format": self.format,
            "tz": self.tz,
            "symbol": self.symbol,
            "timeframe": self.timeframe,
            "rows_read": self.rows_read,
            "added": w.added if w else 0,
            "replaced": w.replaced if w else 0,
            "total": w.total if w else None,
            "validation": self.report.as_dict(limit=problem_limit),
        }


def check_file(
    path: str | Path,
    *,
    fmt: str = "auto",
    tz: str | None = None,
    symbol: str | None = None,
    timeframe: str | None = None,
    thresholds: Thresholds | None = None,
) -> tuple[ParsedFile, ValidationReport]:
    """Read and validate one file without writing anything."""
    parsed = read_file(path, fmt=fmt, tz=tz, symbol=symbol, timeframe=timeframe)
    report = validate(
        parsed.frame, parsed.timeframe, source=parsed.path.name, thresholds=thresholds
    )
    return parsed, report


#: File names a folder import picks up.
DATA_SUFFIXES = (".csv", ".csv.gz", ".txt", ".txt.gz")


def expand_paths(paths: Sequence[str | Path]) -> list[Path]:
    """Files to import: each file as given, each folder's data files in name order."""
    out: list[Path] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            found = sorted(f for f in p.iterdir() if f.is_file() and f.name.endswith(DATA_SUFFIXES))
            if not found:
                raise InvalidInput(f"No data files ({', '.join(DATA_SUFFIXES)}) in folder {p}.")
            out.extend(found)
        else:
            out.append(p)
    return out


def import_files(
    store: BarStore,
    paths: Sequence[str | Path],
    *,
    fmt: str = "auto",
    tz: str | None = None,
    symbol: str | None = None,
    timeframe: str | None = None,
    repair_defects: bool = False,
    thresholds: Thresholds | None = None,
    progress: Callable[[str], None] | None = None,
) -> list[ImportResult]:
    """Import ``paths`` (files, or folders of data files) into ``store``.

    Raises :class:`InvalidBars` (its ``report`` is the list of :class:`ImportResult`) when a file
    has errors and ``repair_defects`` is false; nothing is written then.
    """
    checked: list[tuple[ParsedFile, ValidationReport]] = []
    for p in expand_paths(paths):
        if progress:
            progress(f"reading {Path(p).name}")
        checked.append(
            check_file(p, fmt=fmt, tz=tz, symbol=symbol, timeframe=timeframe, thresholds=thresholds)
        )
    results = [
        ImportResult(pf.path, pf.format, pf.tz, pf.symbol, pf.timeframe.name, len(pf.frame), rep)
        for pf, rep in checked
    ]
    refused = [r for r in results if not r.report.ok]
    if refused and not repair_defects:
        names = ", ".join(r.path.name for r in refused)
        raise InvalidBars(
            f"Refused {names}: {sum(len(r.report.errors) for r in refused)} defects; nothing was "
            f"written. Fix the file(s) or import with --repair.",
            report=results,
        )
    for (parsed, report), result in zip(checked, results, strict=True):
        frame = parsed.frame
        if report.problems and repair_defects:
            frame, actions = repair(frame, parsed.timeframe, report)
            report.repairs.extend(actions)
        if progress:
            progress(f"writing {parsed.symbol} {parsed.timeframe}")
        result.written = store.write(
            parsed.symbol,
            parsed.timeframe,
            frame.drop(columns="line"),
            source=f"{parsed.format}:{parsed.path.name}",
        )
    return results


__all__ = ["ImportResult", "check_file", "import_files"]
