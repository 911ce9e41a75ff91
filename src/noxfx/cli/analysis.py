"""``noxfx analyze``: the multi-timeframe analysis report of one pair."""

from __future__ import annotations

from typing import Any

import typer

from noxfx.cli._output import emit_json, print_table

#: Higher timeframes shown by default for each analysed timeframe.
DEFAULT_HIGHER = {
    "1m": "5m,15m,1h", "5m": "15m,1h,4h", "15m": "1h,4h,1d", "30m": "1h,4h,1d",
    "1h": "4h,1d", "4h": "1d,1w", "1d": "1w", "1w": "",
}  # fmt: skip


def register(app: typer.Typer) -> None:
    app.command("analyze")(analyze)


def analyze(
    symbol: str = typer.Argument(..., help="Pair, e.g. EURUSD."),
    timeframe: str = typer.Option("1h", "--timeframe", "-t", help="Timeframe to analyse."),
    timeframes: str | None = typer.Option(
        None, "--timeframes", help="Comma-separated higher timeframes (default: the next two up)."
    ),
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Indicators, TradingView-style rating, candles, chart patterns, levels, trend and the
    higher timeframes' view (only bars closed at the report's time), with a confluence score."""
    from noxfx.analysis.report import analyze as run_analysis
    from noxfx.data.store import BarStore
    from noxfx.errors import InsufficientData
    from noxfx.instruments import get_instrument
    from noxfx.timeframes import parse_timeframe

    store = BarStore.default()
    sym = get_instrument(symbol).symbol
    tf = parse_timeframe(timeframe)
    names = DEFAULT_HIGHER[tf.name] if timeframes is None else timeframes
    higher_tfs = [parse_timeframe(t) for t in names.split(",") if t.strip()]
    bars = store.read(sym, tf)
    as_of = bars.index[-1] if len(bars) else None
    higher = {}
    for htf in higher_tfs:
        try:
            higher[htf.name] = store.read(sym, htf, end=as_of)
        except InsufficientData:
            continue  # shown as missing in the report
    report = run_analysis(sym, tf, bars, higher)
    if json_out:
        emit_json(report.as_dict())
        return
    _print_report(report.as_dict())


def _print_report(r: dict[str, Any]) -> None:
    rating, conf = r["rating"], r["confluence"]
    head = [
        {"field": "as of (UTC, bar close)", "value": r["as_of"]},
        {"field": "last price", "value": r["last_price"]},
        {"field": "rating", "value": f"{rating['recommendation']} ({rating['all']:+.2f}; "
                                     f"MA {rating['ma']:+.2f}, osc {rating['oscillators']:+.2f})"},
        {"field": "trend", "value": _trend_text(r["trend"])},
        {"field": "confluence", "value": f"{conf['recommendation']} score={conf['score']}, "
                                         f"agreement={conf['agreement']}"},
    ]  # fmt: skip
    print_table(head, title=f"{r['symbol']} {r['timeframe']} analysis")
    ind = [{"indicator": k, "value": v} for k, v in r["indicators"].items()]
    print_table(ind, title="Key indicators (last closed bar)")
    if r["higher_timeframes"]:
        rows = [
            {k: v for k, v in h.items() if k != "trend"} | {"trend": _trend_text(h["trend"])}
            for h in r["higher_timeframes"]
        ]
        print_table(rows, title="Higher timeframes (closed bars only)")
    if r["levels"]:
        cols = ["price", "kind", "touches", "strength", "distance_pips", "last_touch"]
        print_table(r["levels"], title="Support / resistance", columns=cols)
    if r["chart_patterns"]:
        cols = ["type", "direction", "status", "breakout_level", "target", "quality",
                "first_visible_time"]  # fmt: skip
        print_table(r["chart_patterns"], title="Chart patterns", columns=cols)
    if r["candles"]:
        print_table(r["candles"], title="Recent candlestick patterns")


def _trend_text(t: dict[str, Any]) -> str:
    strength, adx = t.get("strength"), t.get("adx")
    parts = [str(t.get("direction"))]
    if strength is not None:
        parts.append(f"strength {strength:.2f}")
    if adx is not None:
        parts.append(f"ADX {adx:.1f}")
    return ", ".join(parts)
