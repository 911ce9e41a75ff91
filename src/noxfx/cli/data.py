"""``noxfx data ...``: import, list, show, validate and bootstrap stored bars."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from noxfx.cli._output import emit_frame, emit_json, output_format, print_table, stderr_console

if TYPE_CHECKING:
    from noxfx.data.store import DatasetInfo

app = typer.Typer(help="Bars: import files, list, show, validate, load the bundled sample.",
                  no_args_is_help=True)  # fmt: skip

FORMAT_HELP = "auto, generic, metatrader, mt5, histdata, dukascopy or yahoo."
TZ_HELP = ("Time zone of the file's stamps (overrides the format's own): IANA name, UTC, +02:00, "
           "EST (UTC-5, no DST) or mt-server (New York + 7h).")  # fmt: skip


@app.command("import")
def import_(
    paths: list[Path] = typer.Argument(
        ..., help="Files to import (.csv, .csv.gz), or folders of them."
    ),
    symbol: str | None = typer.Option(None, "--symbol", "-s", help="Symbol (default: file name)."),
    timeframe: str | None = typer.Option(
        None, "--timeframe", "-t", help="Timeframe (default: file name and bar spacing)."
    ),
    fmt: str = typer.Option("auto", "--format", "-f", help=FORMAT_HELP),
    tz: str | None = typer.Option(None, "--tz", help=TZ_HELP),
    repair: bool = typer.Option(
        False, "--repair", help="Fix or drop defective bars instead of refusing the file."
    ),
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Import bar files into the store. Every file is validated; a defective file is refused
    (nothing is written) unless --repair is given, and the report says exactly what was done."""
    from noxfx.data.importer import import_files
    from noxfx.data.store import BarStore
    from noxfx.errors import InvalidBars

    err = stderr_console()
    try:
        with err.status("importing...") as status:
            results = import_files(
                BarStore.default(), paths, fmt=fmt, tz=tz, symbol=symbol, timeframe=timeframe,
                repair_defects=repair, progress=lambda msg: status.update(msg),
            )  # fmt: skip
    except InvalidBars as exc:
        refused = exc.report if isinstance(exc.report, list) else []
        if json_out:
            emit_json({"ok": False, "written": False, "files": [r.as_dict() for r in refused]})
        else:
            for r in refused:
                if not r.report.ok:
                    for line in r.report.lines(limit=20):
                        typer.echo(line)
        raise
    if json_out:
        emit_json({"ok": True, "written": True, "files": [r.as_dict() for r in results]})
        return
    rows = [
        {"file": r.path.name, "format": r.format, "tz": r.tz, "symbol": r.symbol,
         "timeframe": r.timeframe, "rows": r.rows_read,
         "added": r.written.added if r.written else 0,
         "replaced": r.written.replaced if r.written else 0,
         "errors": len(r.report.errors), "warnings": len(r.report.warnings)}
        for r in results
    ]  # fmt: skip
    print_table(rows, title="Imported")
    for r in results:
        if r.report.problems:
            for line in r.report.lines(limit=20):
                typer.echo(line)


@app.command("list")
def list_(json_out: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Datasets: symbol, timeframe, native or derived (and from what), first and last bar (UTC
    open time), bar count. Derived views are resampled on read from finer stored data."""
    from noxfx.data.store import BarStore

    store = BarStore.default()
    datasets = store.datasets(derived=True)
    if json_out:
        emit_json([d.as_dict() for d in datasets])
    elif not datasets:
        typer.echo(f"The store at {store.root} is empty: run `noxfx data bootstrap`.")
    else:
        print_dataset_table(datasets, f"Bar store {store.root}")


def print_dataset_table(datasets: list[DatasetInfo], title: str) -> None:
    """Stored datasets as a table with readable UTC times."""
    rows = [
        {"symbol": d.symbol, "timeframe": d.timeframe,
         "origin": d.origin if d.origin == "native" else f"from {'+'.join(d.derived_from)}",
         "first (UTC)": d.first, "last (UTC)": d.last, "bars": d.bars,
         "source": d.source if d.origin == "native" else "-"}
        for d in datasets
    ]  # fmt: skip
    print_table(rows, title=title)


@app.command("show")
def show(
    symbol: str = typer.Argument(..., help="Symbol, e.g. EURUSD."),
    timeframe: str = typer.Option("1h", "--timeframe", "-t", help="Timeframe."),
    start: str | None = typer.Option(None, "--start", help="First bar open time (UTC)."),
    end: str | None = typer.Option(None, "--end", help="Last bar open time (UTC)."),
    last: int | None = typer.Option(
        None, "--last", "-n", min=1, help="Only the last N bars (table default: 20)."
    ),
    json_out: bool = typer.Option(False, "--json", help="Print JSON records."),
    csv_out: bool = typer.Option(False, "--csv", help="Print CSV."),
) -> None:
    """Show stored bars (derived from a finer timeframe when this one is not stored)."""
    from noxfx.data.store import BarStore
    from noxfx.instruments import get_instrument

    fmt = output_format(json_out, csv_out)
    symbol = get_instrument(symbol).symbol
    frame = BarStore.default().read(symbol, timeframe, start, end)
    n = last if last is not None else (20 if fmt == "table" else None)
    if n is not None:
        frame = frame.tail(n)
    emit_frame(frame, fmt, title=f"{symbol} {timeframe} ({len(frame)} bars, UTC open time)")


@app.command("validate")
def validate_(
    symbol: str = typer.Argument(..., help="Symbol, e.g. EURUSD."),
    timeframe: str = typer.Option("1h", "--timeframe", "-t", help="Timeframe."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Run the import checks on stored bars; exits 3 when there are errors."""
    from noxfx.data.store import BarStore
    from noxfx.data.validation import validate
    from noxfx.instruments import get_instrument
    from noxfx.timeframes import parse_timeframe

    tf = parse_timeframe(timeframe)
    sym = get_instrument(symbol).symbol
    frame = BarStore.default().read(sym, tf)
    report = validate(frame, tf, source=f"{sym} {tf}")
    if json_out:
        emit_json(report.as_dict(limit=200))
    else:
        for line in report.lines(limit=20):
            typer.echo(line)
    if not report.ok:
        raise typer.Exit(3)


@app.command("bootstrap")
def bootstrap_(json_out: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Load the bundled sample of real bars (EURUSD, GBPUSD, USDJPY) into the store."""
    from noxfx.data.sample import bootstrap
    from noxfx.data.store import BarStore

    loaded = bootstrap(BarStore.default())
    if json_out:
        emit_json(loaded)
    else:
        print_table(loaded, title="Loaded the bundled sample")
