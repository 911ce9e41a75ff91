"""Market-data provider commands: ``noxfx providers``, ``noxfx quote``, ``noxfx data fetch``,
``noxfx data crosscheck`` and ``noxfx compare-tradingview``.

Thin: parse, call :mod:`noxfx.data.providers`, render. Provider settings come from ``NOX_*``
variables (see :mod:`noxfx.data.providers.settings`); progress goes to stderr, results to stdout.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer

from noxfx.cli._output import emit_json, print_table, stderr_console

if TYPE_CHECKING:
    from noxfx.data.providers.fetch import FetchProgress
    from noxfx.data.providers.registry import Registry

SOURCE_HELP = ("Provider: replay, tradingview, oanda, yahoo, alphavantage, dukascopy, or chain "
               "(the fallback chain NOX_PROVIDER_CHAIN).")  # fmt: skip


def register(app: typer.Typer, data_app: typer.Typer) -> None:
    """Attach ``providers``, ``quote`` and ``compare-tradingview`` to the root app and
    ``fetch``, ``crosscheck`` to the ``data`` app."""
    app.command("providers")(providers)
    app.command("quote")(quote)
    app.command("compare-tradingview")(compare_tradingview)
    data_app.command("fetch")(fetch)
    data_app.command("crosscheck")(crosscheck)


def _registry() -> Registry:
    from noxfx.data.providers.registry import Registry
    from noxfx.data.store import BarStore

    return Registry(store=BarStore.default())


def fetch(
    symbol: str = typer.Argument(..., help="Pair, e.g. EURUSD."),
    timeframe: str = typer.Option("1h", "--timeframe", "-t", help="Timeframe (1m ... 1w)."),
    source: str = typer.Option("chain", "--source", "-s", help=SOURCE_HELP),
    start: str | None = typer.Option(
        None, "--start", help="First bar open time, UTC (default: resume after the last stored)."
    ),
    end: str | None = typer.Option(None, "--end", help="Last bar open time, UTC (default: now)."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Fetch bars from a provider into the store: chunked, every chunk validated before it is
    written, and resumable (run it again after an interruption)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from noxfx.data.providers.fetch import fetch as fetch_bars
    from noxfx.errors import InvalidBars

    registry = _registry()
    provider = registry.create(source)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn())  # fmt: skip
    bar = Progress(*columns, console=stderr_console())
    task = bar.add_task(f"{symbol} {timeframe} from {source}", total=None, start=False)

    def on_chunk(p: FetchProgress) -> None:  # the bar appears with the first chunk fetched
        if not bar.live.is_started:
            bar.start()
            bar.start_task(task)
        text = f"{symbol} {timeframe} to {p.chunk_end:%Y-%m-%d %H:%M}Z"
        bar.update(task, total=p.total, completed=p.done, description=text)

    try:
        result = fetch_bars(registry.store, provider, symbol, timeframe, start, end,
                            progress=on_chunk, clock=registry.clock)  # fmt: skip
    except InvalidBars as exc:
        bar.stop()
        report = exc.report
        if report is not None and hasattr(report, "lines"):
            for line in report.lines(limit=10):
                stderr_console().print(line, markup=False, highlight=False)
        raise
    finally:
        bar.stop()
    if json_out:
        emit_json(result.as_dict())
        return
    d = result.as_dict()
    keys = ("symbol", "timeframe", "provider", "chunks", "bars", "added", "replaced", "total",
            "warnings")  # fmt: skip
    span = f"{result.start:%Y-%m-%d %H:%M} .. {result.end:%Y-%m-%d %H:%M} UTC"
    print_table([{k: d[k] for k in keys}], title=f"Fetched {span}")
    for note in result.notes:
        typer.echo(note)


def crosscheck(
    symbol: str = typer.Argument(..., help="Pair, e.g. EURUSD."),
    timeframe: str = typer.Option("1h", "--timeframe", "-t", help="Timeframe."),
    sources: str = typer.Option(
        ..., "--sources", help="Comma-separated: store (the stored bars) and/or provider names."
    ),
    start: str | None = typer.Option(None, "--start", help="From (UTC); default: last 500 bars."),
    end: str | None = typer.Option(None, "--end", help="To (UTC)."),
    threshold: float = typer.Option(3.0, "--threshold", help="Disagreement threshold, pips."),
    limit: int = typer.Option(50, "--limit", min=1, help="Disagreeing bars to list."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Compare sources bar by bar; list bars where prices differ by more than the threshold."""
    from noxfx.data.providers.fetch import crosscheck as run_crosscheck

    registry = _registry()
    names = [s.strip().lower() for s in sources.split(",") if s.strip()]
    picked: list[Any] = [n if n in ("store", "stored") else registry.create(n) for n in names]
    report = run_crosscheck(registry.store, symbol, timeframe, picked, start=start, end=end,
                            threshold_pips=threshold)  # fmt: skip
    if json_out:
        emit_json(report.as_dict(limit=limit))
        return
    print_table([p.as_dict() for p in report.pairs],
                title=f"{report.symbol} {report.timeframe}: sources compared")  # fmt: skip
    if report.ok:
        typer.echo(f"No bar differs by more than {threshold:g} pips.")
    else:
        title = f"{len(report.disagreements)} bars differ by > {threshold:g} pips"
        print_table([d.as_dict() for d in report.disagreements[:limit]], title=title)


