"""The ``noxfx`` command as a user runs it: real processes, real files, a temporary NOX_HOME."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import shared


def noxfx(
    *args: str, home: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if k != "NOX_DEBUG"}
    full_env.update({"NOX_HOME": str(home), "COLUMNS": "200", **(env or {})})
    return subprocess.run(
        [sys.executable, "-m", "noxfx", *args], capture_output=True, text=True, env=full_env,
        timeout=120,
    )  # fmt: skip


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


def test_help_lists_every_command(home: Path) -> None:
    out = noxfx("--help", home=home)
    assert out.returncode == 0
    for cmd in ("instruments", "timeframes", "run", "data", "indicators", "formula", "analyze",
                "plan", "scan", "risk", "backtest", "optimize", "strategies", "ml", "serve",
                "worker", "providers", "quote", "patterns"):  # fmt: skip
        assert cmd in out.stdout
    data = noxfx("data", "--help", home=home)
    for cmd in ("import", "list", "show", "validate", "bootstrap"):
        assert cmd in data.stdout


def test_help_does_not_import_heavy_libraries() -> None:
    code = ("import sys; from noxfx.cli import app; "
            "heavy = [m for m in ('pandas', 'pyarrow', 'numba', 'talib') if m in sys.modules]; "
            "print(','.join(heavy))")  # fmt: skip
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_version(home: Path) -> None:
    from noxfx import __version__

    out = noxfx("--version", home=home)
    assert out.returncode == 0 and out.stdout.strip() == f"noxfx {__version__}"


def test_instruments_json(home: Path) -> None:
    out = noxfx("instruments", "--json", home=home)
    items = json.loads(out.stdout)
    assert len(items) >= 52
    eurusd = next(i for i in items if i["symbol"] == "EURUSD")
    assert eurusd["pip_size"] == 0.0001 and eurusd["pip_value_per_lot_quote"] == 10.0


def test_unknown_symbol_is_one_line_on_stderr(home: Path) -> None:
    out = noxfx("data", "show", "EURUSDD", home=home)
    assert out.returncode == 2
    assert out.stderr == "error: Unknown instrument 'EURUSDD'. Did you mean EURUSD?\n"
    assert out.stdout == ""


def test_debug_shows_the_traceback(home: Path) -> None:
    out = noxfx("data", "show", "EURUSDD", home=home, env={"NOX_DEBUG": "1"})
    assert out.returncode != 0 and "Traceback" in out.stderr


def test_import_refused_then_repaired(home: Path) -> None:
    src = str(shared("metatrader/GBPNZD240.csv.gz"))
    refused = noxfx("data", "import", src, home=home)
    assert refused.returncode == 3
    assert "Traceback" not in refused.stderr
    assert refused.stderr.strip().splitlines()[-1].startswith("error: Refused GBPNZD240.csv.gz")
    assert "GBPNZD240.csv.gz:1559: 2010-10-08 04:00Z nonpositive" in refused.stdout
    listed = noxfx("data", "list", "--json", home=home)
    assert json.loads(listed.stdout) == []  # nothing was written

    repaired = noxfx("data", "import", src, "--repair", "--json", home=home)
    assert repaired.returncode == 0, repaired.stderr
    (file_result,) = json.loads(repaired.stdout)["files"]
    assert file_result["validation"]["repairs"] == ["nonpositive: dropped 1 row(s)"]
    listed = json.loads(noxfx("data", "list", "--json", home=home).stdout)
    assert listed[0]["symbol"] == "GBPNZD" and listed[0]["bars"] == file_result["rows_read"] - 1
    assert listed[0]["origin"] == "native"
    derived = {d["timeframe"]: d["derived_from"] for d in listed if d["origin"] == "derived"}
    assert derived == {"1d": ["4h"], "1w": ["4h"]}
    table = noxfx("data", "list", home=home).stdout
    assert "native" in table and "from 4h" in table


def test_import_json_refusal_keeps_stdout_parseable(home: Path) -> None:
    out = noxfx("data", "import", str(shared("yahoo/USDTRY=X.csv.gz")), "--json", home=home)
    assert out.returncode == 3
    body = json.loads(out.stdout)
    assert body["written"] is False
    counts = body["files"][0]["validation"]["counts"]
    assert counts["ohlc"] > 0 and counts["spike"] >= 4
    assert len(body["files"][0]["validation"]["problems"]) <= 20


def test_show_csv_and_json_and_validate(home: Path) -> None:
    assert noxfx("data", "import", str(shared("mt5/USDJPY_D1.csv.gz")), home=home).returncode == 0
    out = noxfx("data", "show", "USDJPY", "-t", "1d", "--start", "2020-01-01", "--end",
                "2020-01-10", "--csv", home=home)  # fmt: skip
    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    assert rows[0]["time"] == "2020-01-01T22:00:00Z"  # 17:00 New York, winter
    assert set(rows[0]) >= {"open", "high", "low", "close", "volume"}
    js = json.loads(noxfx("data", "show", "USDJPY", "-t", "1w", "--json", "--last", "3",
                          home=home).stdout)  # fmt: skip
    assert len(js) == 3 and js[-1]["time"].endswith("+00:00")
    val = noxfx("data", "validate", "USDJPY", "-t", "1d", "--json", home=home)
    assert val.returncode == 0 and json.loads(val.stdout)["ok"] is True


def test_bad_option_values_are_clear(home: Path) -> None:
    out = noxfx("data", "show", "EURUSD", "-t", "7h", home=home)
    assert out.returncode == 2 and out.stderr.startswith("error: Unknown timeframe '7h'")
    out = noxfx("data", "show", "EURUSD", "--start", "yesterday-ish", home=home)
    assert out.returncode != 0 and "Traceback" not in out.stderr
    out = noxfx("data", "import", "/no/such/file.csv", home=home)
    assert out.returncode == 2 and out.stderr == "error: No such file: /no/such/file.csv\n"


def test_run_bootstraps_and_summarises(home: Path) -> None:
    out = noxfx("run", "--json", "--no-serve", home=home)
    assert out.returncode == 0, out.stderr
    body = json.loads(out.stdout)
    assert body["bootstrapped"] and body["plan"]["symbol"] == "EURUSD"
    assert body["plan"]["timeframe"] == "1h"
    again = json.loads(noxfx("run", "--json", "--no-serve", home=home).stdout)
    assert again["bootstrapped"] == []


def test_scan_ranks_by_expected_value_and_plan_takes_swap_rates(home: Path) -> None:
    assert noxfx("data", "bootstrap", home=home).returncode == 0
    out = noxfx("scan", "--all", "--json", home=home)
    assert out.returncode == 0, out.stderr
    body = json.loads(out.stdout)
    assert {r["symbol"] for r in body["plans"]} == {"EURUSD", "GBPUSD"}
    assert [e["symbol"] for e in body["errors"]] == ["USDJPY"]  # no 1h bars in the sample
    evs = [r["ev_r"] for r in body["plans"]]
    assert evs == sorted(evs, reverse=True)
    plan = json.loads(noxfx("plan", "EURUSD", "--swap-long", "-7", "--swap-short", "-7",
                            "--json", home=home).stdout)  # fmt: skip
    assert plan["swap_r"] < 0 and not any("swap" in m for m in plan["missing_inputs"])


def test_patterns_history_json(home: Path) -> None:
    assert noxfx("data", "bootstrap", home=home).returncode == 0
    out = noxfx("patterns", "USDJPY", "-t", "4h", "--json", home=home)
    assert out.returncode == 0, out.stderr
    body = json.loads(out.stdout)
    assert body["symbol"] == "USDJPY" and body["horizon_bars"] == 100
    trades = [row["trades"] for row in body["patterns"]]
    assert trades == sorted(trades, reverse=True) and trades[0] > 0
    assert all(row["low"] <= row["mean_r"] <= row["high"] for row in body["patterns"]
               if row["trades"] > 1)  # fmt: skip
    bad = noxfx("patterns", "EURCHF", home=home)
    assert bad.returncode != 0 and len(bad.stderr.strip().splitlines()) == 1


def test_risk_size_json(home: Path) -> None:
    out = noxfx("risk", "size", "-s", "EURUSD", "-b", "10000", "--stop-pips", "25", "--json",
                home=home)  # fmt: skip
    assert out.returncode == 0, out.stderr
    body = json.loads(out.stdout)
    assert body["lots"] == 0.4 and body["pip_value"] == 10.0 and body["risk_amount"] == 100.0
    bad = noxfx("risk", "size", "-s", "EURUSD", "-b", "10000", "--stop-pips", "0", home=home)
    assert bad.returncode == 2 and bad.stderr.startswith("error: The stop distance")
