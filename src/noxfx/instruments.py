"""The instrument catalogue: currency pairs and metals with their market conventions.

Conventions (see FOREX.md in the project docs):

* Symbols are six letters ``BASEQUOTE`` (``EURUSD``); :func:`normalize_symbol` maps the spellings
  used by brokers and data vendors (``eur/usd``, ``EUR_USD``, ``EURUSD=X``, ``FX_IDC:EURUSD``,
  ``EURUSD.m``) onto that form.
* ``pip_size`` is the price increment of one pip: 0.0001 for most pairs, 0.01 for pairs quoted in
  JPY (and HUF, INR, THB, RUB, whose quotes are in the tens or hundreds). Metals: XAUUSD 0.01,
  XAGUSD 0.001. ``precision`` is the number of decimals a quote carries (one pipette below a pip
  for FX).
* ``contract_size`` is units of base per standard lot (100,000 for FX, 100 oz gold, 5,000 oz
  silver). The pip value of one lot in the quote currency is ``pip_size * contract_size``.
* ``typical_spread_pips`` is a realistic retail spread in pips, used as the default cost when no
  broker spread is known; it is deliberately not the best-case ECN figure.
* ``sessions`` names the trading sessions (:data:`SESSIONS`) in which the pair is most active.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import asdict, dataclass
from functools import cache
from typing import Any

from noxfx.errors import UnknownInstrument


@dataclass(frozen=True, slots=True)
class Session:
    """A trading session in local wall-clock time of ``tz`` (so DST is handled by the zone)."""

    name: str
    tz: str
    open_local: str  # "HH:MM"
    close_local: str  # "HH:MM"


#: The four classic FX sessions, in their local time zones.
SESSIONS: dict[str, Session] = {
    "sydney": Session("sydney", "Australia/Sydney", "07:00", "16:00"),
    "tokyo": Session("tokyo", "Asia/Tokyo", "09:00", "18:00"),
    "london": Session("london", "Europe/London", "08:00", "17:00"),
    "new_york": Session("new_york", "America/New_York", "08:00", "17:00"),
}


@dataclass(frozen=True, slots=True)
class Instrument:
    """One tradable instrument. Prices are in ``quote`` per one unit of ``base``."""

    symbol: str
    base: str
    quote: str
    kind: str  # "major" | "cross" | "exotic" | "metal"
    pip_size: float
    precision: int
    contract_size: float
    typical_spread_pips: float
    sessions: tuple[str, ...]
    description: str

    @property
    def pip_value_per_lot_quote(self) -> float:
        """Value of one pip on one standard lot, in the quote currency (EURUSD: 10.0 USD)."""
        return self.pip_size * self.contract_size

    def to_pips(self, price_distance: float) -> float:
        """Convert a price distance (quote currency per base unit) to pips."""
        return price_distance / self.pip_size

    def from_pips(self, pips: float) -> float:
        """Convert pips to a price distance."""
        return pips * self.pip_size

    def round_price(self, price: float) -> float:
        """Round a price to the instrument's quote precision."""
        return round(price, self.precision)

    def as_dict(self) -> dict[str, Any]:
        """Plain-JSON form (sessions as a list) for the CLI and the API."""
        d = asdict(self)
        d["sessions"] = list(self.sessions)
        d["pip_value_per_lot_quote"] = self.pip_value_per_lot_quote
        return d


CURRENCY_NAMES: dict[str, str] = {
    "EUR": "Euro", "USD": "US Dollar", "GBP": "Pound Sterling", "JPY": "Japanese Yen",
    "CHF": "Swiss Franc", "CAD": "Canadian Dollar", "AUD": "Australian Dollar",
    "NZD": "New Zealand Dollar", "SEK": "Swedish Krona", "NOK": "Norwegian Krone",
    "DKK": "Danish Krone", "PLN": "Polish Zloty", "HUF": "Hungarian Forint",
    "CZK": "Czech Koruna", "TRY": "Turkish Lira", "ZAR": "South African Rand",
    "MXN": "Mexican Peso", "SGD": "Singapore Dollar", "HKD": "Hong Kong Dollar",
    "CNH": "Chinese Yuan (offshore)", "THB": "Thai Baht", "ILS": "Israeli Shekel",
    "INR": "Indian Rupee", "XAU": "Gold", "XAG": "Silver",
}  # fmt: skip

