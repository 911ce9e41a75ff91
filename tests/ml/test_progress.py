"""``train_model`` reports progress after every walk-forward fold of each side, then the final fit
(what ``noxfx ml train`` draws as progress bars on stderr)."""

from __future__ import annotations

import pandas as pd

from noxfx.ml.training import train_model
from noxfx.ml.validation import WalkForwardConfig
from tests.ml.conftest import FAST


def test_progress_is_called_once_per_fold_then_for_the_final_fit(h1_recent: pd.DataFrame) -> None:
    calls: list[tuple[str, int, int]] = []
    folds = 2
    trained = train_model(
        h1_recent,
        symbol="EURUSD",
        timeframe="1h",
        validation=WalkForwardConfig(n_folds=folds),
        model_params=FAST,
        progress=lambda side, done, total: calls.append((side, done, total)),
    )
    expected = [(s, k, folds) for s in ("long", "short") for k in range(1, folds + 1)]
    assert calls == [*expected, ("final", 1, 1)]
    assert trained.evaluation is not None
    assert [len(ev.folds) for ev in trained.evaluation.sides.values()] == [folds, folds]
