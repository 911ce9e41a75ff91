"""A self-contained HTML report of a backtest: price with the trades marked, equity, drawdown,
monthly returns, headline metrics, costs and the latest trades (plus optimisation and
walk-forward summaries when given).

One file, no JavaScript, no network: charts are inline SVG, styles inline CSS, so the report
opens anywhere and can be mailed or archived. Long series are reduced to a min/max pair per
horizontal pixel, which keeps every spike visible. All text from strategies and parameters is
HTML-escaped.

    html = render_report(result, bars, title="sma_cross EURUSD 1h")
    write_report("report.html", result, bars)
"""

from __future__ import annotations

import html
import itertools
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from noxfx.backtest.config import BacktestConfig
    from noxfx.backtest.engine import BacktestResult
    from noxfx.backtest.optimize import OptimizationResult
    from noxfx.backtest.walkforward import WalkForwardResult

WIDTH, HEIGHT = 1000, 260
_PAD_L, _PAD_R, _PAD_T, _PAD_B = 70, 10, 10, 24
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MAX_MARKED_TRADES = 3000
_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#1d2330}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px}
.sub{color:#5b6475;margin:0 0 16px}
table{border-collapse:collapse;font-size:13px;margin:4px 0}
td,th{border:1px solid #d9dde5;padding:3px 8px;text-align:right}
th{background:#f2f4f8}td.l,th.l{text-align:left}
.pos{background:#e3f4e6}.neg{background:#fbe4e4}
svg{background:#fbfcfe;border:1px solid #e3e6ec}
.note{color:#5b6475;font-size:12px}
.grid{display:flex;flex-wrap:wrap;gap:24px}
"""


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _fmt(value: object, kind: str = "") -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        if not math.isfinite(value):
            return "-"
        if kind == "pct":
            return f"{value * 100:.2f} %"
        if kind == "money":
            return f"{value:,.2f}"
        return f"{value:.4g}" if abs(value) < 1e5 else f"{value:,.0f}"
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d %H:%M")
    return str(value)


def _reduce(x: np.ndarray, y: np.ndarray, buckets: int) -> tuple[np.ndarray, np.ndarray]:
    """At most 2 points per bucket of the x range (the min and the max, in time order)."""
    n = len(x)
    if n <= 2 * buckets:
        return x, y
    edges = np.linspace(0, n, buckets + 1).astype(np.int64)
    xs, ys = [], []
    for a, b in itertools.pairwise(edges):
        if b <= a:
            continue
        seg = y[a:b]
        if not np.isfinite(seg).any():
            continue
        for k in sorted({int(np.nanargmin(seg)), int(np.nanargmax(seg))}):
            xs.append(x[a + k])
            ys.append(seg[k])
    return np.asarray(xs), np.asarray(ys)


class _Frame:
    """Maps (time ns, value) to SVG pixels for one chart."""

    def __init__(self, x0: float, x1: float, y0: float, y1: float) -> None:
        pad = (y1 - y0) * 0.05 or abs(y0) * 0.01 or 1.0
        self.x0, self.x1 = x0, x1 if x1 > x0 else x0 + 1
        self.y0, self.y1 = y0 - pad, y1 + pad

    def px(self, x: np.ndarray | float) -> Any:
        return _PAD_L + (np.asarray(x, dtype=np.float64) - self.x0) / (self.x1 - self.x0) * (
            WIDTH - _PAD_L - _PAD_R
        )

    def py(self, y: np.ndarray | float) -> Any:
        return _PAD_T + (self.y1 - np.asarray(y, dtype=np.float64)) / (self.y1 - self.y0) * (
            HEIGHT - _PAD_T - _PAD_B
        )


def _axes(frame: _Frame, times: pd.DatetimeIndex, y_fmt: str) -> str:
    parts = []
    for k in range(5):
        value = frame.y0 + (frame.y1 - frame.y0) * k / 4
        y = float(frame.py(value))
        label = f"{value * 100:.1f}%" if y_fmt == "pct" else f"{value:,.5g}"
        parts.append(f'<line x1="{_PAD_L}" x2="{WIDTH - _PAD_R}" y1="{y:.1f}" y2="{y:.1f}" '
                     f'stroke="#e6e9ef"/><text x="{_PAD_L - 4}" y="{y + 4:.1f}" font-size="10" '
                     f'text-anchor="end" fill="#5b6475">{_e(label)}</text>')  # fmt: skip
    if len(times):
        for k in range(6):
            pos = round((len(times) - 1) * k / 5)
            x = float(frame.px(times[pos].value))
            parts.append(f'<text x="{x:.1f}" y="{HEIGHT - 6}" font-size="10" text-anchor="middle" '
                         f'fill="#5b6475">{times[pos].strftime("%Y-%m-%d")}</text>')  # fmt: skip
    return "".join(parts)


def _path(frame: _Frame, x: np.ndarray, y: np.ndarray) -> str:
    ok = np.isfinite(y)
    xs, ys = frame.px(x[ok]), frame.py(y[ok])
    return " ".join(f"{'M' if i == 0 else 'L'}{a:.1f},{b:.1f}" for i, (a, b) in
                    enumerate(zip(xs, ys, strict=True)))  # fmt: skip


def line_chart(
    series: pd.Series,
    *,
    color: str = "#2f6fdf",
    area: bool = False,
    y_format: str = "",
    overlay: str = "",
    frame: _Frame | None = None,
) -> str:
    """An inline SVG line (or area down from 0) chart of a time-indexed series."""
    times = pd.DatetimeIndex(series.index)
    x = times.as_unit("ns").asi8.astype(np.float64)
    y = series.to_numpy(dtype=np.float64)
    if frame is None:
        finite = y[np.isfinite(y)]
        lo, hi = (float(finite.min()), float(finite.max())) if len(finite) else (0.0, 1.0)
        if area:
            lo, hi = min(lo, 0.0), max(hi, 0.0)
        frame = _Frame(float(x[0]) if len(x) else 0.0, float(x[-1]) if len(x) else 1.0, lo, hi)
    rx, ry = _reduce(x, y, WIDTH - _PAD_L - _PAD_R)
    d = _path(frame, rx, ry)
    body = f'<path d="{d}" fill="none" stroke="{color}" stroke-width="1.2"/>'
    if area and len(rx):
        zero = float(frame.py(0.0))
        start, end = float(frame.px(rx[0])), float(frame.px(rx[-1]))
        body = (f'<path d="{d} L{end:.1f},{zero:.1f} L{start:.1f},{zero:.1f} Z" fill="{color}" '
                f'fill-opacity="0.25" stroke="{color}" stroke-width="1"/>')  # fmt: skip
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
            f'viewBox="0 0 {WIDTH} {HEIGHT}">{_axes(frame, times, y_format)}{body}{overlay}'
            "</svg>")  # fmt: skip


def price_chart(bars: pd.DataFrame, trades: pd.DataFrame) -> tuple[str, str]:
    """Close prices with entries (green up / red down triangles for long / short) and exits
    (dark circles); returns (svg, note)."""
    close = bars["close"]
    times = pd.DatetimeIndex(close.index)
    x = times.as_unit("ns").asi8.astype(np.float64)
    y = close.to_numpy(dtype=np.float64)
    shown = trades.drop_duplicates("trade_id", keep="last") if len(trades) else trades
    note = ""
    if len(shown) > _MAX_MARKED_TRADES:
        shown = shown.iloc[-_MAX_MARKED_TRADES:]
        note = f"Only the last {_MAX_MARKED_TRADES:,} of {len(trades):,} trades are marked."
    lo = float(np.nanmin(y)) if len(y) else 0.0
    hi = float(np.nanmax(y)) if len(y) else 1.0
    frame = _Frame(float(x[0]), float(x[-1]), lo, hi)
    marks = []
    if len(shown):
        ex = frame.px(pd.DatetimeIndex(shown["entry_time"]).as_unit("ns").asi8)
        ey = frame.py(shown["entry_price"].to_numpy(dtype=np.float64))
        xx = frame.px(pd.DatetimeIndex(shown["exit_time"]).as_unit("ns").asi8)
        xy = frame.py(shown["exit_price"].to_numpy(dtype=np.float64))
        longs = (shown["direction"] == "long").to_numpy()
        for a, b, up in zip(ex, ey, longs, strict=True):
            if up:
                marks.append(f'<polygon points="{a:.1f},{b - 4:.1f} {a - 3.5:.1f},{b + 3:.1f} '
                             f'{a + 3.5:.1f},{b + 3:.1f}" fill="#1b9e4b"/>')  # fmt: skip
            else:
                marks.append(f'<polygon points="{a:.1f},{b + 4:.1f} {a - 3.5:.1f},{b - 3:.1f} '
                             f'{a + 3.5:.1f},{b - 3:.1f}" fill="#d33c3c"/>')  # fmt: skip
        marks.extend(f'<circle cx="{a:.1f}" cy="{b:.1f}" r="2" fill="#33384a"/>'
                     for a, b in zip(xx, xy, strict=True))  # fmt: skip
    svg = line_chart(close, color="#56607a", overlay="".join(marks), frame=frame)
    return svg, note


def monthly_returns(equity: pd.Series, initial_balance: float) -> pd.DataFrame:
    """Return per calendar month (UTC) as a fraction, years as rows, ``Jan``..``Dec`` and
    ``Year`` (compounded) as columns; NaN where there were no bars."""
    if equity.empty:
        return pd.DataFrame(columns=[*_MONTHS, "Year"])
    times = pd.DatetimeIndex(equity.index)
    keys = times.year * 100 + times.month
    last = equity.groupby(np.asarray(keys)).last()
    prev = np.r_[initial_balance, last.to_numpy()[:-1]]
    rets = last.to_numpy() / prev - 1.0
    table = pd.DataFrame(np.nan, index=sorted({int(k) // 100 for k in last.index}),
                         columns=[*_MONTHS, "Year"])  # fmt: skip
    for key, r in zip(last.index, rets, strict=True):
        table.loc[int(key) // 100, _MONTHS[int(key) % 100 - 1]] = r
    for year in table.index:
        row = table.loc[year, list(_MONTHS)].to_numpy(dtype=np.float64)
        row = row[np.isfinite(row)]
        table.loc[year, "Year"] = float(np.prod(1.0 + row) - 1.0) if len(row) else np.nan
    table.index.name = "year"
    return table


def cost_summary(config: BacktestConfig, bars: pd.DataFrame | None = None) -> dict[str, str]:
    """Plain words for the costs a run used (spread source, commission, slippage, swaps) and,
    when ``bars`` carry a ``conversion`` column, the quote -> account rate it used."""
    ins = config.instrument
    if config.use_spread_column and bars is not None and "spread" in bars.columns:
        points = bars["spread"].to_numpy(dtype=np.float64)
        pips = float(np.median(points)) * 10.0 ** (-ins.precision) / ins.pip_size
        spread = f"per-bar spread column of the data (median {pips:.2f} pips)"
    elif config.spread_pips is None:
        spread = f"{ins.typical_spread_pips:g} pips (typical for {ins.symbol}, catalogue default)"
    else:
        spread = f"{config.spread_pips:g} pips (given)"
    return {
        "spread": spread,
        "commission": f"{config.commission_per_lot:g} {config.account_currency} per lot per side",
        "slippage": f"{config.slippage_pips:g} pips per market/stop fill",
        "swap": f"long {config.swap_long:g}, short {config.swap_short:g} ({config.swap_unit} "
        "per lot per night)",
        **_conversion_words(config, bars),
    }


def _conversion_words(config: BacktestConfig, bars: pd.DataFrame | None) -> dict[str, str]:
    ins, account = config.instrument, config.account_currency.upper()
    if bars is None or "conversion" not in bars.columns or account in (ins.quote, ins.base):
        return {}
    rate = bars["conversion"]
    return {"conversion": f"{ins.quote}->{account} from stored pairs at each bar's open "
                          f"({float(rate.iloc[0]):.5g} to {float(rate.iloc[-1]):.5g})"}  # fmt: skip


def _table(rows: Sequence[Mapping[Any, Any]], columns: Sequence[str] | None = None) -> str:
    if not rows:
        return '<p class="note">None.</p>'
    cols = list(columns or rows[0].keys())
    head = "".join(f'<th class="l">{_e(c)}</th>' if i == 0 else f"<th>{_e(c)}</th>"
                   for i, c in enumerate(cols))  # fmt: skip
    body = []
    for row in rows:
        cells = []
        for i, c in enumerate(cols):
            cls = ' class="l"' if i == 0 else ""
            cells.append(f"<td{cls}>{_e(_fmt(row.get(c)))}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def _monthly_html(table: pd.DataFrame) -> str:
    head = '<th class="l">year</th>' + "".join(f"<th>{c}</th>" for c in table.columns)
    rows = []
    for year, row in table.iterrows():
        cells = [f'<td class="l">{year}</td>']
        for value in row.to_numpy(dtype=np.float64):
            if not math.isfinite(value):
                cells.append("<td></td>")
            else:
                cls = "pos" if value > 0 else "neg" if value < 0 else ""
                cells.append(f'<td class="{cls}">{value * 100:.2f}%</td>')
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f'<table class="monthly"><tr>{head}</tr>{"".join(rows)}</table>'


_METRIC_ROWS = (
    ("net_profit", "money"), ("net_profit_frac", "pct"), ("cagr", "pct"), ("sharpe", ""),
    ("sortino", ""), ("calmar", ""), ("max_drawdown", "pct"), ("trades", ""), ("win_rate", "pct"),
    ("profit_factor", ""), ("expectancy", "money"), ("expectancy_r", ""), ("sqn", ""),
    ("exposure", "pct"), ("total_costs", "money"), ("swap", "money"),
)  # fmt: skip


def render_report(
    result: BacktestResult,
    bars: pd.DataFrame | None = None,
    *,
    title: str = "Backtest report",
    params: Mapping[str, Any] | None = None,
    optimization: OptimizationResult | None = None,
    walk_forward: WalkForwardResult | None = None,
    max_trades: int = 100,
) -> str:
    """The report as one HTML document (UTF-8 text). ``bars``: the bars traded (for the price
    chart; omitted when None)."""
    m = result.metrics
    cfg = result.config
    metrics = m.as_dict()
    parts = [f"<h1>{_e(title)}</h1>",
             f'<p class="sub">{_e(cfg.symbol)} &middot; {_e(_fmt(m.start))} &rarr; '
             f"{_e(_fmt(m.end))} UTC &middot; initial balance {cfg.initial_balance:,.2f} "
             f"{_e(cfg.account_currency)}</p>"]  # fmt: skip
    if params:
        parts.append("<h2>Parameters</h2>")
        parts.append(_table([{"parameter": k, "value": v} for k, v in params.items()]))
    rows = [{"metric": k, "value": _fmt(metrics.get(k), kind)} for k, kind in _METRIC_ROWS]
    costs = cost_summary(cfg, bars)
    cost_rows = [{"cost": k, "assumption": v} for k, v in costs.items()]
    parts.append('<div class="grid"><div><h2>Metrics</h2>' + _table(rows) + "</div>"
                 "<div><h2>Costs (included)</h2>" + _table(cost_rows) + "</div></div>")  # fmt: skip
    if optimization is not None:
        parts.append(_optimization_html(optimization))
    if bars is not None and len(bars):
        svg, note = price_chart(bars.loc[result.equity.index[0] :], result.trades)
        parts.append("<h2>Price and trades</h2>" + svg)
        if note:
            parts.append(f'<p class="note">{_e(note)}</p>')
    parts.append("<h2>Equity</h2>" + line_chart(result.equity, color="#2f6fdf"))
    drawdown = line_chart(result.drawdown, color="#d33c3c", area=True, y_format="pct")
    parts.append("<h2>Drawdown</h2>" + drawdown)
    monthly = _monthly_html(monthly_returns(result.equity, cfg.initial_balance))
    parts.append("<h2>Monthly returns</h2>" + monthly)
    if walk_forward is not None:
        parts.append(_walk_forward_html(walk_forward))
    parts.append(_trades_html(result.trades, max_trades))
    doc = "\n".join(parts)
    return ('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>\n{doc}\n"
            "</body></html>\n")  # fmt: skip


def _trades_html(trades: pd.DataFrame, max_trades: int) -> str:
    cols = ["entry_time", "direction", "entry_price", "exit_time", "exit_price", "lots", "pnl",
            "r_multiple", "exit_reason"]  # fmt: skip
    shown = trades.tail(max_trades)
    records = [{c: (str(v) if c == "exit_reason" else v) for c, v in r.items()}
               for r in shown[cols].to_dict("records")]  # fmt: skip
    note = f"last {len(shown)} of {len(trades)} closes" if len(trades) > len(shown) else ""
    head = f"<h2>Trades</h2>{f'<p class=note>{_e(note)}</p>' if note else ''}"
    return head + _table(records, cols)


def _optimization_html(opt: OptimizationResult) -> str:
    d = opt.deflated_sharpe
    rows: list[dict[str, Any]] = [
        {"statistic": "method", "value": opt.method},
        {"statistic": "objective", "value": opt.objective},
        {"statistic": "trials", "value": opt.n_trials},
        {"statistic": "best objective", "value": _fmt(opt.best_value)},
        {"statistic": "deflated Sharpe ratio", "value": _fmt(d.dsr)},
        {"statistic": "SR0 (expected max, daily)", "value": _fmt(d.expected_max_sharpe)},
        {"statistic": "PBO (CSCV)", "value": _fmt(opt.pbo.pbo) if opt.pbo else "-"},
    ]
    top = opt.top(10)
    keys = [*opt.best_params, "trades", "sharpe", "net_profit", "objective"]
    trials = _table(top[keys].to_dict("records"), keys)
    return "<h2>Optimisation</h2>" + _table(rows) + "<p class=note>Top trials</p>" + trials


def _walk_forward_html(wf: WalkForwardResult) -> str:
    cols = ["window", "oos_start", "oos_end", "params", "is_cagr", "oos_cagr", "oos_trades",
            "efficiency"]  # fmt: skip
    records = wf.windows[cols].to_dict("records")
    head = f"<h2>Walk-forward (efficiency {_fmt(wf.efficiency)})</h2>"
    return head + _table(records, cols)


def write_report(path: str | Path, result: BacktestResult, bars: pd.DataFrame | None = None,
                 **kwargs: Any) -> Path:  # fmt: skip
    """Write :func:`render_report` to ``path`` (UTF-8); returns the path."""
    out = Path(path).expanduser()
    out.write_text(render_report(result, bars, **kwargs), encoding="utf-8")
    return out


__all__ = [
    "cost_summary",
    "line_chart",
    "monthly_returns",
    "price_chart",
    "render_report",
    "write_report",
]
