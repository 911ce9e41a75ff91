"""Each known defect of the real files (../shared/data/README.md) is found, and repairs hold."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from noxfx.data.formats import read_file
from noxfx.data.validation import repair, validate
from noxfx.timeframes import parse_timeframe
from tests.conftest import shared


def check(rel: str):  # type: ignore[no-untyped-def]
    parsed = read_file(shared(rel))
    return parsed, validate(parsed.frame, parsed.timeframe, source=parsed.path.name)


def test_gbpnzd_bad_tick_with_zero_low() -> None:
    _, report = check("metatrader/GBPNZD240.csv.gz")
    (bad,) = [p for p in report.errors if p.check == "nonpositive"]
    assert bad.time == pd.Timestamp("2010-10-08 04:00", tz="UTC")
    assert bad.line == 1559 and "low" in bad.detail
    assert "GBPNZD240.csv.gz:1559" in bad.describe(report.source)


def test_generic_eurusd_trailing_zero_rows() -> None:
    _parsed, report = check("generic/EURUSD_H1.csv.gz")
    zeros = [p for p in report.errors if p.check == "nonpositive"]
    assert len(zeros) == 63
    assert zeros[0].time == pd.Timestamp("2020-12-29 09:00", tz="UTC")
    assert [p.line for p in zeros] == list(range(50002, 50065))
    assert all(p.detail == "all prices are zero" for p in zeros)


def test_histdata_missing_minutes_are_reported() -> None:
    parsed, report = check("histdata/DAT_ASCII_EURUSD_M1_201701.csv.gz")
    missing = [p for p in report.warnings if p.check == "missing"]
    assert missing, "minutes without ticks must be found"
    assert report.ok  # short runs of missing minutes are normal: a warning, not a refusal
    # each reported gap really is one: the bar before is more than a minute earlier
    idx = parsed.frame.index
    for p in missing:
        assert idx[p.row] - idx[p.row - 1] > pd.Timedelta(minutes=1)


def test_dukascopy_flat_weekend_bars() -> None:
    parsed, report = check("dukascopy/EURUSD_Candlestick_1_D_BID_15.12.2017-15.12.2020.csv.gz")
    weekend = [p for p in report.errors if p.check == "weekend"]
    flat = [p for p in report.errors if p.check == "flat"]
    saturdays = (parsed.frame.index.day_of_week == 5).sum()
    assert len(weekend) == saturdays == 157
    assert all(p.time is not None and p.time.day_of_week == 5 for p in weekend)
    # the one flat Sunday (New Year's Eve 2017) has no volume: a filler bar
    assert [p.time for p in flat] == [pd.Timestamp("2017-12-31", tz="UTC")]


def test_yahoo_ohlc_violations() -> None:
    parsed, report = check("yahoo/EURUSD=X.csv.gz")
    ohlc = [p for p in report.errors if p.check == "ohlc"]
    share = len(ohlc) / len(parsed.frame)
    assert 0.02 <= share <= 0.05
    f = parsed.frame
    for p in ohlc:
        o, h, lo, c = f.iloc[p.row][["open", "high", "low", "close"]]
        assert h < max(o, c) or lo > min(o, c)


def test_snb_depeg_is_a_real_move_imported_unchanged(store) -> None:  # type: ignore[no-untyped-def]
    """2015-01-15: USDCHF closes -16 %, low 0.726; the bar opens at the old level and trades the
    path down, the next days stay there: real, kept by import and by --repair, listed as extreme."""
    from noxfx.data.importer import import_files

    day = pd.Timestamp("2015-01-15", tz="UTC")
    parsed, report = check("metatrader/USDCHF1440.csv.gz")
    assert report.ok, report.lines()
    (move,) = [p for p in report.warnings if p.check == "extreme"]
    assert move.time == day and "extreme move" in move.detail and "-16.20%" in move.detail
    fixed, _ = repair(parsed.frame, parsed.timeframe, report)
    assert day in fixed.index
    (res,) = import_files(store, [shared("metatrader/USDCHF1440.csv.gz")], repair_defects=True)
    stored = store.read("USDCHF", "1d")
    row = stored.loc[day]
    assert (row["low"], row["close"]) == (0.72627, 0.85395)
    assert len(stored) == len(parsed.frame)
    assert res.report.counts() == {"extreme": 1}


@pytest.mark.parametrize(
    ("rel", "times"),
    [
        ("metatrader/USDJPY240.csv.gz", ["2022-09-22 08:00", "2022-10-21 12:00"]),
        ("mt5/USDJPY_H4.csv.gz", ["2022-10-21 13:00"]),
    ],
)
def test_yen_interventions_of_2022_are_real(rel: str, times: list[str]) -> None:
    parsed, report = check(rel)
    assert report.ok, report.lines()
    extreme = {p.time for p in report.warnings if p.check == "extreme"}
    assert {pd.Timestamp(t, tz="UTC") for t in times} <= extreme
    fixed, _ = repair(parsed.frame, parsed.timeframe, report)
    assert len(fixed) == len(parsed.frame)


def test_weekly_reopening_gaps_are_real_on_intraday_files() -> None:
    """EURUSD 1h 2017-04-23 21:00 (French election weekend) opens 1.8 % above Friday: real."""
    _, report = check("generic/EURUSD_H1.csv.gz")
    extreme = {p.time for p in report.warnings if p.check == "extreme"}
    assert pd.Timestamp("2017-04-23 21:00", tz="UTC") in extreme
    assert not [p for p in report.errors if p.check == "spike"]


def test_usdtry_bad_ticks_over_ten_percent() -> None:
    parsed, report = check("yahoo/USDTRY=X.csv.gz")
    spikes = [p for p in report.errors if p.check == "spike"]
    closes = parsed.frame["close"]
    jumps = np.abs(closes.pct_change()) > 0.10
    jump_times = set(closes.index[jumps.to_numpy()])
    found = {p.time for p in spikes}
    assert jump_times and jump_times <= found
    # each is caught for a reason the bars show, not for its size
    assert all(":" in p.detail.split("robust z")[1] for p in spikes)
    fixed, _ = repair(parsed.frame, parsed.timeframe, report)
    assert not (jump_times & set(fixed.index))


@pytest.mark.parametrize(
    "rel",
    ["metatrader/EURUSD1440.csv.gz", "metatrader/USDJPY1440.csv.gz", "metatrader/EURUSD240.csv.gz",
     "mt5/USDJPY_D1.csv.gz", "mt5/USDJPY_H4.csv.gz", "generic/GBPUSD_H1.csv.gz"],
)  # fmt: skip
def test_clean_files_pass(rel: str) -> None:
    """No false alarms on real, clean data: Brexit, March 2020 and the 2022 GBP crash are real."""
    _, report = check(rel)
    assert report.ok, report.lines()


def test_duplicates_and_unsorted_rows_are_found_and_repaired(eurusd_h1: pd.DataFrame) -> None:
    bars = eurusd_h1.iloc[:500].copy()
    bars["line"] = np.arange(2, 502)
    shuffled = pd.concat([bars.iloc[:100], bars.iloc[[250]], bars.iloc[100:300]])
    shuffled = pd.concat([shuffled.iloc[:10], shuffled.iloc[[20]], shuffled.iloc[10:]])
    tf = parse_timeframe("1h")
    report = validate(shuffled, tf, source="t.csv")
    counts = report.counts()
    assert counts["duplicate"] == 2 and counts["unsorted"] >= 1
    fixed, actions = repair(shuffled, tf, report)
    assert fixed.index.is_monotonic_increasing and fixed.index.is_unique
    assert validate(fixed, tf).ok
    assert any(a.startswith("duplicate") for a in actions)
    pd.testing.assert_frame_equal(fixed, bars.iloc[:300])


def test_repair_fixes_every_refused_shared_file() -> None:
    for rel in ["generic/EURUSD_H1.csv.gz", "metatrader/GBPNZD240.csv.gz",
                "dukascopy/EURUSD_Candlestick_1_D_BID_15.12.2017-15.12.2020.csv.gz",
                "yahoo/EURUSD=X.csv.gz", "yahoo/USDTRY=X.csv.gz"]:  # fmt: skip
        parsed, report = check(rel)
        assert not report.ok
        fixed, actions = repair(parsed.frame, parsed.timeframe, report)
        after = validate(fixed, parsed.timeframe)
        assert {p.check for p in after.errors} <= {"gap", "spike"}, (rel, after.lines())
        assert actions
        prices = fixed[["open", "high", "low", "close"]]
        assert (prices > 0).all().all()
        assert (fixed["high"] >= prices.max(axis=1)).all()
        assert (fixed["low"] <= prices.min(axis=1)).all()


def test_report_is_limited_to_twenty_lines_then_counts() -> None:
    _, report = check("dukascopy/EURUSD_Candlestick_1_D_BID_15.12.2017-15.12.2020.csv.gz")
    lines = report.lines(limit=20)
    assert lines[20] == "... and 138 more"
    assert "weekend: 157" in lines[21] and "flat: 1" in lines[21]
