"""``noxfx plan`` and ``noxfx scan``: the trading plan a trader acts on."""

from __future__ import annotations

from typing import Any

import typer

from noxfx.cli._args import many_symbols
from noxfx.cli._output import emit_json, print_table, stderr_console


def register(app: typer.Typer) -> None:
    app.command("plan")(plan)
    app.command("scan")(scan)


def _request(symbol: str, timeframe: str, balance: float, account_currency: str,
             risk: float | None, risk_tolerance: str, **costs: float | None) -> Any:  # fmt: skip
    """A PlanRequest; cost options left out (None) keep the request's own defaults."""
    from noxfx.plans.generator import PlanRequest

    given = {k: v for k, v in costs.items() if v is not None}
    return PlanRequest(symbol=symbol, timeframe=timeframe, balance=balance,
                       account_currency=account_currency.upper(), risk_pct=risk,
                       risk_tolerance=risk_tolerance, **given)  # fmt: skip


def plan(
    symbol: str = typer.Argument(..., help="Pair, e.g. EURUSD."),
    timeframe: str = typer.Option("1h", "--timeframe", "-t", help="Timeframe."),
    balance: float = typer.Option(10_000.0, "--balance", "-b", help="Account balance."),
    account_currency: str = typer.Option("USD", "--account-currency", help="Account currency."),
    risk: float | None = typer.Option(
        None,
        "--risk",
        "-r",
        help="Risk per trade, % of balance (default by tolerance: 0.5 / 1 / 2).",
    ),
    risk_tolerance: str = typer.Option("medium", "--risk-tolerance", help="low, medium, high."),
    swap_long: float | None = typer.Option(
        None,
        "--swap-long",
        help="Your broker's swap per lot per night for longs, account "
        "currency (+ credit, - debit). Without it the expected value leaves swap out.",
    ),
    swap_short: float | None = typer.Option(None, "--swap-short", help="The same for shorts."),
    commission: float | None = typer.Option(
        None, "--commission", help="Commission per lot per side, account currency (e.g. 3.5)."
    ),
    leverage: float | None = typer.Option(None, "--leverage", help="Leverage (default 30)."),
    spread: float | None = typer.Option(
        None, "--spread", help="Spread in pips (default: the bars' spread, else typical)."
    ),
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Direction (or NO_TRADE and why), entry, stop, targets, size, P(TP1 before stop) with the
    cases behind it, expected value after costs, and the setup's own track record."""
    from noxfx.data.store import BarStore
    from noxfx.ml.registry import ModelRegistry
    from noxfx.workflows import plan_for

    req = _request(symbol, timeframe, balance, account_currency, risk, risk_tolerance,
                   swap_long=swap_long, swap_short=swap_short, commission_per_lot=commission,
                   leverage=leverage, spread_pips=spread)  # fmt: skip
    result = plan_for(BarStore.default(), req, ModelRegistry.default())
    if json_out:
        emit_json(result.as_dict())
    else:
        print_plan(result.as_dict())


def scan(
    pairs: list[str] | None = typer.Argument(None, help="Pairs, e.g. EURUSD GBPUSD USDJPY."),
    symbols: str | None = typer.Option(None, "--symbols", help="Comma-separated pairs (alias)."),
    all_: bool = typer.Option(False, "--all", help="Every pair in the store."),
    timeframe: str = typer.Option("1h", "--timeframe", "-t", help="Timeframe."),
    balance: float = typer.Option(10_000.0, "--balance", "-b", help="Account balance."),
    risk_tolerance: str = typer.Option("medium", "--risk-tolerance", help="low, medium, high."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Plans for several pairs, ranked by expected value after costs."""
    from noxfx.data.store import BarStore
    from noxfx.errors import InvalidInput
    from noxfx.ml.registry import ModelRegistry
    from noxfx.plans.scan import scan as scan_plans
    from noxfx.workflows import plan_for

    store = BarStore.default()
    names = store.symbols() if all_ else many_symbols(pairs, symbols)
    if not names:
        raise InvalidInput("Give the pairs (noxfx scan EURUSD GBPUSD) or --all.")

    models = ModelRegistry.default()

    def plan_of(name: str) -> dict[str, Any]:
        request = _request(name, timeframe, balance, "USD", None, risk_tolerance)
        return plan_for(store, request, models).as_dict()

    err = stderr_console()
    with err.status("scanning...") as status:
        rows, errors = scan_plans(names, plan_of,
                                  lambda _i, name: status.update(f"planning {name}"))  # fmt: skip
    if json_out:
        emit_json({"timeframe": timeframe, "plans": rows, "errors": errors})
        return
    print_table(rows, title=f"Scan {timeframe}: ranked by expected value (R) after costs")
    for e in errors:
        err.print(f"[yellow]{e['symbol']}: {e['error']}[/]")


def _interval(iv: Any) -> str:
    return "" if not iv else f", 95 % interval {iv[0]:.3f}-{iv[1]:.3f}"


def _fmt(x: Any, spec: str = ".3f") -> str:
    return "-" if x is None else format(x, spec)


def _swap_words(d: dict[str, Any]) -> str:
    days = "-" if d["swap_days"] is None else f"{d['swap_days']:.2f}"
    if d["swap_r"] is None:
        return f"not included (give --swap-long/--swap-short); {days} rollover days on average"
    return f"{d['swap_r']:+.3f} R over {days} rollover days on average (included)"


def print_plan(d: dict[str, Any]) -> None:
    """A plan as tables for people (prices at the instrument's precision)."""
    from noxfx.instruments import get_instrument

    digits = get_instrument(d["symbol"]).precision

    def px(value: float) -> str:
        return f"{value:.{digits}f}"

    prob = d["probability"]
    head = [
        ("direction", d["direction"] if d["direction"] != "NO_TRADE"
         else f"NO_TRADE (considered {d['considered_direction']})"),
        ("as of (UTC)", d["as_of"]),
        ("quote bid/ask", f"{px(d['quote']['bid'])} / {px(d['quote']['ask'])} "
                          f"(spread {d['quote']['spread_pips']} pips)"),
        ("entry", f"{d['entry']['type']} {px(d['entry']['price'])} until "
                  f"{d['entry']['valid_until']}"),
        ("stop", f"{px(d['stop']['price'])} ({d['stop']['pips']} pips; {d['stop']['basis']})"),
        *[(f"TP{i + 1}", f"{px(t['price'])} ({t['pips']} pips, {t['r_multiple']:g}R, close "
                         f"{t['close_fraction']:.0%})") for i, t in enumerate(d["targets"])],
        ("size", f"{d['position']['lots']} lots, risk {d['position']['risk_amount']:.2f} "
                 f"{d['account_currency']} ({d['position']['risk_pct']:.2f} %)"),
        ("P(TP1 before stop)", f"{_fmt(prob['tp1_before_stop'])} from {prob['source']}, "
                               f"n={prob['cases']}{_interval(prob['interval_95'])}"),
        ("payoffs", f"hit {d['payoff_win_r']:+.2f} R, miss {d['payoff_loss_r']:+.2f} R "
                    f"({d['payoff_source']})"),
        ("break-even win rate", _fmt(d["break_even_win_rate"])),
        ("swap", _swap_words(d)),
        ("expected value", f"{_fmt(d['expected_value_r'])} R = "
                           f"{_fmt(d['expected_value_account'], '.2f')} {d['account_currency']}"),
        ("confidence / risk score", f"{d['confidence_score']:.3f} / {d['risk_score']}"),
        ("invalidation", d["invalidation"]),
    ]  # fmt: skip
    print_table([{"field": k, "value": v} for k, v in head],
                title=f"{d['symbol']} {d['timeframe']} trading plan")  # fmt: skip
    print_table(d["rationale"], title="Rationale")
    if d["history"]:
        h = d["history"]
        print_table([{"field": k, "value": _fmt(v) if isinstance(v, float) else v}
                     for k, v in h.items()],
                    title="The same setup on history (costs included)")  # fmt: skip
    notes = ([{"kind": "no trade", "text": r} for r in d["no_trade_reasons"]]
             + [{"kind": "warning", "text": w} for w in d["warnings"]]
             + [{"kind": "missing input", "text": m} for m in d["missing_inputs"]])  # fmt: skip
    if notes:
        print_table(notes, title="Reasons and warnings")
    typer.echo(d["disclaimer"])
