"""``noxfx ml ...`` as a user runs it: real processes, real EURUSD H1 bars, a temporary NOX_HOME
and a temporary, empty working directory.

The bars are a small fixture cut from ``../shared/data/generic/EURUSD_H1.csv.gz`` (its last
6,000 non-zero rows, same format), passed with ``--file``; two walk-forward folds keep it quick.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import shared

N_BARS = 6000
FOLDS = "2"


def noxfx(
    *args: str, home: Path, cwd: Path, columns: int = 200
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "NOX_DEBUG"}
    env.update({"NOX_HOME": str(home), "COLUMNS": str(columns)})
    return subprocess.run(
        [sys.executable, "-m", "noxfx", *args], capture_output=True, text=True, env=env,
        cwd=cwd, timeout=600,
    )  # fmt: skip


@pytest.fixture(scope="module")
def bars_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The last N_BARS real EURUSD H1 rows (all-zero rows dropped), header kept."""
    with gzip.open(shared("generic/EURUSD_H1.csv.gz"), "rt") as fh:
        header, *lines = fh.read().splitlines()
    rows = [ln for ln in lines if float(ln.split(",")[4]) > 0][-N_BARS:]
    path = tmp_path_factory.mktemp("bars") / "EURUSD_H1_tail.csv"
    path.write_text("\n".join([header, *rows]) + "\n")
    return path


@pytest.fixture
def cwd(tmp_path: Path) -> Path:
    path = tmp_path / "cwd"
    path.mkdir()
    return path


