"""``noxfx risk ...``: position sizing and portfolio risk reports."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from noxfx.cli._args import SYMBOL_ARG, SYMBOL_OPT, one_symbol
from noxfx.cli._output import emit_json, print_table

app = typer.Typer(help="Risk: position sizing and portfolio risk (exposure, VaR/CVaR).",
                  no_args_is_help=True)  # fmt: skip

METHODS = ("fixed_fractional", "kelly", "volatility_target")


@app.command("size")
def size(
    symbol_arg: str | None = SYMBOL_ARG,
    symbol_opt: str | None = SYMBOL_OPT,
    balance: float = typer.Option(..., "--balance", "-b", help="Account balance."),
    stop_pips: float = typer.Option(..., "--stop-pips", help="Stop distance in pips."),
    risk: float = typer.Option(1.0, "--risk", "-r", help="Risk per trade, % of balance."),
    method: str = typer.Option("fixed_fractional", "--method", help=", ".join(METHODS)),
    account_currency: str = typer.Option("USD", "--account-currency", help="Account currency."),
    price: float | None = typer.Option(
        None, "--price", help="Price of the pair (default: last stored close)."
    ),
    win_probability: float = typer.Option(0.5, "--win-probability", help="For Kelly."),
    reward_risk: float = typer.Option(2.0, "--reward-risk", help="For Kelly."),
    daily_atr_pips: float | None = typer.Option(
        None, "--daily-atr-pips", help="For volatility targeting."
    ),
    leverage: float = typer.Option(30.0, "--leverage", help="For the margin figure."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Size a position from the stop distance, with the pip value in the account currency."""
    from noxfx.data.store import BarStore
    from noxfx.errors import InsufficientData, InvalidInput
    from noxfx.instruments import get_instrument
    from noxfx.risk import sizing
    from noxfx.risk.conversion import margin_required, pip_value_per_lot
    from noxfx.workflows import prices_at

    symbol = one_symbol(symbol_arg, symbol_opt, "noxfx risk size EURUSD -b 10000 --stop-pips 20")
    inst = get_instrument(symbol)
    store = BarStore.default()
    prices = prices_at(store, store.symbols())
    if price is not None:
        prices[inst.symbol] = price
    pip_value = pip_value_per_lot(inst.symbol, account_currency, prices)
    if method == "fixed_fractional":
        result = sizing.fixed_fractional(balance, risk, stop_pips, pip_value,
                                         contract_size=inst.contract_size)  # fmt: skip
    elif method == "kelly":
        result = sizing.kelly(balance, win_probability, reward_risk, stop_pips, pip_value,
                              cap_pct=risk, contract_size=inst.contract_size)  # fmt: skip
    elif method == "volatility_target":
        if daily_atr_pips is None:
            raise InvalidInput("--method volatility_target needs --daily-atr-pips.")
        result = sizing.volatility_target(balance, risk, daily_atr_pips, stop_pips, pip_value,
                                          contract_size=inst.contract_size)  # fmt: skip
    else:
        raise InvalidInput(f"Unknown method {method!r}: use one of {', '.join(METHODS)}.")
    try:
        margin: float | None = (
            margin_required(inst.symbol, result.units, account_currency, prices, leverage)
            if result.units
            else 0.0
        )
    except InsufficientData:
        margin = None  # no price for the base currency: pass --price or import bars
    out = result.as_dict() | {
        "symbol": inst.symbol,
        "account_currency": account_currency.upper(),
        "margin": margin,
        "leverage": leverage,
    }
    if json_out:
        emit_json(out)
    else:
        print_table([{"field": k, "value": v} for k, v in out.items()], title="Position size")


@app.command("report")
def report(
    portfolio: Path = typer.Option(
        ..., "--portfolio", help="JSON: {account_currency, balance, positions: [{symbol, units}]}"
    ),
    timeframe: str = typer.Option("1h", "--timeframe", "-t", help="Bars for returns."),
    level: float = typer.Option(0.95, "--level", help="VaR confidence level."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Exposure per currency, correlation and one-bar VaR/CVaR of a portfolio."""
    from noxfx.data.store import BarStore
    from noxfx.errors import InvalidInput
    from noxfx.risk.exposure import (
        Position,
        correlation_matrix,
        currency_exposure,
        value_at_risk,
    )
    from noxfx.workflows import prices_at

    try:
        spec = json.loads(portfolio.read_text())
        account = str(spec.get("account_currency", "USD"))
        positions = [Position(str(p["symbol"]), float(p["units"])) for p in spec["positions"]]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InvalidInput(f"{portfolio}: not a portfolio file ({exc}).") from exc
    store = BarStore.default()
    prices = prices_at(store, store.symbols())
    symbols = sorted({p.symbol.upper() for p in positions})
    closes = {s: store.read(s, timeframe)["close"] for s in symbols}
    exposure = currency_exposure(positions, prices, account)
    var = [
        value_at_risk(positions, closes, account=account, level=level, method=m).as_dict()
        for m in ("historical", "parametric")
    ]
    out = {
        "account_currency": account,
        "exposure": exposure,
        "correlation": correlation_matrix(closes).round(3).to_dict() if len(symbols) > 1 else {},
        "var": var,
    }
    if json_out:
        emit_json(out)
        return
    print_table([{"currency": k, "exposure": v} for k, v in exposure.items()],
                title=f"Net exposure ({account})")  # fmt: skip
    print_table(var, title=f"One-bar VaR / CVaR ({timeframe} bars)")
