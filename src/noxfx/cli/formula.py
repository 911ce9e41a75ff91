"""``noxfx formula ...``: evaluate user-defined indicators and conditions on stored bars.

The language is described in :mod:`noxfx.analysis.formula`. pandas, TA-Lib and numba are
imported inside the command so ``noxfx --help`` stays fast.
"""

from __future__ import annotations

import typer

from noxfx.cli._output import emit_frame, output_format

app = typer.Typer(help="User-defined indicators and conditions.", no_args_is_help=True)

FORMULA_HELP = (
    "Formula, e.g. 'ema(close, 12) - ema(close, 26)' or "
    "'cross_over(rsi(close, 14), 30) and close > sma(close, 200)'; statements separated by ';'."
)


@app.command("eval")
def eval_(
    symbol: str = typer.Argument(..., help="Symbol, e.g. EURUSD."),
    timeframe: str = typer.Option("1h", "--timeframe", "-t", help="Timeframe."),
    formula: str = typer.Option(..., "--formula", "-f", help=FORMULA_HELP),
    last: int | None = typer.Option(
        None, "--last", "-n", min=1, help="Only the last N bars (table default: 20)."
    ),
    json_out: bool = typer.Option(False, "--json", help="Print JSON records."),
    csv_out: bool = typer.Option(False, "--csv", help="Print CSV."),
) -> None:
    """Evaluate a formula on the stored bars of SYMBOL (rows: UTC bar open time, with the close).

    The formula is computed over the whole stored history, so recursive indicators are settled
    by the rows shown; warm-up rows are empty (null in JSON); conditions are true/false.
    """
    import pandas as pd

    from noxfx.analysis.formula import parse_formula
    from noxfx.analysis.formula_eval import evaluate_formula
    from noxfx.data.store import BarStore
    from noxfx.instruments import get_instrument

    fmt = output_format(json_out, csv_out)
    parsed = parse_formula(formula)  # a bad formula fails before any I/O
    sym = get_instrument(symbol).symbol
    bars = BarStore.default().read(sym, timeframe)
    result = evaluate_formula(parsed, bars)
    frame = result.to_frame() if isinstance(result, pd.Series) else result
    if "close" not in frame.columns:
        frame.insert(0, "close", bars["close"])
    n = last if last is not None else (20 if fmt == "table" else None)
    if n is not None:
        frame = frame.tail(n)
    title = f"{sym} {timeframe}: {' '.join(formula.split())} ({len(frame)} bars, UTC open)"
    emit_frame(frame, fmt, title=title)


__all__ = ["app"]
