"""Every format in ../shared/data is read, detected and converted to UTC correctly."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from noxfx.data.formats import detect_format, read_file, to_utc
from noxfx.errors import InvalidInput, UnsupportedFormat
from tests.conftest import shared

CASES = [
    # file, format, symbol, timeframe, tz, first bar (UTC), first close
    ("generic/EURUSD_H1.csv.gz", "generic", "EURUSD", "1h", "UTC", "2012-12-19 03:00", 1.32476),
    ("generic/GBPUSD_H1.csv.gz", "generic", "GBPUSD", "1h", "UTC", "2012-12-17 04:00", 1.6171),
    ("generic/USDCAD_H1.csv.gz", "generic", "USDCAD", "1h", "UTC", "2012-12-17 03:00", 0.98617),
    # HistData: EST without daylight saving, so 02:00 EST is 07:00 UTC even in summer files
    ("histdata/DAT_ASCII_EURUSD_M1_201701.csv.gz", "histdata", "EURUSD", "1m", "EST",
     "2017-01-02 07:00", 1.0519),
    ("histdata/DAT_ASCII_EURUSD_M1_201702.csv.gz", "histdata", "EURUSD", "1m", "EST",
     "2017-02-01 05:00", 1.07893),
    ("metatrader/EURUSD1440.csv.gz", "metatrader", "EURUSD", "1d", "UTC", "2009-11-04 00:00",
     1.48659),
    ("metatrader/EURUSD240.csv.gz", "metatrader", "EURUSD", "4h", "UTC", "2009-11-04 16:00",
     1.48919),
    ("metatrader/GBPNZD240.csv.gz", "metatrader", "GBPNZD", "4h", "UTC", "2009-10-20 16:00",
     2.18716),
    ("metatrader/USDJPY1440.csv.gz", "metatrader", "USDJPY", "1d", "UTC", "2009-10-30 00:00",
     90.065),
    ("metatrader/AUDUSD1440.csv.gz", "metatrader", "AUDUSD", "1d", "UTC", "2009-10-28 00:00",
     0.89824),
    # MT5 server time is New York + 7h: 2016-03-21 00:00 server = 2016-03-20 17:00 EDT = 21:00Z
    ("mt5/USDJPY_H4.csv.gz", "mt5", "USDJPY", "4h", "mt-server", "2016-03-20 21:00", 111.338),
    ("mt5/USDJPY_D1.csv.gz", "mt5", "USDJPY", "1d", "mt-server", "2016-03-20 21:00", 111.959),
    ("dukascopy/EURUSD_Candlestick_1_D_BID_15.12.2017-15.12.2020.csv.gz", "dukascopy", "EURUSD",
     "1d", "UTC", "2017-12-15 00:00", 1.17492),
    # Yahoo: ';' separated with decimal commas and the columns in an unusual order
    ("yahoo/EURUSD=X.csv.gz", "yahoo", "EURUSD", "1d", "UTC", "2016-01-19 00:00",
     1.0895025730133057),
    ("yahoo/USDTRY=X.csv.gz", "yahoo", "USDTRY", "1d", "UTC", "2016-01-19 00:00",
     3.034830093383789),
]  # fmt: skip


@pytest.mark.parametrize(("rel", "fmt", "symbol", "tf", "tz", "first", "close"), CASES)
def test_reads_every_shared_file(
    rel: str, fmt: str, symbol: str, tf: str, tz: str, first: str, close: float
) -> None:
    parsed = read_file(shared(rel))
    assert (parsed.format, parsed.symbol, parsed.timeframe.name, parsed.tz) == (fmt, symbol, tf, tz)
    frame = parsed.frame
    assert str(frame.index.tz) == "UTC"
    assert frame.index[0] == pd.Timestamp(first, tz="UTC")
    assert frame["close"].iloc[0] == pytest.approx(close)
    assert not frame.index.isna().any()
    assert frame[["open", "high", "low", "close"]].notna().all().all()
    header = 0 if fmt in ("histdata", "metatrader") else 1
    assert frame["line"].iloc[0] == 1 + header


def test_yahoo_column_order_is_mapped_by_name() -> None:
    frame = read_file(shared("yahoo/EURUSD=X.csv.gz")).frame
    # row 2 of the file: Date;Adj Close;Close;High;Low;Open -> 2016-01-20
    row = frame.iloc[1]
    assert row["high"] == pytest.approx(1.0975996255874634)
    assert row["low"] == pytest.approx(1.0892889499664307)
    assert row["open"] == pytest.approx(1.0911551713943481)


def test_mt5_keeps_the_spread_column() -> None:
    frame = read_file(shared("mt5/USDJPY_H4.csv.gz")).frame
    assert "spread" in frame and frame["spread"].iloc[1] == 9


def test_mt5_daily_bars_open_at_new_york_close() -> None:
    idx = read_file(shared("mt5/USDJPY_D1.csv.gz")).frame.index
    assert (idx.tz_convert("America/New_York").hour == 17).all()


def test_tz_override_shifts_every_bar() -> None:
    utc = read_file(shared("generic/EURUSD_H1.csv.gz")).frame.index
    shifted = read_file(shared("generic/EURUSD_H1.csv.gz"), tz="+02:00").frame.index
    assert ((utc - shifted) == pd.Timedelta(hours=2)).all()


@pytest.mark.parametrize(
    ("zone", "wall", "utc"),
    [("UTC", "2024-07-01 12:00", "2024-07-01 12:00"),
     ("EST", "2024-07-01 12:00", "2024-07-01 17:00"),
     ("UTC-5", "2024-07-01 12:00", "2024-07-01 17:00"),
     ("+02:00", "2024-07-01 12:00", "2024-07-01 10:00"),
     ("mt-server", "2024-07-01 00:00", "2024-06-30 21:00"),  # GMT+3 in US summer
     ("mt-server", "2024-01-02 00:00", "2024-01-01 22:00"),  # GMT+2 in winter
     ("Europe/London", "2024-07-01 12:00", "2024-07-01 11:00")],
)  # fmt: skip
def test_to_utc(zone: str, wall: str, utc: str) -> None:
    got = to_utc(pd.DatetimeIndex([wall]).as_unit("ns"), zone)
    assert got[0] == pd.Timestamp(utc, tz="UTC")


def test_unknown_zone_is_a_clear_error() -> None:
    with pytest.raises(InvalidInput, match="Unknown time zone 'Mars/Olympus'"):
        to_utc(pd.DatetimeIndex(["2024-01-01"]), "Mars/Olympus")


def test_unrecognised_file_is_refused(tmp_path: Path) -> None:
    f = tmp_path / "EURUSD_notes.txt"
    f.write_text("hello world\nthis is not a bar file\n")
    with pytest.raises(UnsupportedFormat, match="unrecognised format"):
        detect_format(f)


def test_symbol_must_come_from_somewhere(tmp_path: Path) -> None:
    src = shared("generic/EURUSD_H1.csv.gz")
    f = tmp_path / "bars.csv.gz"
    f.write_bytes(src.read_bytes())
    with pytest.raises(InvalidInput, match="pass --symbol"):
        read_file(f)
    assert read_file(f, symbol="eur/usd").symbol == "EURUSD"


def test_timeframe_in_name_must_agree_with_data(tmp_path: Path) -> None:
    f = tmp_path / "EURUSD_H4.csv.gz"
    f.write_bytes(shared("generic/EURUSD_H1.csv.gz").read_bytes())
    with pytest.raises(InvalidInput, match="file name says 4h but the bars are 1h apart"):
        read_file(f)
