"""``noxfx backtest``, ``noxfx optimize`` and ``noxfx strategies list|show``.

Thin: parse, call :mod:`noxfx.backtest`, render. Costs are always included (spread: ``--spread``,
else the data's spread column, else the instrument's typical spread) and stated in the output.
Progress goes to stderr, results to stdout (``--json`` pipes cleanly). Heavy libraries are
imported inside the commands.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from noxfx.cli._args import SYMBOL_ARG, SYMBOL_OPT, one_symbol
from noxfx.cli._output import emit_json, print_table, stderr_console, stdout_console

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    import pandas as pd

    from noxfx.backtest.config import BacktestConfig
    from noxfx.backtest.strategy import Strategy

strategies_app = typer.Typer(help="Strategy templates: list and show.", no_args_is_help=True)

_STRATEGY = typer.Option(..., "--strategy", "-S", help="Template name or .yaml/.json file.")
_TIMEFRAME = typer.Option("1h", "--timeframe", "-t", help="Timeframe, e.g. 1h.")
_START = typer.Option(None, "--start", help="First bar (UTC date/time), default: all stored.")
_END = typer.Option(None, "--end", help="Last bar (UTC date/time).")
_BALANCE = typer.Option(10_000.0, "--balance", help="Initial balance, account currency.")
_RISK = typer.Option(None, "--risk", help="Risk per trade, % of balance (needs a stop).")
_LOTS = typer.Option(0.1, "--lots", help="Fixed size in lots when --risk is not given.")
_SPREAD = typer.Option(None, "--spread", help="Spread in pips (default: data/catalogue).")
_COMMISSION = typer.Option(0.0, "--commission", help="Commission per lot per side.")
_SLIPPAGE = typer.Option(0.0, "--slippage", help="Slippage in pips per market/stop fill.")
_ACCOUNT = typer.Option("USD", "--account-currency", help="Account currency.")
_SWAP_LONG = typer.Option(
    0.0, "--swap-long", help="Swap per lot per night for longs, account currency (+/-)."
)
_SWAP_SHORT = typer.Option(0.0, "--swap-short", help="The same for shorts.")
_JSON = typer.Option(False, "--json", help="Print JSON.")
_REPORT = typer.Option(None, "--report", help="Write a self-contained HTML report here.")


def register(app: typer.Typer) -> None:
    """Add ``backtest``, ``optimize`` and the ``strategies`` group to ``app``."""
    app.command("backtest")(backtest)
    app.command("optimize")(optimize)
    app.add_typer(strategies_app, name="strategies")


# --------------------------------------------------------------------------- shared helpers
def _params(specs: list[str] | None) -> dict[str, float]:
    from noxfx.errors import InvalidInput

    out: dict[str, float] = {}
    for spec in specs or []:
        name, sep, value = spec.partition("=")
        try:
            if not sep:
                raise ValueError
            out[name.strip()] = float(value)
        except ValueError:
            raise InvalidInput(f"--param {spec!r}: write name=value, e.g. fast=10.") from None
    return out


def _bars(
    symbol: str, timeframe: str, start: str | None, end: str | None, account: str
) -> pd.DataFrame:
    """Stored bars with, for a cross on this account, the quote -> account rate per bar."""
    from noxfx.backtest.runs import require_bars
    from noxfx.data.store import BarStore
    from noxfx.workflows import with_conversion

    store = BarStore.default()
    bars = require_bars(store.read(symbol, timeframe, start, end), symbol, timeframe)
    return with_conversion(store, bars, symbol, account, timeframe)


def _config(
    symbol: str, balance: float, risk: float | None, lots: float, spread: float | None,
    commission: float, slippage: float, account: str, swap_long: float, swap_short: float,
) -> BacktestConfig:  # fmt: skip
    from noxfx.backtest.runs import make_config

    return make_config(symbol, balance=balance, risk_percent=risk, lots=lots, spread_pips=spread,
                       commission_per_lot=commission, slippage_pips=slippage,
                       account_currency=account, swap_long=swap_long,
                       swap_short=swap_short)  # fmt: skip


def _costs_line(config: BacktestConfig, bars: pd.DataFrame) -> str:
    """Every cost the run charged, zero or not, and the currency conversion it used."""
    from noxfx.backtest.report import cost_summary

    c = cost_summary(config, bars)
    return "Costs included: " + "; ".join(f"{k} {v}" for k, v in c.items()) + "."


def _dsr_words(dsr: float) -> str:
    if not math.isfinite(dsr):
        return "undefined"
    if dsr >= 0.95:
        return "significant at 95 % after deflation"
    return "not significant: the winner may be luck of the search"


def _pbo_words(pbo: float) -> str:
    if pbo < 0.2:
        return "low overfitting"
    if pbo < 0.5:
        return "moderate overfitting"
    return "high overfitting: the in-sample winner usually underperforms out of sample"


_METRICS_SHOWN = ("net_profit", "net_profit_frac", "cagr", "sharpe", "sortino", "max_drawdown",
                  "trades", "win_rate", "profit_factor", "expectancy", "expectancy_r", "sqn",
                  "exposure", "total_costs", "swap")  # fmt: skip


def _metric_rows(metrics: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"metric": k, "value": metrics.get(k)} for k in _METRICS_SHOWN]


class _Bar:
    """A rich progress bar on stderr (silent when stderr is not a terminal)."""

    def __init__(self, label: str) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

        console = stderr_console()
        self.progress = Progress(
            f"[bold]{label}", BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
            console=console, transient=True, disable=not console.is_terminal,
        )  # fmt: skip
        self.task = self.progress.add_task(label, total=None)

    def __enter__(self) -> Callable[[int, int], None]:
        self.progress.start()

        def update(done: int, total: int) -> None:
            self.progress.update(self.task, completed=done, total=total)

        return update

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()


# --------------------------------------------------------------------------- backtest
def backtest(
    symbol_arg: str | None = SYMBOL_ARG,
    strategy: str = _STRATEGY,
    symbol_opt: str | None = SYMBOL_OPT,
    timeframe: str = _TIMEFRAME,
    param: list[str] | None = typer.Option(None, "--param", "-p", help="name=value (repeat)."),
    start: str | None = _START,
    end: str | None = _END,
    balance: float = _BALANCE,
    risk: float | None = _RISK,
    lots: float = _LOTS,
    spread: float | None = _SPREAD,
    commission: float = _COMMISSION,
    slippage: float = _SLIPPAGE,
    account_currency: str = _ACCOUNT,
    swap_long: float = _SWAP_LONG,
    swap_short: float = _SWAP_SHORT,
    trades: bool = typer.Option(False, "--trades", help="Include every trade in --json."),
    intrabar: str | None = typer.Option(
        None,
        "--intrabar",
        help="Finer stored timeframe (e.g. 1m) that decides which of stop "
        "and target a bar hit first (default: the stop, conservatively).",
    ),
    json_out: bool = _JSON,
    report: Path | None = _REPORT,
) -> None:
    """Backtest a strategy on stored bars, costs included."""
    from noxfx.backtest.report import write_report
    from noxfx.backtest.runs import backtest_document
    from noxfx.backtest.strategy_spec import load_strategy

    symbol = one_symbol(symbol_arg, symbol_opt, "noxfx backtest EURUSD -S sma_cross")
    strat = load_strategy(strategy)
    bars = _bars(symbol, timeframe, start, end, account_currency)
    config = _config(symbol, balance, risk, lots, spread, commission, slippage, account_currency,
                     swap_long, swap_short)  # fmt: skip
    fine = None
    if intrabar is not None:
        from noxfx.data.store import BarStore

        fine = BarStore.default().read(symbol, intrabar, bars.index[0], bars.index[-1])
    doc, result = backtest_document(strat, bars, _params(param), config, timeframe,
                                            fine_bars=fine, include_trades=trades)  # fmt: skip
    config, metrics, values = result.config, doc["metrics"], doc["params"]
    title = f"{strat.name} {config.symbol} {timeframe}"
    if report is not None:
        write_report(report, result, bars, title=title, params=values)
    if json_out:
        emit_json({**doc, "report": str(report) if report else None})
        return
    print_table(_metric_rows(metrics), title=f"{title}  {metrics['start']} -> {metrics['end']}")
    console = stdout_console()
    console.print("Parameters: " + ", ".join(f"{k}={v}" for k, v in values.items()))
    console.print(_costs_line(config, bars))
    if report is not None:
        console.print(f"Report: {report}")


# --------------------------------------------------------------------------- optimize
def optimize(
    symbol_arg: str | None = SYMBOL_ARG,
    strategy: str = _STRATEGY,
    symbol_opt: str | None = SYMBOL_OPT,
    timeframe: str = _TIMEFRAME,
    param: list[str] | None = typer.Option(
        None, "--param", "-p", help="name=lo:hi:step, name=a,b,c or name=v (repeat)."
    ),
    method: str = typer.Option("grid", "--method", help="grid, random or optuna."),
    trials: int | None = typer.Option(None, "--trials", help="Trials for random/optuna (100)."),
    objective: str = typer.Option("sharpe", "--objective", help="What to maximise."),
    min_trades: int = typer.Option(10, "--min-trades", help="Fewer trades: never chosen."),
    walk_forward: int | None = typer.Option(
        None, "--walk-forward", help="Walk-forward with this many out-of-sample windows."
    ),
    anchored: bool = typer.Option(False, "--anchored", help="Anchored (growing) IS windows."),
    is_ratio: float = typer.Option(3.0, "--is-ratio", help="In-sample length / OOS length."),
    seed: int = typer.Option(0, "--seed", help="Random seed (random, optuna, CSCV sampling)."),
    start: str | None = _START,
    end: str | None = _END,
    balance: float = _BALANCE,
    risk: float | None = _RISK,
    lots: float = _LOTS,
    spread: float | None = _SPREAD,
    commission: float = _COMMISSION,
    slippage: float = _SLIPPAGE,
    account_currency: str = _ACCOUNT,
    swap_long: float = _SWAP_LONG,
    swap_short: float = _SWAP_SHORT,
    json_out: bool = _JSON,
    report: Path | None = _REPORT,
) -> None:
    """Optimise a strategy's parameters, with the number of trials, the Deflated Sharpe Ratio
    of the winner and the probability of backtest overfitting (CSCV); or walk forward."""
    from noxfx.backtest import optimize as opt_mod
    from noxfx.backtest.strategy_spec import load_strategy
    from noxfx.errors import InvalidInput

    if method not in ("grid", "random", "optuna"):
        raise InvalidInput(f"--method {method!r}: choose grid, random or optuna.")
    if objective not in opt_mod.OBJECTIVES:
        raise InvalidInput(f"--objective {objective!r}: choose {', '.join(opt_mod.OBJECTIVES)}.")
    symbol = one_symbol(symbol_arg, symbol_opt, "noxfx optimize EURUSD -S sma_cross")
    strat = load_strategy(strategy)
    space = opt_mod.parse_ranges(param or [], strat)
    bars = _bars(symbol, timeframe, start, end, account_currency)
    config = _config(symbol, balance, risk, lots, spread, commission, slippage, account_currency,
                     swap_long, swap_short)  # fmt: skip
    common: dict[str, Any] = {"method": method, "trials": trials, "objective": objective,
                              "min_trades": min_trades, "seed": seed}  # fmt: skip
    if walk_forward is not None:
        _walk_forward(strat, bars, space, config, timeframe, walk_forward, anchored, is_ratio,
                      common, json_out, report)  # fmt: skip
        return
    with _Bar(f"optimize {strat.name}") as progress:
        result = opt_mod.optimize(strat, bars, space, config, progress=progress, **common)
    title = f"{strat.name} {result.config.symbol} {timeframe}"
    if report is not None:
        from noxfx.backtest.report import write_report

        write_report(report, result.best, bars, title=f"{title} (optimised)",
                     params=result.best_params, optimization=result)  # fmt: skip
    if json_out:
        from noxfx.backtest.runs import optimization_document

        doc = optimization_document(result, bars, timeframe)
        emit_json({**doc, "report": str(report) if report else None})
        return
    _print_optimization(result, title, bars, report)


def _print_optimization(result: Any, title: str, bars: pd.DataFrame, report: Path | None) -> None:
    d = result.deflated_sharpe
    pbo = result.pbo
    summary = [
        {"field": "method / objective", "value": f"{result.method} / {result.objective}"},
        {"field": "trials run", "value": result.n_trials},
        {"field": "skipped (constraints)", "value": result.skipped},
        {"field": "best parameters",
         "value": ", ".join(f"{k}={v}" for k, v in result.best_params.items())},
        {"field": f"best {result.objective}", "value": result.best_value},
        {"field": "deflated Sharpe ratio", "value": f"{d.dsr:.3f} ({_dsr_words(d.dsr)})"},
        {"field": "PBO (CSCV)",
         "value": f"{pbo.pbo:.3f} ({_pbo_words(pbo.pbo)}; {pbo.n_splits} splits)"
         if pbo is not None else "not computed"},
    ]  # fmt: skip
    print_table(summary, title=f"Optimisation of {title}")
    top = result.top(10)
    cols = [*result.best_params, "trades", "sharpe", "net_profit", "max_drawdown", "objective"]
    print_table(top[cols].to_dict("records"), title="Top trials", columns=cols)
    print_table(_metric_rows(result.best.metrics.as_dict()), title="Best run")
    console = stdout_console()
    console.print(_costs_line(result.config, bars))
    for note in result.notes:
        console.print(f"Note: {note}")
    if report is not None:
        console.print(f"Report: {report}")


def _walk_forward(
    strat: Strategy, bars: pd.DataFrame, space: Any, config: BacktestConfig, timeframe: str,
    windows: int, anchored: bool, is_ratio: float, common: dict[str, Any], json_out: bool,
    report: Path | None,
) -> None:  # fmt: skip
    from noxfx.backtest.walkforward import walk_forward

    with _Bar(f"walk-forward {strat.name}") as progress:
        wf = walk_forward(strat, bars, space, config, windows=windows, anchored=anchored,
                          in_sample_ratio=is_ratio, progress=progress, **common)  # fmt: skip
    title = f"{strat.name} {config.symbol} {timeframe}"
    if report is not None:
        _walk_forward_report(wf, bars, config, title, report)
    if json_out:
        from noxfx.backtest.report import cost_summary

        emit_json({**wf.as_dict(), "symbol": config.symbol, "timeframe": timeframe,
                   "costs": cost_summary(config, bars),
                   "report": str(report) if report else None})  # fmt: skip
        return
    cols = ["window", "oos_start", "oos_end", "params", "is_cagr", "oos_cagr", "oos_trades",
            "efficiency", "is_pbo"]  # fmt: skip
    rows: list[dict[str, Any]] = [
        {**{str(k): v for k, v in r.items()},
         "params": ", ".join(f"{k}={v}" for k, v in r["params"].items()),
         "oos_start": r["oos_start"].strftime("%Y-%m-%d"),
         "oos_end": r["oos_end"].strftime("%Y-%m-%d")}
        for r in wf.windows[cols].to_dict("records")
    ]  # fmt: skip
    kind = "anchored" if anchored else "rolling"
    print_table(rows, title=f"Walk-forward ({kind}) of {title}", columns=cols)
    print_table(_metric_rows(wf.metrics.as_dict()), title="Stitched out-of-sample run")
    console = stdout_console()
    console.print(f"Walk-forward efficiency (OOS / IS annualised return): {wf.efficiency:.3f}")
    console.print(_costs_line(config, bars))
    if report is not None:
        console.print(f"Report: {report}")


def _walk_forward_report(
    wf: Any, bars: pd.DataFrame, config: BacktestConfig, title: str, report: Path
) -> None:
    import numpy as np

    from noxfx.backtest.engine import BacktestResult
    from noxfx.backtest.report import write_report

    eq = wf.equity
    stitched = BacktestResult(
        config=config, trades=wf.trades, equity=eq,
        drawdown=(eq / np.maximum.accumulate(eq) - 1.0).rename("drawdown"),
        position=wf.position, records=np.zeros(0),
    )  # fmt: skip
    write_report(report, stitched, bars, title=f"{title} walk-forward (OOS)", walk_forward=wf)


# --------------------------------------------------------------------------- strategies
@strategies_app.command("list")
def strategies_list(json_out: bool = _JSON) -> None:
    """The shipped strategy templates."""
    from noxfx.backtest.strategy_spec import list_strategies, load_strategy

    rows = []
    for name in list_strategies():
        s = load_strategy(name)
        first = s.description.split(": ")[0].split(". ")[0]
        rows.append({"name": name, "parameters": ", ".join(s.parameters), "description": first,
                     "direction": s.direction})  # fmt: skip
    if json_out:
        emit_json(rows)
        return
    print_table(rows, title=f"{len(rows)} strategy templates")


@strategies_app.command("show")
def strategies_show(
    name: str = typer.Argument(..., help="Template name or file."),
    json_out: bool = _JSON,
) -> None:
    """A strategy's parameters, rules, exits and filters."""
    from noxfx.backtest.formula_strategy import FormulaStrategy
    from noxfx.backtest.strategy_spec import load_strategy

    s = load_strategy(name)
    info = s.describe()
    if isinstance(s, FormulaStrategy):
        info["rules"] = dict(s.rules)
        info["define"] = s.define or None
    if json_out:
        emit_json(info)
        return
    console = stdout_console()
    console.print(f"[bold]{info['name']}[/bold] ({info['type']}, direction {info['direction']})")
    console.print(info["description"])
    params = [{"parameter": k, **v} for k, v in info["parameters"].items()]
    print_table(params, title="Parameters")
    rows = list(_rule_rows(info))
    if rows:
        print_table(rows, title="Rules", columns=["rule", "condition"])
    exits = [{"exit": k, "value": v} for k, v in info["exits"].items() if v not in (None, [])]
    print_table(exits, title="Exits")
    if info["constraints"]:
        console.print("Constraints: " + "; ".join(info["constraints"]))
    filters = info["filters"]
    if filters["sessions"] or filters["days"]:
        console.print(f"Filters: sessions {filters['sessions'] or 'any'}, "
                      f"days {filters['days'] or 'any'}")  # fmt: skip


def _rule_rows(info: dict[str, Any]) -> Iterator[dict[str, str]]:
    if info.get("define"):
        yield {"rule": "define", "condition": info["define"]}
    for rule, text in (info.get("rules") or {}).items():
        yield {"rule": rule, "condition": text}


__all__ = ["register", "strategies_app"]
