"""``noxfx indicators list|compute`` in-process, against a temporary store of real bars."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from noxfx.cli import main


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run ``noxfx *args`` like the console script; return (exit code, stdout, stderr)."""
    with pytest.raises(SystemExit) as exit_info:
        main(list(args))
    out = capsys.readouterr()
    code = exit_info.value.code
    return (code if isinstance(code, int) else 0), out.out, out.err


@pytest.fixture
def stored(nox_home: Path, eurusd_h1: pd.DataFrame) -> pd.DataFrame:
    """The last 3,000 real EURUSD H1 bars, written to the default store of a temp NOX_HOME."""
    from noxfx.data.store import BarStore

    bars = eurusd_h1.iloc[-3000:]
    BarStore.default().write("EURUSD", "1h", bars, source="test")
    return BarStore.default().read("EURUSD", "1h")


def test_list_json_describes_every_indicator(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "indicators", "list", "--json")
    assert code == 0
    rows = json.loads(out)
    assert len([r for r in rows if r["category"] != "pattern"]) >= 60
    macd = next(r for r in rows if r["name"] == "macd")
    assert macd["outputs"] == ["macd_12_26_9", "macd_12_26_9_signal", "macd_12_26_9_hist"]
    assert [p["name"] for p in macd["parameters"]] == ["fast", "slow", "signal"]
    assert {"name", "category", "description", "parameters", "outputs"} <= set(macd)


def test_list_category_table(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "indicators", "list", "--category", "momentum")
    assert code == 0
    assert "rsi_14" in out and "atr_14" not in out
    code, _, err = run(capsys, "indicators", "list", "--category", "sideways")
    assert code == 2 and err.startswith("error: unknown category 'sideways'")


def test_compute_csv_equals_the_library(
    capsys: pytest.CaptureFixture[str], stored: pd.DataFrame
) -> None:
    from noxfx.analysis.indicators import compute

    code, out, err = run(
        capsys, "indicators", "compute", "EURUSD", "-t", "1h", "-i", "rsi:14",
        "--indicator", "bbands:20,2", "-i", "supertrend", "--last", "5", "--csv",
    )  # fmt: skip
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == 5
    assert list(rows[0]) == [
        "time", "close", "rsi_14", "bbands_20_2_upper", "bbands_20_2_middle",
        "bbands_20_2_lower", "supertrend_10_3", "supertrend_10_3_direction",
    ]  # fmt: skip
    expected = compute(stored, ["rsi:14", "bbands:20,2", "supertrend"]).tail(5)
    np.testing.assert_allclose([float(r["rsi_14"]) for r in rows], expected["rsi_14"], rtol=1e-9)
    assert rows[-1]["time"] == stored.index[-1].strftime("%Y-%m-%dT%H:%M:%SZ")


def test_compute_json_has_null_warmup(
    capsys: pytest.CaptureFixture[str], stored: pd.DataFrame
) -> None:
    code, out, _ = run(capsys, "indicators", "compute", "EURUSD", "-i", "ichimoku", "--json")
    assert code == 0
    records = json.loads(out)
    assert len(records) == len(stored)
    assert records[0]["ichimoku_9_26_52_span_b"] is None
    assert records[-1]["ichimoku_9_26_52_chikou"] == records[-1]["close"]


def test_compute_table_defaults_to_20_rows(
    capsys: pytest.CaptureFixture[str], stored: pd.DataFrame
) -> None:
    code, out, _ = run(capsys, "indicators", "compute", "EURUSD", "-i", "RSI(7)")
    assert code == 0
    assert "rsi_7" in out and "20 bars" in out


def test_compute_errors_are_one_line(
    capsys: pytest.CaptureFixture[str], stored: pd.DataFrame
) -> None:
    code, out, err = run(capsys, "indicators", "compute", "EURUSD", "-i", "rsx")
    assert (code, out) == (2, "")
    assert err == (
        "error: unknown indicator 'rsx'. Did you mean rsi? "
        "See `noxfx indicators list` for the catalogue.\n"
    )
    code, _, err = run(capsys, "indicators", "compute", "EURUSD", "-i", "macd:12,26,9,4")
    assert code == 2 and "macd takes (fast: int 2..100000, default 12;" in err
    code, _, err = run(capsys, "indicators", "compute", "EURUSD", "-i", "sma:5000")
    assert (
        code == 4 and err == "error: sma_5000 needs at least 5000 bars (warm-up 4999); got 3000\n"
    )
