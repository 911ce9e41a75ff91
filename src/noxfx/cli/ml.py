"""``noxfx ml ...``: train, evaluate, predict, the model registry and drift.

The pair is the first argument (``noxfx ml train EURUSD``; ``--symbol`` is kept as an alias).
Bars come from the bar store (``noxfx data import``) or, with ``--file``, straight from a bar file
in any supported format. Models live under ``NOX_HOME/models``, evaluation reports under
``NOX_HOME/reports`` (or ``--out``): nothing is written into the working directory unless asked.
Every number printed is out of sample and comes with its sample size; see
:mod:`noxfx.ml.validation`. Progress goes to stderr, so ``--json`` output on stdout stays clean.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from noxfx.cli._output import emit_json, print_table, stderr_console

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    import pandas as pd

    from noxfx.ml.validation import EvaluationReport

app = typer.Typer(
    help="ML predictions: train, evaluate, predict, registry, drift.", no_args_is_help=True
)

_PAIR = typer.Argument(None, help="Pair, e.g. EURUSD.", show_default=False)
_SYMBOL = typer.Option(None, "--symbol", "-s", help="Alias of the PAIR argument.")
_TF = typer.Option("1h", "--timeframe", "-t", help="Bar timeframe (1h, 4h, ...).")
_TARGET = typer.Option("triple_barrier", "--target", help="Label: triple_barrier.")
_MODEL = typer.Option("lightgbm", "--model", "-m", help="lightgbm | logreg | forest | ensemble.")
_FILE = typer.Option(None, "--file", "-f", help="Read bars from this file instead of the store.")
_JSON = typer.Option(False, "--json", help="Print JSON.")
_HORIZON = typer.Option(24, "--horizon", help="Label horizon in bars.")
_TP = typer.Option(1.0, "--tp-atr", help="Target distance in ATR(14) multiples.")
_SL = typer.Option(1.0, "--sl-atr", help="Stop distance in ATR(14) multiples.")


def _pair(arg: str | None, opt: str | None) -> str:
    """The pair given as the first argument or with ``--symbol`` (the same one if both)."""
    from noxfx.errors import InvalidInput

    if arg and opt and arg.upper() != opt.upper():
        raise InvalidInput(f"two pairs given: {arg} (argument) and {opt} (--symbol); give one")
    pair = arg or opt
    if not pair:
        raise InvalidInput("give the pair, e.g. `noxfx ml train EURUSD`")
    return pair


@contextmanager
def _fold_progress(n_folds: int, final: bool) -> Iterator[Callable[[str, int, int], None]]:
    """A rich progress display on stderr: one bar per side advancing per walk-forward fold
    (and one for the final fit); yields the callback for :func:`noxfx.ml.train_model`."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=stderr_console(), transient=False) as bar:
        tasks = {
            side: bar.add_task(f"walk-forward {side} folds", total=n_folds)
            for side in ("long", "short")
        }
        if final:
            tasks["final"] = bar.add_task("final fit", total=1)

        def update(side: str, done: int, total: int) -> None:
            if side in tasks:
                bar.update(tasks[side], completed=done, total=total)

        yield update


def _bars(symbol: str, timeframe: str, file: Path | None) -> pd.DataFrame:
    """Bars from ``file`` (rows with non-positive prices dropped) or from the store."""
    if file is None:
        from noxfx.data.store import BarStore

        return BarStore.default().read(symbol, timeframe)
    from noxfx.data.formats import read_file
    from noxfx.errors import InvalidInput
    from noxfx.timeframes import parse_timeframe

    parsed = read_file(file, symbol=symbol)
    if parsed.timeframe != parse_timeframe(timeframe):
        raise InvalidInput(f"{file} holds {parsed.timeframe} bars, not {timeframe}.")
    frame = parsed.frame.drop(columns="line")
    prices = frame[["open", "high", "low", "close"]]
    frame = frame[(prices > 0).all(axis=1)]
    frame = frame[~frame.index.duplicated(keep="last")].sort_index()
    return frame


def _labels(horizon: int, tp_atr: float, sl_atr: float) -> Any:
    from noxfx.ml.labels import BarrierConfig

    return BarrierConfig(horizon_bars=horizon, tp_atr=tp_atr, sl_atr=sl_atr)


