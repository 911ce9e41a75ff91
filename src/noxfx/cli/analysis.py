"""``noxfx analyze``: the multi-timeframe analysis report of one pair; ``noxfx patterns``: how
each chart pattern type did when traded on that pair's history."""

from __future__ import annotations

from typing import Any

import typer

from noxfx.cli._output import emit_json, print_table


def register(app: typer.Typer) -> None:
    app.command("analyze")(analyze)
    app.command("patterns")(patterns)


def patterns(
    symbol: str = typer.Argument(..., help="Pair, e.g. EURUSD."),
    timeframe: str = typer.Option("1h", "--timeframe", "-t", help="Timeframe."),
    horizon: int = typer.Option(100, "--horizon", min=1, help="Bars before a trade is closed."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Every chart pattern type's past breakouts on this pair, traded the textbook way (next
    open, measured-move target, stop at the invalidation line, typical spread charged): trades,
    target-first rate, break-even rate and mean R after the spread with its 95 % interval."""
    from noxfx.analysis.pattern_stats import type_history
    from noxfx.backtest.runs import require_bars
    from noxfx.data.store import BarStore
    from noxfx.instruments import get_instrument

    inst = get_instrument(symbol)
    bars = require_bars(BarStore.default().read(inst.symbol, timeframe), inst.symbol, timeframe)
    stats = type_history(bars, inst.from_pips(inst.typical_spread_pips), horizon=horizon)
    rows = [{"pattern": name, **values} for name, values in
            sorted(stats.items(), key=lambda kv: -kv[1]["trades"])]  # fmt: skip
    if json_out:
        emit_json({"symbol": inst.symbol, "timeframe": timeframe, "horizon_bars": horizon,
                   "spread_pips": inst.typical_spread_pips, "patterns": rows})  # fmt: skip
        return
    print_table(rows, title=f"{inst.symbol} {timeframe}: chart patterns traded on history "
                f"(spread {inst.typical_spread_pips:g} pips, {horizon}-bar limit)")  # fmt: skip


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
    from noxfx.data.store import BarStore
    from noxfx.workflows import analysis_for

    higher = None if timeframes is None else [t.strip() for t in timeframes.split(",") if t]
    report = analysis_for(BarStore.default(), symbol, timeframe, higher)
    if json_out:
        emit_json(report.as_dict())
        return
    _print_report(report.as_dict())


def _print_report(r: dict[str, Any]) -> None:
    rating, conf = r["rating"]["ratings"], r["confluence"]
    head = [
        {"field": "as of (UTC, bar close)", "value": r["as_of"]},
        {"field": "last price", "value": r["last_price"]},
        {"field": "rating", "value": f"{r['rating']['summary']['RECOMMENDATION']} "
                                     f"({rating['all']:+.2f}; "
                                     f"MA {rating['ma']:+.2f}, osc {rating['oscillators']:+.2f})"},
        {"field": "trend", "value": _trend_text(r["trend"])},
        {"field": "confluence", "value": f"{conf['recommendation']} score={_num(conf['score'])}, "
                                         f"agreement={_num(conf['agreement'])}"},
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


def _num(x: Any) -> str:
    return "-" if x is None else f"{x:.3f}"


def _trend_text(t: dict[str, Any]) -> str:
    strength, adx = t.get("strength"), t.get("adx")
    parts = [str(t.get("direction"))]
    if strength is not None:
        parts.append(f"strength {strength:.2f}")
    if adx is not None:
        parts.append(f"ADX {adx:.1f}")
    return ", ".join(parts)
