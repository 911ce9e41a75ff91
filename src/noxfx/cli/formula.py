"""``noxfx formula ...``: evaluate user-defined indicators and conditions on stored bars.

The language is described in :mod:`noxfx.analysis.formula`. pandas, TA-Lib and numba are
imported inside the command so ``noxfx --help`` stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer

from noxfx.cli._output import emit_frame, output_format

if TYPE_CHECKING:
    import pandas as pd

app = typer.Typer(help="User-defined indicators and conditions.", no_args_is_help=True)

FORMULA_HELP = (
    "Formula, e.g. 'ema(close, 12) - ema(close, 26)' or "
    "'cross_over(rsi(close, 14), 30) and close > sma(close, 200)'; statements separated by ';'."
)


def condition_summary(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """For each boolean column of ``frame`` (a condition): ``name``, ``n_true``, ``n_bars``,
    ``true_pct`` (percent of the bars), ``last_true_utc`` (open time of the last bar where it
    held; None if never)."""
    out = []
    for name in frame.columns:
        col = frame[name]
        if col.dtype != bool:
            continue
        hits = col.index[col.to_numpy()]
        n = len(col)
        out.append(
            {
                "name": str(name),
                "n_true": len(hits),
                "n_bars": n,
                "true_pct": 100.0 * len(hits) / n if n else float("nan"),
                "last_true_utc": hits[-1] if len(hits) else None,
            }
        )
    return out


def _summary_line(row: dict[str, Any], single: bool) -> str:
    what = "condition" if single else row["name"]
    text = f"{what}: true on {row['n_true']:,} of {row['n_bars']:,} bars ({row['true_pct']:.2f} %)"
    last = row["last_true_utc"]
    return text + (
        f", last at {last:%Y-%m-%d %H:%M} UTC (bar open)" if last is not None else ", never"
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
    by the rows shown; warm-up rows are empty (null in JSON); conditions are true/false. For a
    condition the table is followed by how often it was true over the whole history (count and
    percent of the bars) and the open time (UTC) of the last bar where it was.
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
    conditions = condition_summary(frame)
    if "close" not in frame.columns:
        frame.insert(0, "close", bars["close"])
    n = last if last is not None else (20 if fmt == "table" else None)
    if n is not None:
        frame = frame.tail(n)
    title = f"{sym} {timeframe}: {' '.join(formula.split())} ({len(frame)} bars, UTC open)"
    digits = get_instrument(sym).precision
    prices = {c: digits for c in ("open", "high", "low", "close") if c in frame.columns}
    emit_frame(frame, fmt, title=title, price_columns=prices)
    if fmt == "table":
        for row in conditions:
            typer.echo(_summary_line(row, single=isinstance(result, pd.Series)))


__all__ = ["app", "condition_summary"]
