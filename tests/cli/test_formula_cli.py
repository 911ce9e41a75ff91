"""``noxfx formula eval`` of a condition: how often it was true and when last, on real bars."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from noxfx.data.store import BarStore
from noxfx.instruments import get_instrument


def noxfx(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "NOX_DEBUG"}
    env.update({"NOX_HOME": str(home), "COLUMNS": "120"})
    return subprocess.run(
        [sys.executable, "-m", "noxfx", *args], capture_output=True, text=True, env=env,
        cwd=home, timeout=300,
    )  # fmt: skip


@pytest.fixture(scope="module")
def stored(
    tmp_path_factory: pytest.TempPathFactory, eurusd_h1: pd.DataFrame
) -> tuple[Path, pd.DataFrame]:
    """A NOX_HOME holding the last 3,000 real EURUSD H1 bars."""
    home = tmp_path_factory.mktemp("home")
    bars = eurusd_h1.iloc[-3000:]
    BarStore(home / "bars").write("EURUSD", "1h", bars)
    return home, bars


def test_condition_prints_count_percent_and_last_time(stored: tuple[Path, pd.DataFrame]) -> None:
    home, bars = stored
    out = noxfx("formula", "eval", "EURUSD", "-f", "close > open", "-n", "5", home=home)
    assert out.returncode == 0, out.stderr
    up = bars["close"] > bars["open"]  # the same condition, computed here directly
    n, total = int(up.sum()), len(bars)
    last = bars.index[up.to_numpy()][-1]
    line = out.stdout.strip().splitlines()[-1]
    assert line == (
        f"condition: true on {n:,} of {total:,} bars ({100 * n / total:.2f} %), "
        f"last at {last:%Y-%m-%d %H:%M} UTC (bar open)"
    )


def test_each_condition_of_several_statements_is_summarised(
    stored: tuple[Path, pd.DataFrame],
) -> None:
    home, bars = stored
    never = float(bars["high"].max()) * 2
    formula = f"up = close > open; r = close - open; high_up = high > {never}"
    out = noxfx("formula", "eval", "EURUSD", "-f", formula, home=home)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.strip().splitlines()
    n_up = int((bars["close"] > bars["open"]).sum())
    assert any(ln.startswith(f"up: true on {n_up:,} of {len(bars):,} bars") for ln in lines)
    assert f"high_up: true on 0 of {len(bars):,} bars (0.00 %), never" in lines
    assert not any(ln.startswith("r: ") for ln in lines)  # a number is not a condition


def test_json_output_stays_records_and_prices_keep_their_precision(
    stored: tuple[Path, pd.DataFrame],
) -> None:
    home, bars = stored
    out = noxfx("formula", "eval", "EURUSD", "-f", "close > open", "-n", "3", "--json", home=home)
    assert out.returncode == 0, out.stderr
    records = json.loads(out.stdout)
    assert [r["close"] for r in records] == list(bars["close"].iloc[-3:])  # full precision
    table = noxfx("formula", "eval", "EURUSD", "-f", "close > open", "-n", "10", home=home)
    digits = get_instrument("EURUSD").precision
    shown = re.findall(r"│\s+(\d+\.\d+)\s+│", table.stdout)
    assert shown == [f"{c:.{digits}f}" for c in bars["close"].iloc[-10:]]


def test_condition_summary_gives_a_percent(stored: tuple[Path, pd.DataFrame]) -> None:
    from noxfx.cli.formula import condition_summary

    _, bars = stored
    frame = pd.DataFrame({"up": bars["close"] > bars["open"], "r": bars["close"] - bars["open"]})
    [row] = condition_summary(frame)
    assert row["name"] == "up" and row["n_bars"] == len(bars)
    assert row["true_pct"] == pytest.approx(100.0 * row["n_true"] / len(bars))
    assert 1.0 < row["true_pct"] <= 100.0  # a percent, not a fraction
    assert row["last_true_utc"] == bars.index[frame["up"].to_numpy()][-1]
