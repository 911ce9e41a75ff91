"""Units in the ML artefacts: rates and ``_frac`` are fractions in [0, 1], durations are in bars
or hours (named so), never raw seconds (the artefacts hold no ``_pct`` field; ``formula eval``'s
``true_pct`` is checked in tests/cli/test_formula_cli.py)."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest

from noxfx.ml.drift import drift_report
from noxfx.ml.training import TrainedModel

_DURATION_WORDS = ("window", "horizon", "embargo", "overlap", "duration", "holding", "age")


def _items(obj: Any, path: str = "") -> Iterator[tuple[str, str, Any]]:
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _items(v, f"{path}.{k}")
            yield path, str(k), v
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _items(v, f"{path}[{i}]")


def _check_units(obj: Any) -> None:
    for path, key, value in _items(obj):
        where = f"{path}.{key} = {value!r}"
        assert not key.endswith(("_s", "_sec", "_secs", "_seconds")), where
        number = isinstance(value, int | float) and not isinstance(value, bool)
        if not number or not math.isfinite(value):
            continue
        if key.endswith(("_rate", "_frac", "_fraction")) or key == "rate":
            assert 0.0 <= value <= 1.0, where
        if any(w in key for w in _DURATION_WORDS) and not key.endswith("_start_pos"):
            assert key.endswith(("_bars", "_hours")), where


def test_trained_model_metrics_and_meta_units(trained_small: TrainedModel) -> None:
    _check_units(trained_small.meta())
    assert trained_small.evaluation is not None
    _check_units(trained_small.evaluation.as_dict())


def test_drift_report_units(trained_small: TrainedModel, h1_recent: pd.DataFrame) -> None:
    report = drift_report(trained_small, h1_recent, recent_bars=600, window=100)
    _check_units(report.as_dict())
    for side in ("long", "short"):
        assert report.performance[side]["window_bars"] == 100


def test_the_check_catches_a_bad_name() -> None:
    with pytest.raises(AssertionError):
        _check_units({"rolling": {"window": 100}})
    with pytest.raises(AssertionError):
        _check_units({"hit_rate": 52.0})