_FOLDS = typer.Option(5, "--folds", help="Walk-forward test blocks.")

_METRIC_ROWS = (
    ("n (out of sample)", "n"),
    ("base rate", "positive_rate"),
    ("accuracy", "accuracy"),
    ("majority-class accuracy", "majority_accuracy"),
    ("balanced accuracy", "balanced_accuracy"),
    ("ROC AUC", "auc"),
    ("log loss", "log_loss"),
    ("Brier", "brier"),
    ("Brier, base rate", "brier_reference"),
    ("Brier skill", "brier_skill"),
    ("ECE, pooled", "ece"),
    ("p-value (iid)", "p_value"),
    ("n effective", "n_effective"),
    ("p-value (n effective)", "p_value_effective"),
)


def _report_table(report: EvaluationReport) -> None:
    rows = []
    for label, key in _METRIC_ROWS:
        rows.append({"metric": label, **{s: ev.overall.get(key) for s, ev in report.sides.items()}})
    n_folds = max(len(ev.folds) for ev in report.sides.values())
    for k in range(n_folds):
        rows.append(
            {
                "metric": f"ECE fold {k + 1} (chance alone, 95 %)",
                **{
                    s: f"{ev.calibration['ece_folds'][k]:.4f} "
                    f"({ev.calibration['ece_noise_p95_folds'][k]:.4f})"
                    for s, ev in report.sides.items()
                },
            }
        )
    rows.append(
        {
            "metric": "ECE worst fold",
            **{
                s: f"{ev.calibration['ece_worst_fold']:.4f} (fold {ev.calibration['worst_fold']})"
                for s, ev in report.sides.items()
            },
        }
    )
    threshold = next(iter(report.sides.values())).calibration["ece_threshold"]
    rows.append(
        {
            "metric": f"calibrated (every fold ECE < {threshold:g})",
            **{
                s: "yes"
                if ev.calibration["calibrated"]
                else f"no ({ev.calibration['n_folds_calibrated']}/{len(ev.folds)} folds)"
                for s, ev in report.sides.items()
            },
        }
    )
    for name in ("base_rate", "last_return_sign", "logreg"):
        for key in ("auc", "brier_skill", "accuracy"):
            vals = {s: ev.baselines.get(name, {}).get(key) for s, ev in report.sides.items()}
            if any(v is not None for v in vals.values()):
                rows.append({"metric": f"baseline {name}: {key}", **vals})
    for key in ("n_trades", "hit_rate", "mean_r", "mean_r_se", "total_r"):
        rows.append(
            {
                "metric": f"trades EV>0: {key}",
                **{s: ev.trades.get(key) for s, ev in report.sides.items()},
            }
        )
    title = (
        f"{report.symbol} {report.timeframe} {report.model}: walk-forward out-of-sample "
        f"from {report.test_first_utc[:10]}"
    )
    print_table(rows, title=title, columns=["metric", *report.sides], sig=4)