@pytest.fixture(scope="module")
def trained(bars_file: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    """``ml train EURUSD`` once (pair as the first argument): (home, cwd, stdout+stderr)."""
    home = tmp_path_factory.mktemp("home")
    cwd = tmp_path_factory.mktemp("cwd")
    out = noxfx("ml", "train", "EURUSD", "--file", str(bars_file), "--folds", FOLDS,
                home=home, cwd=cwd)  # fmt: skip
    assert out.returncode == 0, out.stderr
    return home, cwd, out.stdout + "\n@@stderr@@\n" + out.stderr


def test_evaluate_writes_nothing_into_the_working_directory(
    bars_file: Path, cwd: Path, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    out = noxfx("ml", "evaluate", "EURUSD", "--file", str(bars_file), "--folds", FOLDS,
                home=home, cwd=cwd)  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert list(cwd.iterdir()) == []
    report = home / "reports" / "ml-evaluation-EURUSD-1h-lightgbm.json"
    assert f"report written to {report}" in out.stdout
    data = json.loads(report.read_text())
    assert data["n_bars"] == N_BARS and len(data["sides"]["long"]["folds"]) == int(FOLDS)
    # --out is honoured, and only that file is written
    target = tmp_path / "elsewhere" / "r.json"
    out = noxfx("ml", "evaluate", "--symbol", "EURUSD", "--file", str(bars_file), "--folds",
                FOLDS, "--out", str(target), "--json", home=home, cwd=cwd)  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert list(cwd.iterdir()) == []
    assert json.loads(target.read_text())["sides"] == json.loads(out.stdout)["sides"]


def test_evaluate_table_states_each_fold_ece_and_the_verdict(
    bars_file: Path, cwd: Path, tmp_path: Path
) -> None:
    out = noxfx("ml", "evaluate", "EURUSD", "--file", str(bars_file), "--folds", FOLDS,
                "--out", str(tmp_path / "r.json"), home=tmp_path / "home", cwd=cwd)  # fmt: skip
    assert out.returncode == 0, out.stderr
    report = json.loads((tmp_path / "r.json").read_text())
    for k in range(1, int(FOLDS) + 1):
        assert f"ECE fold {k} (chance alone, 95 %)" in out.stdout
        fold = report["sides"]["short"]["folds"][k - 1]
        assert f"{fold['ece']:.4f} ({fold['ece_noise_p95']:.4f})" in out.stdout
    assert "ECE worst fold" in out.stdout and "ECE, pooled" in out.stdout
    cal = report["sides"]["long"]["calibration"]
    assert f"{cal['ece_worst_fold']:.4f} (fold {cal['worst_fold']})" in out.stdout
    assert out.stdout.strip().splitlines()[-1] == report["verdict"]["line"]


def test_train_shows_fold_progress_on_stderr_and_ends_with_a_verdict(
    trained: tuple[Path, Path, str],
) -> None:
    home, cwd, text = trained
    stdout, stderr = text.split("\n@@stderr@@\n")
    for side in ("long", "short"):
        assert re.search(rf"walk-forward {side} folds .* {FOLDS}/{FOLDS}", stderr)
    assert "final fit" in stderr and "folds ━" not in stdout
    last = stdout.strip().splitlines()[-1]
    assert last.startswith("verdict: ") and "over the base rate" in last
    for what in ("Brier skill", "AUC", "ECE worst fold"):
        assert what in last
    meta = next((home / "models").rglob("meta.json"))
    assert json.loads(meta.read_text())["metrics"]["verdict"] == last
    assert list(cwd.iterdir()) == []


def test_train_json_stdout_is_pure_json(bars_file: Path, cwd: Path, tmp_path: Path) -> None:
    out = noxfx("ml", "train", "--symbol", "EURUSD", "--file", str(bars_file), "--folds", FOLDS,
                "--json", home=tmp_path / "home", cwd=cwd)  # fmt: skip
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)  # progress bars went to stderr
    assert data["metrics"]["verdict"].startswith("verdict: ")
    assert "walk-forward long folds" in out.stderr
    cal = data["metrics"]["sides"]["long"]["calibration"]
    assert len(cal["ece_folds"]) == int(FOLDS)


def test_pair_is_the_first_argument_with_symbol_as_alias(
    trained: tuple[Path, Path, str], cwd: Path
) -> None:
    home, _, _ = trained
    by_arg = noxfx("ml", "models", "EURUSD", "--json", home=home, cwd=cwd)
    by_opt = noxfx("ml", "models", "--symbol", "EURUSD", "--json", home=home, cwd=cwd)
    assert by_arg.returncode == 0 and by_opt.returncode == 0, by_arg.stderr + by_opt.stderr
    assert json.loads(by_arg.stdout) == json.loads(by_opt.stdout) != []
    for cmd in (
        "train",
        "evaluate",
        "leak-check",
        "predict",
        "retrain",
        "drift",
        "rollback",
        "promote",
    ):
        help_text = noxfx("ml", cmd, "--help", home=home, cwd=cwd).stdout
        assert "PAIR" in help_text and "--symbol" in help_text, cmd
    clash = noxfx("ml", "train", "EURUSD", "--symbol", "GBPUSD", home=home, cwd=cwd)
    assert clash.returncode != 0 and "two pairs given" in clash.stderr
    missing = noxfx("ml", "evaluate", home=home, cwd=cwd)
    assert missing.returncode != 0 and "give the pair" in missing.stderr


def test_models_table_fits_80_columns_and_keeps_names_whole(
    trained: tuple[Path, Path, str], cwd: Path
) -> None:
    home, _, _ = trained
    rows = json.loads(noxfx("ml", "models", "--json", home=home, cwd=cwd).stdout)
    out = noxfx("ml", "models", home=home, cwd=cwd, columns=80)
    assert out.returncode == 0, out.stderr
    assert max(len(line) for line in out.stdout.splitlines()) <= 80
    assert "…" not in out.stdout
    for row in rows:
        for key in ("symbol", "version", "target", "model"):
            assert str(row[key]) in out.stdout


def test_leak_check_passes_the_production_pipeline(
    bars_file: Path, cwd: Path, tmp_path: Path
) -> None:
    out = noxfx("ml", "leak-check", "EURUSD", "--file", str(bars_file), "--folds", FOLDS,
                "--json", home=tmp_path / "home", cwd=cwd)  # fmt: skip
    assert out.returncode == 0, out.stdout + out.stderr
    report = json.loads(out.stdout)
    assert report["passed"] and report["failed"] == []
    names = [p["name"] for p in report["probes"]]
    assert names == ["permuted_labels", "test_labels_unused", "shuffled_bars"]
    assert list(cwd.iterdir()) == []
