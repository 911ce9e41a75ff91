from __future__ import annotations

import pytest

from noxfx.errors import UnknownInstrument
from noxfx.instruments import (
    CATALOGUE,
    SESSIONS,
    get_instrument,
    list_instruments,
    normalize_symbol,
)


def test_catalogue_has_fifty_pairs_and_both_metals() -> None:
    pairs = [i for i in CATALOGUE.values() if i.kind != "metal"]
    assert len(pairs) >= 50
    assert {"XAUUSD", "XAGUSD"} <= CATALOGUE.keys()
    majors = {i.symbol for i in list_instruments("major")}
    assert majors == {"EURUSD", "GBPUSD", "USDJPY", "USDCHF", "USDCAD", "AUDUSD", "NZDUSD"}


@pytest.mark.parametrize(
    ("symbol", "pip", "precision", "pip_value"),
    [
        ("EURUSD", 0.0001, 5, 10.0),  # 10 USD per pip per standard lot
        ("USDJPY", 0.01, 3, 1000.0),  # 1,000 JPY
        ("GBPJPY", 0.01, 3, 1000.0),
        ("EURGBP", 0.0001, 5, 10.0),
        ("XAUUSD", 0.01, 2, 1.0),  # 100 oz x 0.01
        ("XAGUSD", 0.001, 3, 5.0),  # 5,000 oz x 0.001
    ],
)
def test_pip_conventions(symbol: str, pip: float, precision: int, pip_value: float) -> None:
    inst = get_instrument(symbol)
    assert inst.pip_size == pip
    assert inst.precision == precision
    assert inst.pip_value_per_lot_quote == pytest.approx(pip_value)


def test_every_instrument_is_consistent() -> None:
    for inst in CATALOGUE.values():
        assert inst.symbol == inst.base + inst.quote
        assert inst.typical_spread_pips > 0
        assert inst.contract_size > 0
        assert set(inst.sessions) <= SESSIONS.keys() and inst.sessions
        # one pipette below the pip for FX; metals quote at the pip
        assert 10**-inst.precision <= inst.pip_size


@pytest.mark.parametrize(
    "raw", ["eur/usd", "EUR_USD", "EURUSD=X", "FX_IDC:EURUSD", "OANDA:EUR_USD", " eurusd ",
            "EUR-USD", "EURUSD.m", "EURUSDm"],
)  # fmt: skip
def test_symbol_spellings_normalise(raw: str) -> None:
    assert get_instrument(raw).symbol == "EURUSD"


def test_yahoo_short_form_means_usd_base() -> None:
    assert normalize_symbol("JPY=X") == "USDJPY"


def test_unknown_symbol_suggests_the_nearest() -> None:
    with pytest.raises(
        UnknownInstrument, match=r"Unknown instrument 'EURUSDD'\. Did you mean EURUSD\?"
    ):
        get_instrument("EURUSDD")
    with pytest.raises(UnknownInstrument, match="noxfx instruments"):
        get_instrument("QQQQQQ")


def test_pip_conversions_round_trip() -> None:
    inst = get_instrument("USDJPY")
    assert inst.to_pips(0.25) == pytest.approx(25.0)
    assert inst.from_pips(25) == pytest.approx(0.25)
    assert inst.round_price(151.123456) == 151.123
