"""Currency conversion from the prices of pairs, and pip values in the account currency.

Conventions (FOREX.md): the pip value of one lot in the **quote** currency is
``pip_size * contract_size`` (EURUSD 10 USD, USDJPY 1,000 JPY, XAUUSD 1 USD). Into the account
currency it is multiplied by the quote->account rate, found from the prices given:

* quote == account: 1 (EURUSD on a USD account);
* base == account: ``1 / price`` of the pair itself (USDJPY on a USD account);
* a pair QUOTE/ACCOUNT (multiply) or ACCOUNT/QUOTE (divide) among the prices (EURGBP on a USD
  account: GBPUSD; USDJPY on a EUR account: EURJPY);
* otherwise through USD (QUOTE->USD->ACCOUNT).

``prices`` maps six-letter symbols to a price (mid or bid) at the same time as the trade.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from noxfx.errors import InsufficientData
from noxfx.instruments import Instrument, get_instrument

if TYPE_CHECKING:
    import pandas as pd


def conversion_rate(source: str, target: str, prices: Mapping[str, float]) -> float:
    """Units of ``target`` currency per one unit of ``source`` currency (the route of
    :func:`conversion_legs` over the pairs with a price)."""
    priced = {symbol for symbol, price in prices.items() if price}
    rate = 1.0
    for symbol, invert in conversion_legs(source, target, priced):
        rate *= 1.0 / float(prices[symbol]) if invert else float(prices[symbol])
    return rate


def quote_to_account(inst: Instrument, account: str, prices: Mapping[str, float]) -> float:
    """Account-currency value of one unit of ``inst``'s quote currency."""
    account = account.upper()
    if inst.quote == account:
        return 1.0
    if inst.base == account:
        own = prices.get(inst.symbol)
        if not own:
            raise InsufficientData(f"Need the {inst.symbol} price to value it in {account}.")
        return 1.0 / float(own)
    return conversion_rate(inst.quote, account, prices)


def pip_value_per_lot(symbol: str, account: str, prices: Mapping[str, float]) -> float:
    """Value of one pip on one standard lot of ``symbol``, in the ``account`` currency."""
    inst = get_instrument(symbol)
    return inst.pip_value_per_lot_quote * quote_to_account(inst, account, prices)


def margin_required(
    symbol: str, units: float, account: str, prices: Mapping[str, float], leverage: float
) -> float:
    """Margin in the account currency: units x price(base -> account) / leverage."""
    inst = get_instrument(symbol)
    if leverage <= 0:
        from noxfx.errors import InvalidInput

        raise InvalidInput(f"Leverage must be positive, got {leverage}.")
    if inst.base == account.upper():
        base_value = 1.0
    else:
        own = prices.get(inst.symbol)
        if inst.quote == account.upper() and own:
            base_value = float(own)
        else:
            base_value = conversion_rate(inst.base, account, prices)
    return abs(units) * base_value / leverage


def conversion_legs(source: str, target: str, available: set[str]) -> list[tuple[str, bool]]:
    """The pairs (and whether to invert each) whose product converts ``source`` into
    ``target`` among the ``available`` pairs: the direct pair, else its inverse, else through
    USD; raises :class:`InsufficientData` naming the pairs that would do. The one route both
    :func:`conversion_rate` (prices at one time) and :func:`rate_series` (per bar) follow."""
    source, target = source.upper(), target.upper()
    if source == target:
        return []
    if source + target in available:
        return [(source + target, False)]
    if target + source in available:
        return [(target + source, True)]
    if "USD" not in (source, target):
        try:
            return conversion_legs(source, "USD", available) + conversion_legs(
                "USD", target, available
            )
        except InsufficientData:
            pass
    raise InsufficientData(
        f"Cannot convert {source} to {target} from the stored pairs: import {source}{target} "
        f"(or {target}{source}, or {source}USD/USD{source} with {target}USD/USD{target})."
    )


def rate_series(
    legs: list[tuple[str, bool]], opens: Mapping[str, pd.Series], index: pd.DatetimeIndex
) -> pd.Series:
    """Units of target per unit of source at each time of ``index`` (UTC bar open times), from
    the legs' bar **opens** as of that time (the last conversion bar opened at or before it:
    known then, no lookahead). Leading times before a leg's first bar take its first open."""
    import numpy as np
    import pandas as pd

    rate = pd.Series(np.ones(len(index)), index=index, name="conversion")
    for symbol, invert in legs:
        leg = opens[symbol].sort_index()
        leg = leg[~leg.index.duplicated(keep="last")]
        values = leg.reindex(index, method="ffill").bfill()
        rate = rate * (1.0 / values if invert else values)
    return rate


__all__ = [
    "conversion_legs",
    "conversion_rate",
    "margin_required",
    "pip_value_per_lot",
    "quote_to_account",
    "rate_series",
]
