"""Rendering for the CLI: rich tables for people, JSON/CSV for programs.

stdout carries results only; progress and errors go to stderr, so ``--json`` output pipes cleanly.

Tables fit the terminal (``COLUMNS`` or the terminal's width; 80 when output is not a
terminal). A table that would fit only by breaking a word (a file name, a symbol, a version) is
printed as key/value rows instead, one block per row; otherwise cells wrap at spaces. No cell is
ever cut short with an ellipsis (a single value longer than the width folds onto the next line),
so file names and symbols are always whole. Floats in tables are
rounded (``sig`` significant digits, prices with ``price_columns`` at the instrument's
precision); ``--json`` keeps full precision.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd
    from rich.console import Console


def emit_json(obj: Any) -> None:
    """Print ``obj`` as JSON on stdout (:mod:`noxfx.jsonable`: ISO 8601 times, NaN as null)."""
    from noxfx.jsonable import dumps_pretty

    sys.stdout.write(dumps_pretty(obj) + "\n")


def stdout_console() -> Console:
    from rich.console import Console

    return Console(soft_wrap=False)


def stderr_console() -> Console:
    from rich.console import Console

    return Console(stderr=True)


def _cell(value: Any, sig: int = 6, decimals: int | None = None) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        if not math.isfinite(value):
            return "-"
        if decimals is not None:
            return f"{value:.{decimals}f}"
        return f"{value:.{sig}g}" if abs(value) < 1e6 else f"{value:,.0f}"
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    if hasattr(value, "isoformat") and hasattr(value, "strftime"):
        return value.strftime("%Y-%m-%d %H:%M")
    return str(value)


def _fits(console: Console, table: Any) -> bool:
    """Whether ``table`` fits the console without breaking a word: its minimum width (every
    column as wide as its longest word) is within the console width; cells may wrap at spaces."""
    from rich.measure import Measurement

    unbounded = console.options.update_width(1_000_000)
    return Measurement.get(console, unbounded, table).minimum <= console.width


def print_table(
    rows: Sequence[dict[str, Any]],
    title: str | None = None,
    columns: Sequence[str] | None = None,
    *,
    sig: int = 6,
    price_columns: dict[str, int] | None = None,
) -> None:
    """Print dict rows as a rich table (columns: ``columns`` or the first row's keys).

    Floats show ``sig`` significant digits, except ``price_columns`` (column -> decimals, the
    instrument's precision). When the table cannot fit the terminal without breaking a word it
    is printed as key/value rows instead (one block per row), so nothing is truncated.
    """
    from rich.table import Table

    cols = list(columns or (rows[0].keys() if rows else []))
    prices = price_columns or {}
    cells = [[_cell(r.get(c), sig, prices.get(c)) for c in cols] for r in rows]
    console = stdout_console()
    table = Table(title=title, show_lines=False, header_style="bold")
    for c in cols:
        numeric = bool(rows) and isinstance(rows[0].get(c), int | float)
        table.add_column(c, justify="right" if numeric else "left", overflow="fold")
    for row in cells:
        table.add_row(*row)
    if len(cols) <= 2 or _fits(console, table):
        console.print(table)
        return
    folded = Table(
        title=f"{title} (one block per row)" if title else None,
        show_header=False,
        header_style="bold",
    )
    folded.add_column("field", style="bold", no_wrap=True, overflow="fold")
    folded.add_column("value", overflow="fold")
    for i, row in enumerate(cells):
        if i:
            folded.add_section()
        for c, text in zip(cols, row, strict=True):
            folded.add_row(c, text)
    console.print(folded)


def emit_frame(
    frame: pd.DataFrame,
    fmt: str,
    title: str | None = None,
    *,
    sig: int = 6,
    price_columns: dict[str, int] | None = None,
) -> None:
    """Print a time-indexed frame as a table, JSON records or CSV (index as ``time``); ``sig``
    and ``price_columns`` round the table only (see :func:`print_table`)."""
    if fmt == "csv":
        frame.to_csv(sys.stdout, index=True, date_format="%Y-%m-%dT%H:%M:%SZ")
        return
    records = [{str(k): v for k, v in r.items()} for r in frame.reset_index().to_dict("records")]
    if fmt == "json":
        emit_json(records)
        return
    print_table(records, title=title, sig=sig, price_columns=price_columns)


def output_format(json_out: bool, csv_out: bool = False) -> str:
    """The format chosen by the common ``--json`` / ``--csv`` flags (table by default)."""
    from noxfx.errors import InvalidInput

    if json_out and csv_out:
        raise InvalidInput("Choose one of --json and --csv.")
    return "json" if json_out else "csv" if csv_out else "table"


__all__ = [
    "emit_frame",
    "emit_json",
    "output_format",
    "print_table",
    "stderr_console",
    "stdout_console",
]
