"""``noxfx indicators ...``: the indicator catalogue and computing indicators on stored bars.

pandas, TA-Lib and numba are imported inside the commands so ``noxfx --help`` stays fast.
"""

from __future__ import annotations

from typing import Any

import typer

from noxfx.cli._output import emit_frame, emit_json, output_format, print_table

app = typer.Typer(help="Technical indicators: list and compute.", no_args_is_help=True)

SPEC_HELP = (
    "Indicator spec, repeatable: rsi:14, macd, bbands:20,2, supertrend:10,3, ichimoku, "
    "cdl_engulfing (parameters in the order `noxfx indicators list` shows; omitted ones default)."
)
CATEGORY_HELP = "Only one category: trend, momentum, volatility, volume, overlap, pattern, levels."


def _parameters_cell(row: dict[str, Any]) -> str:
    """``period=14 [2..100000]`` for each parameter, or ``-``."""
    params = row["parameters"]
    if not params:
        return "-"
    return ", ".join(f"{p['name']}={p['default']} [{p['min']}..{p['max']}]" for p in params)


@app.command("list")
def list_(
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
    category: str | None = typer.Option(None, "--category", "-c", help=CATEGORY_HELP),
) -> None:
    """The catalogue: name, parameters (default and range), output columns, category and what
    each indicator measures."""
    from noxfx.analysis.indicators import list_indicators

    rows = list_indicators(category.strip().lower() if category else None)
    if json_out:
        emit_json(rows)
        return
    table = [
        {
            "name": r["name"],
            "category": r["category"],
            "parameters": _parameters_cell(r),
            "outputs": ", ".join(r["outputs"]),
            "description": r["description"],
        }
        for r in rows
    ]
    title = f"{len(rows)} indicators" + (f" ({category.lower()})" if category else "")
    print_table(table, title=title)


@app.command("compute")
def compute_(
    symbol: str = typer.Argument(..., help="Symbol, e.g. EURUSD."),
    timeframe: str = typer.Option("1h", "--timeframe", "-t", help="Timeframe."),
    indicator: list[str] = typer.Option(..., "--indicator", "-i", help=SPEC_HELP),
    last: int | None = typer.Option(
        None, "--last", "-n", min=1, help="Only the last N bars (table default: 20)."
    ),
    json_out: bool = typer.Option(False, "--json", help="Print JSON records."),
    csv_out: bool = typer.Option(False, "--csv", help="Print CSV."),
) -> None:
    """Compute indicators on the stored bars of SYMBOL (rows: UTC bar open time, with the close).

    Indicators are computed over the whole stored history, so recursive ones (EMA, RSI, ADX, ...)
    are settled by the rows shown; warm-up rows are empty (null in JSON).
    """
    from noxfx.analysis.indicators import compute, parse_spec
    from noxfx.data.store import BarStore
    from noxfx.instruments import get_instrument

    fmt = output_format(json_out, csv_out)
    requests = [parse_spec(spec) for spec in indicator]  # bad specs fail before any I/O
    sym = get_instrument(symbol).symbol
    bars = BarStore.default().read(sym, timeframe)
    frame = compute(bars, requests)
    frame.insert(0, "close", bars["close"])
    n = last if last is not None else (20 if fmt == "table" else None)
    if n is not None:
        frame = frame.tail(n)
    labels = ", ".join(r.label for r in requests)
    emit_frame(frame, fmt, title=f"{sym} {timeframe}: {labels} ({len(frame)} bars, UTC open)")


__all__ = ["app"]