@app.command("train")
def train(
    pair: str | None = _PAIR,
    symbol: str | None = _SYMBOL,
    timeframe: str = _TF,
    target: str = _TARGET,
    model: str = _MODEL,
    file: Path | None = _FILE,
    horizon: int = _HORIZON,
    tp_atr: float = _TP,
    sl_atr: float = _SL,
    folds: int = _FOLDS,
    promote: bool = typer.Option(
        False, "--promote", help="Make it the champion (default: only when there is none)."
    ),
    json_out: bool = _JSON,
) -> None:
    """Evaluate (purged walk-forward), train and store a model; print its out-of-sample scores.

    A progress bar per side advances with each fold (stderr); the output ends with a one-line
    verdict: skill or no skill over the base rate, with Brier skill, AUC and the worst fold's ECE
    (rule: :func:`noxfx.ml.validation.skill_verdict`).
    """
    from noxfx.ml.registry import ModelRegistry
    from noxfx.ml.training import train_model
    from noxfx.ml.validation import WalkForwardConfig

    symbol = _pair(pair, symbol)
    bars = _bars(symbol, timeframe, file)
    stderr_console().print(f"training on {len(bars):,} bars ...")
    with _fold_progress(folds, final=True) as progress:
        trained = train_model(
            bars,
            symbol=symbol,
            timeframe=timeframe,
            target=target,
            model=model,
            labels=_labels(horizon, tp_atr, sl_atr),
            validation=WalkForwardConfig(n_folds=folds),
            progress=progress,
        )
    registry = ModelRegistry.default()
    version = registry.save(trained)
    made_champion = promote or registry.champion(symbol, timeframe, target) is None
    if made_champion:
        registry.promote(symbol, timeframe, version, target)
    out = {
        "version": version,
        "champion": made_champion,
        "path": registry.folder(symbol, timeframe, target) / version,
        "metrics": trained.metrics,
    }
    if json_out:
        emit_json(out)
        return
    if trained.evaluation is not None:
        _report_table(trained.evaluation)
    typer.echo(f"stored {version}{' (champion)' if made_champion else ''} in {out['path']}")
    if trained.evaluation is not None:
        typer.echo(trained.metrics["verdict"])


@app.command("evaluate")
def evaluate(
    pair: str | None = _PAIR,
    symbol: str | None = _SYMBOL,
    timeframe: str = _TF,
    model: str = _MODEL,
    file: Path | None = _FILE,
    horizon: int = _HORIZON,
    tp_atr: float = _TP,
    sl_atr: float = _SL,
    folds: int = _FOLDS,
    out: Path | None = typer.Option(
        None,
        "--out",
        "-o",
        help="Report JSON path (default NOX_HOME/reports/ml-evaluation-SYMBOL-TF-MODEL.json).",
    ),
    json_out: bool = _JSON,
) -> None:
    """Purged walk-forward evaluation with baselines; writes the report JSON, prints a table.

    The report goes to ``--out`` or ``NOX_HOME/reports``, never into the working directory.
    """
    from noxfx.config import get_settings
    from noxfx.ml._json import dumps
    from noxfx.ml.validation import WalkForwardConfig, skill_verdict
    from noxfx.ml.validation import evaluate as run_evaluation

    symbol = _pair(pair, symbol)
    bars = _bars(symbol, timeframe, file)
    stderr_console().print(f"evaluating on {len(bars):,} bars ...")
    with _fold_progress(folds, final=False) as progress:
        report = run_evaluation(
            bars,
            symbol=symbol,
            timeframe=timeframe,
            model=model,
            labels=_labels(horizon, tp_atr, sl_atr),
            config=WalkForwardConfig(n_folds=folds),
            progress=progress,
        )
    verdict = skill_verdict(report)
    payload = {**report.as_dict(), "verdict": verdict}
    name = f"ml-evaluation-{report.symbol}-{report.timeframe}-{model}.json"
    path = out or get_settings().home.expanduser() / "reports" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dumps(payload), encoding="utf-8")
    if json_out:
        emit_json(payload)
        return
    _report_table(report)
    for note in report.notes:
        typer.echo(f"- {note}")
    typer.echo(f"report written to {path}")
    typer.echo(verdict["line"])


