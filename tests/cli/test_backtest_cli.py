"""``noxfx backtest / optimize / strategies`` on the bundled sample of real bars.

The commands are registered on a fresh Typer app here (``noxfx.cli.backtest.register``), the
way ``noxfx.cli`` registers them, and run in-process with a temporary NOX_HOME.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
from click.testing import Result
from typer.testing import CliRunner

from noxfx.cli.backtest import register
from noxfx.data.sample import bootstrap
from noxfx.data.store import BarStore
from noxfx.errors import InvalidInput

RANGE = ("--start", "2019-01-01", "--end", "2019-12-31")
Invoke = Callable[..., Result]


@pytest.fixture(scope="module")
def sample_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("home")
    bootstrap(BarStore(home / "bars"))
    return home


@pytest.fixture
def run(sample_home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Invoke]:
    from noxfx.config import get_settings

    monkeypatch.setenv("NOX_HOME", str(sample_home))
    get_settings.cache_clear()
    invoke = _invoker()

    yield invoke
    get_settings.cache_clear()


def _invoker() -> Invoke:
    """Run the backtest commands in-process on an app registered like ``noxfx.cli`` does."""
    app = typer.Typer()

    @app.callback()
    def _root() -> None:
        """test app"""

    register(app)
    runner = CliRunner()

    def invoke(*args: str) -> Result:
        return runner.invoke(app, list(args))

    return invoke


def _ok(result: Result) -> Any:
    assert result.exit_code == 0, (result.output, result.exception)
    return json.loads(result.stdout)


def test_backtest_json_states_costs(run: Invoke, tmp_path: Path) -> None:
    report = tmp_path / "bt.html"
    out = _ok(run("backtest", "--strategy", "sma_cross", "--symbol", "EURUSD",
                  "--param", "fast=10", "--param", "slow=30", "--risk", "1", *RANGE, "--json",
                  "--report", str(report)))  # fmt: skip
    assert out["strategy"] == "sma_cross" and out["params"] == {"fast": 10, "slow": 30}
    metrics = out["metrics"]
    assert metrics["trades"] > 10 and metrics["start"].startswith("2019-01-0")
    assert "0.8 pips (typical for EURUSD" in out["costs"]["spread"]
    assert metrics["spread_cost"] > 0
    assert report.exists() and "<svg" in report.read_text()
    wider = _ok(run("backtest", "--strategy", "sma_cross", "--symbol", "EURUSD", "--spread",
                    "2", "--commission", "3.5", *RANGE, "--json"))  # fmt: skip
    assert wider["costs"]["spread"] == "2 pips (given)"
    assert wider["metrics"]["commission"] > 0


def test_backtest_table_output(run: Invoke) -> None:
    result = run("backtest", "-S", "rsi_reversion", "-s", "EURUSD", *RANGE)
    assert result.exit_code == 0, result.output
    assert "net_profit" in result.stdout and "Costs included: spread 0.8 pips" in result.stdout


def test_optimize_json_reports_trials_dsr_and_pbo(run: Invoke) -> None:
    out = _ok(run("optimize", "--strategy", "sma_cross", "--symbol", "EURUSD", "--param",
                  "fast=5:15:5", "--param", "slow=20:60:20", *RANGE, "--json"))  # fmt: skip
    assert out["n_trials"] == 9 and out["method"] == "grid" and out["objective"] == "sharpe"
    assert 0 <= out["deflated_sharpe"]["dsr"] <= 1
    assert out["deflated_sharpe"]["n_trials"] == 9
    assert out["pbo"]["n_splits"] == 12870
    assert "spread" in out["costs"]
    assert set(out["best_params"]) == {"fast", "slow"}


def test_optimize_table_and_optuna(run: Invoke) -> None:
    args = ("--method", "optuna", "--trials", "12", "--param", "stop_atr=2", "--objective",
            "net_profit")  # fmt: skip
    result = run("optimize", "-S", "ema_cross", "-s", "EURUSD", *args, *RANGE)
    assert result.exit_code == 0, result.output
    for text in ("trials run", "deflated Sharpe ratio", "PBO (CSCV)", "Top trials",
                 "Costs included"):  # fmt: skip
        assert text in result.stdout


def test_optimize_walk_forward_json(run: Invoke, tmp_path: Path) -> None:
    report = tmp_path / "wf.html"
    out = _ok(run("optimize", "-S", "sma_cross", "-s", "EURUSD", "--param", "fast=5,10",
                  "--param", "slow=30,60", "--walk-forward", "2", "--start", "2018-01-01",
                  "--end", "2019-12-31", "--json", "--report", str(report)))  # fmt: skip
    assert len(out["windows"]) == 2 and "efficiency" in out
    assert out["oos_metrics"]["trades"] > 0
    assert "Walk-forward" in report.read_text()


def test_strategies_list_and_show(run: Invoke) -> None:
    rows = _ok(run("strategies", "list", "--json"))
    assert len(rows) == 10 and {r["name"] for r in rows} >= {"london_breakout", "sma_cross"}
    show = _ok(run("strategies", "show", "macd_trend", "--json"))
    assert show["rules"]["entry_long"].startswith("cross_over(line, trigger)")
    assert show["parameters"]["fast"]["default"] == 12
    text = run("strategies", "show", "london_breakout")
    assert text.exit_code == 0 and "buffer_pips" in text.stdout


def test_errors_are_nox_errors(run: Invoke) -> None:
    bad = run("backtest", "-S", "sma_cross", "-s", "EURUSD", "--param", "fast", *RANGE)
    assert isinstance(bad.exception, InvalidInput) and "name=value" in str(bad.exception)
    bad = run("optimize", "-S", "sma_cross", "-s", "EURUSD", "--method", "annealing")
    assert isinstance(bad.exception, InvalidInput)
    bad = run("backtest", "-S", "no_such_strategy", "-s", "EURUSD")
    assert isinstance(bad.exception, InvalidInput) and "templates:" in str(bad.exception)


def test_module_import_is_light() -> None:
    heavy = "('pandas', 'numba', 'talib', 'optuna')"
    code = (f"import sys; import noxfx.cli.backtest; "
            f"print(','.join(m for m in {heavy} if m in sys.modules))")  # fmt: skip
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_intrabar_resolution_from_stored_minutes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--intrabar 1m: real minutes decide whether a 15m bar that touched both the stop and the
    target hit the stop first (without them the stop is assumed first, conservatively)."""
    from noxfx.config import get_settings
    from noxfx.data.importer import import_files

    shared = Path(__file__).resolve().parents[2].parent / "shared/data/histdata"
    if not shared.exists():
        pytest.fail(f"real test data missing: {shared}")
    home = tmp_path / "home"
    import_files(BarStore(home / "bars"), [shared])
    strategy = tmp_path / "tight.yaml"
    strategy.write_text(
        "name: tight\n"
        "entry_long: cross_over(sma(close, 5), sma(close, 20))\n"
        "entry_short: cross_under(sma(close, 5), sma(close, 20))\n"
        "exits:\n  stop: {atr: 0.6, period: 14}\n  target: {atr: 0.6, period: 14}\n"
    )
    monkeypatch.setenv("NOX_HOME", str(home))
    get_settings.cache_clear()
    invoke = _invoker()
    args = ["backtest", "--strategy", str(strategy), "--symbol", "EURUSD", "-t", "15m",
            "--json", "--trades"]  # fmt: skip
    plain = _ok(invoke(*args))
    fine = _ok(invoke(*args, "--intrabar", "1m"))
    get_settings.cache_clear()

    def wins(out: Any) -> int:
        return sum(t["exit_reason"].startswith("take_profit") for t in out["trades"])

    assert plain["metrics"]["trades"] > 50 and fine["metrics"]["trades"] > 50
    assert wins(fine) > wins(plain)  # some "stop first" bars were really target first