#: The session where each currency's home market trades.
_HOME_SESSION: dict[str, str] = {
    "USD": "new_york", "CAD": "new_york", "MXN": "new_york",
    "EUR": "london", "GBP": "london", "CHF": "london", "SEK": "london", "NOK": "london",
    "DKK": "london", "PLN": "london", "HUF": "london", "CZK": "london", "TRY": "london",
    "ZAR": "london", "ILS": "london",
    "JPY": "tokyo", "SGD": "tokyo", "HKD": "tokyo", "CNH": "tokyo", "THB": "tokyo",
    "INR": "tokyo",
    "AUD": "sydney", "NZD": "sydney",
}  # fmt: skip

#: Quote currencies whose pip is 0.01 (quotes in the tens to hundreds).
_BIG_QUOTE = {"JPY", "HUF", "INR", "THB"}

# symbol -> (kind, typical spread in pips)
_PAIRS: dict[str, tuple[str, float]] = {
    # majors
    "EURUSD": ("major", 0.8), "GBPUSD": ("major", 1.0), "USDJPY": ("major", 0.9),
    "USDCHF": ("major", 1.2), "USDCAD": ("major", 1.3), "AUDUSD": ("major", 1.0),
    "NZDUSD": ("major", 1.5),
    # crosses
    "EURGBP": ("cross", 1.2), "EURJPY": ("cross", 1.5), "EURCHF": ("cross", 1.8),
    "EURCAD": ("cross", 2.2), "EURAUD": ("cross", 2.0), "EURNZD": ("cross", 3.0),
    "GBPJPY": ("cross", 2.5), "GBPCHF": ("cross", 2.8), "GBPCAD": ("cross", 3.0),
    "GBPAUD": ("cross", 3.0), "GBPNZD": ("cross", 4.5), "AUDJPY": ("cross", 1.8),
    "AUDCHF": ("cross", 2.2), "AUDCAD": ("cross", 2.2), "AUDNZD": ("cross", 2.5),
    "NZDJPY": ("cross", 2.3), "NZDCHF": ("cross", 3.0), "NZDCAD": ("cross", 3.0),
    "CADJPY": ("cross", 2.2), "CADCHF": ("cross", 2.8), "CHFJPY": ("cross", 2.5),
    # exotics
    "USDTRY": ("exotic", 60.0), "USDZAR": ("exotic", 90.0), "USDMXN": ("exotic", 60.0),
    "USDSEK": ("exotic", 35.0), "USDNOK": ("exotic", 35.0), "USDDKK": ("exotic", 20.0),
    "USDPLN": ("exotic", 25.0), "USDHUF": ("exotic", 25.0), "USDCZK": ("exotic", 40.0),
    "USDSGD": ("exotic", 3.0), "USDHKD": ("exotic", 5.0), "USDCNH": ("exotic", 20.0),
    "USDTHB": ("exotic", 15.0), "USDILS": ("exotic", 60.0), "USDINR": ("exotic", 5.0),
    "EURTRY": ("exotic", 90.0), "EURZAR": ("exotic", 120.0), "EURSEK": ("exotic", 30.0),
    "EURNOK": ("exotic", 30.0), "EURDKK": ("exotic", 8.0), "EURPLN": ("exotic", 25.0),
    "EURHUF": ("exotic", 30.0), "EURCZK": ("exotic", 40.0), "EURSGD": ("exotic", 5.0),
    "EURMXN": ("exotic", 100.0), "GBPZAR": ("exotic", 150.0), "GBPSEK": ("exotic", 60.0),
    "GBPNOK": ("exotic", 60.0), "GBPSGD": ("exotic", 8.0), "GBPPLN": ("exotic", 40.0),
    "SGDJPY": ("exotic", 3.0), "ZARJPY": ("exotic", 3.0), "NOKSEK": ("exotic", 30.0),
    "TRYJPY": ("exotic", 5.0), "MXNJPY": ("exotic", 3.0),
}  # fmt: skip