@app.command("leak-check")
def leak_check(
    pair: str | None = _PAIR,
    symbol: str | None = _SYMBOL,
    timeframe: str = _TF,
    model: str = _MODEL,
    file: Path | None = _FILE,
    horizon: int = _HORIZON,
    tp_atr: float = _TP,
    sl_atr: float = _SL,
    folds: int = typer.Option(3, "--folds", help="Walk-forward test blocks."),
    side: str = typer.Option("long", "--side", help="long | short."),
    json_out: bool = _JSON,
) -> None:
    """Check the evaluation for leaks on PAIR's bars; exits 1 when a probe fails.

    Probes (:mod:`noxfx.ml.leakage`): shuffled labels score at chance; inverting the labels
    from a fold's test start on leaves its forecasts unchanged; bars with their moves shuffled
    in time score at chance (catches features that read later bars).
    """
    from noxfx.errors import InvalidInput
    from noxfx.ml.leakage import leak_check as run_leak_check
    from noxfx.ml.validation import WalkForwardConfig

    if side not in ("long", "short"):
        raise InvalidInput(f"--side must be long or short, got {side!r}")
    symbol = _pair(pair, symbol)
    bars = _bars(symbol, timeframe, file)
    stderr_console().print(f"leak check on {len(bars):,} bars (three walk-forward runs) ...")
    report = run_leak_check(
        bars,
        symbol=symbol,
        timeframe=timeframe,
        side=side,
        model=model,
        labels=_labels(horizon, tp_atr, sl_atr),
        config=WalkForwardConfig(n_folds=folds),
    )
    if json_out:
        emit_json(report.as_dict())
    else:
        rows = [
            {"probe": p.name, "passed": "yes" if p.passed else "NO", "detail": p.detail}
            for p in report.probes
        ]
        print_table(rows, title=f"{symbol} {timeframe} {model} {side}: leak check", sig=4)
        typer.echo("no leak found" if report.passed else f"LEAK: {', '.join(report.failed)}")
    if not report.passed:
        raise typer.Exit(1)


@app.command("predict")
def predict(
    pair: str | None = _PAIR,
    symbol: str | None = _SYMBOL,
    timeframe: str = _TF,
    target: str = _TARGET,
    version: str | None = typer.Option(None, "--version", help="Model version (default champion)."),
    spread_pips: float | None = typer.Option(None, "--spread-pips", help="Round-trip cost, pips."),
    file: Path | None = _FILE,
    json_out: bool = _JSON,
) -> None:
    """P(target before stop) for a long and a short entered at the next open.

    The probability is rescaled by a calibrator fitted on the latest out-of-sample slice; the
    rows "OOS ECE worst fold" and "calibrated out of sample" say whether that held in every
    walk-forward fold.
    """
    from noxfx.ml.predict import predict as run_predict
    from noxfx.ml.registry import ModelRegistry

    symbol = _pair(pair, symbol)
    bars = _bars(symbol, timeframe, file)
    pred = run_predict(
        symbol,
        timeframe,
        bars,
        ModelRegistry.default(),
        target=target,
        version=version,
        spread_pips=spread_pips,
    )
    if json_out:
        emit_json(pred.as_dict())
        return
    fields = (
        ("P(target before stop)", "probability"),
        ("break-even P", "break_even_probability"),
        ("EV after costs (R)", "expected_value_r"),
        ("cost (R)", "cost_r"),
        ("stop (pips)", "stop_pips"),
        ("target (pips)", "target_pips"),
        ("calibration n", "n_calibration"),
        ("skill shown out of sample", "oos_skill"),
    )
    sides = {"long": pred.long, "short": pred.short}
    rows: list[dict[str, Any]] = [
        {"": label, **{k: getattr(v, attr) for k, v in sides.items()}} for label, attr in fields
    ]
    for label, key in (("OOS n", "n"), ("OOS Brier skill", "brier_skill"), ("OOS AUC", "auc")):
        rows.append({"": label, **{k: v.oos.get(key) for k, v in sides.items()}})
    cal = {k: v.oos.get("calibration") or {} for k, v in sides.items()}
    rows.append({"": "OOS ECE worst fold", **{k: c.get("ece_worst_fold") for k, c in cal.items()}})
    rows.append(
        {
            "": "calibrated out of sample (every fold)",
            **{
                k: None if "calibrated" not in c else ("yes" if c["calibrated"] else "no")
                for k, c in cal.items()
            },
        }
    )
    for i in range(3):
        rows.append(
            {
                "": f"feature #{i + 1} (log-odds)",
                **{
                    k: (
                        f"{v.top_features[i].feature} {v.top_features[i].contribution:+.3f}"
                        if len(v.top_features) > i
                        else None
                    )
                    for k, v in sides.items()
                },
            }
        )
    title = (
        f"{pred.symbol} {pred.timeframe} as of {pred.as_of:%Y-%m-%d %H:%M} UTC, "
        f"horizon {pred.horizon_bars} bars, model {pred.model_version}"
    )
    print_table(rows, title=title, columns=["", "long", "short"], sig=4)


