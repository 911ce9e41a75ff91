"""The pair is the first argument of every one-pair command; several pairs are arguments too."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.test_cli import noxfx


def test_scan_takes_pairs_as_arguments_and_symbols_as_alias(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert noxfx("data", "bootstrap", home=home).returncode == 0
    out = noxfx("scan", "EURUSD", "GBPUSD", "--json", home=home)
    assert out.returncode == 0, out.stderr
    alias = noxfx("scan", "--symbols", "EURUSD,GBPUSD", "--json", home=home)
    assert json.loads(out.stdout) == json.loads(alias.stdout)
    assert {r["symbol"] for r in json.loads(out.stdout)["plans"]} == {"EURUSD", "GBPUSD"}
    none = noxfx("scan", home=home)
    assert none.returncode != 0 and "noxfx scan EURUSD GBPUSD" in none.stderr


def test_risk_size_takes_the_pair_first(tmp_path: Path) -> None:
    home = tmp_path / "home"
    first = noxfx("risk", "size", "EURUSD", "-b", "10000", "--stop-pips", "25", "--price",
                  "1.1", "--json", home=home)  # fmt: skip
    alias = noxfx("risk", "size", "-s", "EURUSD", "-b", "10000", "--stop-pips", "25", "--price",
                  "1.1", "--json", home=home)  # fmt: skip
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout) == json.loads(alias.stdout)


def test_run_takes_the_pair_first(tmp_path: Path) -> None:
    home = tmp_path / "home"
    first = noxfx("run", "GBPUSD", "--no-serve", "--json", home=home)
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["plan"]["symbol"] == "GBPUSD"
    alias = noxfx("run", "--symbol", "GBPUSD", "--no-serve", "--json", home=home)
    assert json.loads(alias.stdout)["plan"] == json.loads(first.stdout)["plan"]