def _pair(symbol: str, kind: str, spread: float) -> Instrument:
    base, quote = symbol[:3], symbol[3:]
    big = quote in _BIG_QUOTE
    sessions = tuple(dict.fromkeys((_HOME_SESSION[base], _HOME_SESSION[quote])))
    return Instrument(
        symbol=symbol,
        base=base,
        quote=quote,
        kind=kind,
        pip_size=0.01 if big else 0.0001,
        precision=3 if big else 5,
        contract_size=100_000.0,
        typical_spread_pips=spread,
        sessions=sessions,
        description=f"{CURRENCY_NAMES[base]} / {CURRENCY_NAMES[quote]}",
    )


def _build_catalogue() -> dict[str, Instrument]:
    cat = {s: _pair(s, k, sp) for s, (k, sp) in _PAIRS.items()}
    cat["XAUUSD"] = Instrument(
        "XAUUSD", "XAU", "USD", "metal", 0.01, 2, 100.0, 30.0, ("london", "new_york"),
        "Gold / US Dollar (100 oz per lot)",
    )  # fmt: skip
    cat["XAGUSD"] = Instrument(
        "XAGUSD", "XAG", "USD", "metal", 0.001, 3, 5_000.0, 30.0, ("london", "new_york"),
        "Silver / US Dollar (5,000 oz per lot)",
    )  # fmt: skip
    return cat


#: symbol -> Instrument, in catalogue order (majors, crosses, exotics, metals).
CATALOGUE: dict[str, Instrument] = _build_catalogue()

_PREFIX = re.compile(r"^[A-Za-z0-9_]+:")  # FX_IDC:, OANDA:, FX:
_SEPARATORS = re.compile(r"[\s/_\-]")


def normalize_symbol(raw: str) -> str:
    """Return the canonical six-letter form of ``raw`` without checking the catalogue.

    >>> [normalize_symbol(s) for s in ["eur/usd", "EUR_USD", "EURUSD=X", "FX_IDC:EURUSD"]]
    ['EURUSD', 'EURUSD', 'EURUSD', 'EURUSD']
    >>> normalize_symbol("JPY=X")  # Yahoo's short form for USD/JPY
    'USDJPY'
    """
    s = _PREFIX.sub("", raw.strip())
    if s.upper().endswith("=X"):
        s = s[:-2]
        if len(s) == 3:  # Yahoo: "JPY=X" is USDJPY
            s = "USD" + s
    s = _SEPARATORS.sub("", s)
    if "." in s:  # broker suffixes: EURUSD.m, EURUSD.pro
        s = s.split(".", 1)[0]
    if re.fullmatch(r"[A-Z]{6}[a-z]", s):  # broker suffix letter: EURUSDm, EURUSDi
        s = s[:6]
    return s.upper()


@cache
def get_instrument(symbol: str) -> Instrument:
    """Look up an instrument by any common spelling of its symbol.

    Raises :class:`~noxfx.errors.UnknownInstrument` with a suggestion when nothing matches.
    """
    key = normalize_symbol(symbol)
    try:
        return CATALOGUE[key]
    except KeyError:
        pass
    close = difflib.get_close_matches(key, CATALOGUE.keys(), n=1, cutoff=0.6)
    hint = f" Did you mean {close[0]}?" if close else " Run `noxfx instruments` for the list."
    raise UnknownInstrument(f"Unknown instrument {symbol!r}.{hint}")


def list_instruments(kind: str | None = None) -> list[Instrument]:
    """All instruments, optionally only one ``kind`` (major, cross, exotic, metal)."""
    return [i for i in CATALOGUE.values() if kind is None or i.kind == kind]


__all__ = [
    "CATALOGUE",
    "SESSIONS",
    "Instrument",
    "Session",
    "get_instrument",
    "list_instruments",
    "normalize_symbol",
]