@app.command("models")
def models(
    pair: str | None = typer.Argument(None, help="Only this pair.", show_default=False),
    symbol: str | None = _SYMBOL,
    json_out: bool = _JSON,
) -> None:
    """Stored model versions, champions marked."""
    from noxfx.ml.registry import ModelRegistry

    rows = ModelRegistry.default().list(_pair(pair, symbol) if pair or symbol else None)
    if json_out:
        emit_json(rows)
    elif rows:
        print_table(rows, title="ML models (Brier skill: walk-forward out of sample)", sig=4)
    else:
        typer.echo("no models yet: `noxfx ml train EURUSD --timeframe 1h`")


@app.command("promote")
def promote(
    pair: str | None = _PAIR,
    version: str | None = typer.Argument(
        None, help="Version to make the champion.", show_default=False
    ),
    symbol: str | None = _SYMBOL,
    timeframe: str = _TF,
    target: str = _TARGET,
) -> None:
    """Make a stored version the champion (``noxfx ml promote EURUSD VERSION``)."""
    from noxfx.errors import InvalidInput
    from noxfx.ml.registry import ModelRegistry

    if symbol and version is None:  # `promote --symbol EURUSD VERSION`
        pair, version = None, pair
    symbol = _pair(pair, symbol)
    if not version:
        raise InvalidInput("give the version to promote (`noxfx ml models` lists them)")

    ModelRegistry.default().promote(symbol, timeframe, version, target)
    typer.echo(f"{version} is now the champion")


@app.command("rollback")
def rollback(
    pair: str | None = _PAIR,
    symbol: str | None = _SYMBOL,
    timeframe: str = _TF,
    target: str = _TARGET,
) -> None:
    """Restore the previous champion."""
    from noxfx.ml.registry import ModelRegistry

    symbol = _pair(pair, symbol)
    version = ModelRegistry.default().rollback(symbol, timeframe, target)
    typer.echo(f"rolled back: {version} is the champion again")


@app.command("retrain")
def retrain(
    pair: str | None = _PAIR,
    symbol: str | None = _SYMBOL,
    timeframe: str = _TF,
    target: str = _TARGET,
    model: str = _MODEL,
    window_bars: int = typer.Option(2000, "--window-bars", help="Out-of-sample comparison bars."),
    file: Path | None = _FILE,
    json_out: bool = _JSON,
) -> None:
    """Train a challenger; promote it only if it beats the champion on recent unseen bars."""
    from noxfx.ml.registry import ModelRegistry
    from noxfx.ml.registry import retrain as run_retrain

    symbol = _pair(pair, symbol)
    bars = _bars(symbol, timeframe, file)
    result = run_retrain(
        bars,
        symbol=symbol,
        timeframe=timeframe,
        registry=ModelRegistry.default(),
        target=target,
        model=model,
        window_bars=window_bars,
    )
    if json_out:
        emit_json(result.as_dict())
    else:
        print_table(
            [{"field": k, "value": v} for k, v in result.as_dict().items()],
            title="Retrain",
            sig=4,
        )


@app.command("drift")
def drift(
    pair: str | None = _PAIR,
    symbol: str | None = _SYMBOL,
    timeframe: str = _TF,
    target: str = _TARGET,
    recent_bars: int = typer.Option(1500, "--recent-bars", help="Recent bars for the PSI."),
    file: Path | None = _FILE,
    json_out: bool = _JSON,
) -> None:
    """Feature drift (PSI vs training) and recent Brier score of the champion."""
    from noxfx.ml.drift import drift_report
    from noxfx.ml.registry import ModelRegistry

    symbol = _pair(pair, symbol)
    trained = ModelRegistry.default().load(symbol, timeframe, target)
    report = drift_report(trained, _bars(symbol, timeframe, file), recent_bars=recent_bars)
    if json_out:
        emit_json(report.as_dict())
        return
    print_table(report.features[:15], title=f"PSI, last {report.recent_bars} bars (top 15)", sig=4)
    print_table(
        [{"side": s, **v} for s, v in report.performance.items()],
        title="Forecasts after the training data",
        sig=4,
    )
    for flag in report.flags or ["no drift flags"]:
        typer.echo(f"- {flag}")
