"""Arguments every command spells the same way: the pair first (``noxfx backtest EURUSD``),
``--symbol`` kept as an alias; several pairs as arguments (``noxfx scan EURUSD GBPUSD``),
``--symbols A,B`` kept as an alias."""

from __future__ import annotations

import typer

SYMBOL_ARG = typer.Argument(None, help="Pair, e.g. EURUSD (or --symbol).", show_default=False)
SYMBOL_OPT = typer.Option(None, "--symbol", "-s", help="Pair (alias of the first argument).")


def one_symbol(argument: str | None, option: str | None, example: str) -> str:
    """The pair from the first argument or ``--symbol`` (the same one if both are given)."""
    from noxfx.errors import InvalidInput

    if argument and option and argument.upper() != option.upper():
        raise InvalidInput(f"Two pairs given ({argument} and --symbol {option}): give one.")
    symbol = argument or option
    if not symbol:
        raise InvalidInput(f"Give the pair first, e.g. `{example}`.")
    return symbol


def many_symbols(arguments: list[str] | None, option: str | None) -> list[str]:
    """Pairs from the arguments and ``--symbols A,B`` (order kept, duplicates dropped)."""
    names = [*(arguments or []), *(option.split(",") if option else [])]
    out: list[str] = []
    for name in (n.strip() for n in names):
        if name and name.upper() not in (o.upper() for o in out):
            out.append(name)
    return out


__all__ = ["SYMBOL_ARG", "SYMBOL_OPT", "many_symbols", "one_symbol"]
