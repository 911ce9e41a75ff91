"""Costs and conversions a trader sets from the command line: every cost named, crosses on any
account from the stored pairs, the pair as the first argument (issue 13)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.test_cli import noxfx
from tests.conftest import shared


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("costs") / "home"
    for f in ("USDCHF1440", "EURUSD1440", "GBPNZD240"):
        out = noxfx("data", "import", str(shared(f"metatrader/{f}.csv.gz")), "--repair",
                    home=home)  # fmt: skip
        assert out.returncode == 0, out.stderr
    assert noxfx("data", "bootstrap", home=home).returncode == 0
    return home


def test_a_cross_backtests_on_a_third_currency_account(home: Path) -> None:
    out = noxfx("backtest", "USDCHF", "-S", "sma_cross", "-t", "1d", "--account-currency",
                "EUR", "--json", home=home)  # fmt: skip
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["symbol"] == "USDCHF" and doc["metrics"]["trades"] > 0
    assert doc["costs"]["conversion"].startswith("CHF->EUR from stored pairs")
    # the same through --symbol, and optimize takes the pair first too
    alias = noxfx("backtest", "--symbol", "USDCHF", "-S", "sma_cross", "-t", "1d",
                  "--account-currency", "EUR", "--json", home=home)  # fmt: skip
    assert json.loads(alias.stdout)["metrics"] == doc["metrics"]
    opt = noxfx("optimize", "USDCHF", "-S", "sma_cross", "-t", "1d", "--account-currency", "EUR",
                "-p", "fast=5:15:5", "-p", "slow=30:50:10", "--json", home=home)  # fmt: skip
    assert opt.returncode == 0, opt.stderr


def test_a_cross_without_its_conversion_pair_says_which_to_import(home: Path) -> None:
    out = noxfx("backtest", "GBPNZD", "-S", "sma_cross", "-t", "4h", home=home)
    assert out.returncode != 0
    assert len(out.stderr.strip().splitlines()) == 1 and "import NZDUSD" in out.stderr
    assert "conversion=" not in out.stderr.split("import NZDUSD")[0]


def test_the_cost_footer_names_every_cost_and_swaps_are_charged(home: Path) -> None:
    plain = noxfx("backtest", "EURUSD", "-S", "sma_cross", home=home)
    assert plain.returncode == 0, plain.stderr
    footer = next(line for line in plain.stdout.splitlines() if line.startswith("Costs"))
    for cost in ("spread", "commission", "slippage", "swap"):
        assert cost in footer
    base = json.loads(noxfx("backtest", "EURUSD", "-S", "sma_cross", "--json", home=home).stdout)
    swapped = json.loads(noxfx("backtest", "EURUSD", "-S", "sma_cross", "--swap-long", "-8",
                               "--swap-short", "-8", "--json", home=home).stdout)  # fmt: skip
    assert base["metrics"]["swap"] == 0 and swapped["metrics"]["swap"] < 0
    assert swapped["costs"]["swap"].startswith("long -8, short -8")


def test_two_different_pairs_are_refused(home: Path) -> None:
    out = noxfx("backtest", "EURUSD", "--symbol", "GBPUSD", "-S", "sma_cross", home=home)
    assert out.returncode != 0 and "Two pairs" in out.stderr


def test_plan_takes_commission_leverage_and_spread(home: Path) -> None:
    bare = json.loads(noxfx("plan", "EURUSD", "--json", home=home).stdout)
    assert any("commission" in m for m in bare["missing_inputs"])
    out = noxfx("plan", "EURUSD", "--commission", "3.5", "--leverage", "50", "--spread", "1.2",
                "--json", home=home)  # fmt: skip
    assert out.returncode == 0, out.stderr
    plan = json.loads(out.stdout)
    assert plan["quote"]["spread_pips"] == 1.2 and plan["position"]["leverage"] == 50
    assert not any("commission" in m for m in plan["missing_inputs"])
    assert plan["cost_r"] == pytest.approx(
        2 * 3.5 / plan["position"]["pip_value"] / plan["stop"]["pips"]
    )