def quote(
    symbols: list[str] = typer.Argument(..., help="One or more pairs, e.g. EURUSD USDJPY."),
    source: str | None = typer.Option(
        None, "--source", "-s", help="Provider (default: NOX_QUOTE_PROVIDER, i.e. replay)."
    ),
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Latest bid/ask. The embedded default (replay) is the last stored close plus the pair's
    typical spread, marked indicative."""
    registry = _registry()
    provider = registry.create(source or registry.settings.quote_provider)
    quotes = [q.as_dict() for q in provider.quote(symbols)]
    if json_out:
        emit_json(quotes)
    else:
        print_table(quotes, title=f"Quotes from {provider.name} (times UTC)")


def providers(json_out: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Market-data providers: configured?, circuit state (this process), capabilities."""
    rows = _registry().status()
    if json_out:
        emit_json(rows)
        return
    table = [
        {"provider": r["name"], "configured": "yes" if r["configured"] else "no",
         "in chain": "yes" if r["in_chain"] else "", "circuit": r["circuit"]["state"],
         "history": ", ".join(r["capabilities"]["timeframes"]) if r["capabilities"]["history"]
         else "-", "quotes": "yes" if r["capabilities"]["quotes"] else "-",
         "stream": "yes" if r["capabilities"]["stream"] else "-", "note": r["note"]}
        for r in rows
    ]  # fmt: skip
    print_table(table, title="Market-data providers")


def compare_tradingview(
    symbol: str = typer.Argument(..., help="Pair, e.g. EURUSD."),
    timeframe: str = typer.Option("1h", "--timeframe", "-t", help="Timeframe (1m ... 1w)."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Our technical rating (from stored bars) beside TradingView's for the same pair and
    interval. The stored bars must be current for the comparison to mean anything."""
    from noxfx.analysis.ratings import technical_analysis
    from noxfx.data.providers.tradingview import TradingViewProvider, compare_ratings

    registry = _registry()
    provider = registry.create("tradingview")
    assert isinstance(provider, TradingViewProvider)
    bars = registry.store.read(symbol, timeframe)
    ours = technical_analysis(bars, symbol, timeframe)
    theirs = provider.analysis(symbol, timeframe)
    result = compare_ratings(ours, theirs)
    if json_out:
        emit_json(result.as_dict())
        return
    rows = [{"group": r["group"], "ours": r["ours"], "TradingView": r["theirs"],
             "agree": "yes" if r["agree"] else "NO"} for r in result.rows]  # fmt: skip
    when = f"ours: bar {result.ours_time:%Y-%m-%d %H:%M}Z; TradingView: {result.theirs_time:%H:%M}Z"
    print_table(rows, title=f"{result.symbol} {timeframe} ({when})")
    print_table([{"indicator": v["indicator"], "ours": v["ours"], "TradingView": v["theirs"],
                  "agree": "yes" if v["agree"] else "NO"} for v in result.votes],
                title="Votes")  # fmt: skip
    if result.agreement is not None:
        typer.echo(f"{result.agreement:.0%} of the votes agree.")


__all__ = ["compare_tradingview", "crosscheck", "fetch", "providers", "quote", "register"]
