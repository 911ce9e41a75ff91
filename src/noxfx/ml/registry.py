"""The model registry: versions on disk, a champion per symbol/timeframe/target, retraining.

Layout under ``NOX_HOME/models`` (``registry.root``)::

    {SYMBOL}/{TF}/{target}/{version}/model.joblib      the TrainedModel (joblib pickle)
                                    /meta.json         version, created UTC, features, params,
                                                       data range + SHA-256, OOS metrics
                                    /evaluation.json   the walk-forward report (when evaluated)
    {SYMBOL}/{TF}/{target}/champion.json               {"version", "previous": [...], ...}

Versions are ``YYYYMMDDTHHMMSSZ-xxxxxx`` (UTC creation time and a random suffix), so they sort in
creation order. Writes are atomic: a version is written into a hidden temporary folder and renamed
into place; ``champion.json`` is written to a temporary file and ``os.replace``-d, under a lock
file, so a reader sees the old or the new state and never a half-written one. ``promote`` pushes
the current champion onto ``previous``; ``rollback`` pops it back.

Only load models from a registry you wrote: ``model.joblib`` is a pickle.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from noxfx.errors import InsufficientData, InvalidInput, NoxError
from noxfx.instruments import get_instrument
from noxfx.ml._json import dumps
from noxfx.ml.training import TrainedModel, train_model
from noxfx.timeframes import parse_timeframe


class ModelNotFound(NoxError, LookupError):
    """No such model version, or no champion yet."""

    exit_code = 4
    kind = "model-not-found"


def _write_file(path: Path, text: str) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class ModelRegistry:
    """Trained models on disk (see the module docstring for the layout)."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).expanduser()
        self._cache: dict[tuple[str, int], TrainedModel] = {}

    @classmethod
    def default(cls) -> ModelRegistry:
        """The registry under ``NOX_HOME/models``."""
        from noxfx.config import get_settings

        return cls(get_settings().home.expanduser() / "models")

    # ------------------------------------------------------------------ paths
    def folder(self, symbol: str, timeframe: str, target: str = "triple_barrier") -> Path:
        sym = get_instrument(symbol).symbol
        tf = parse_timeframe(timeframe).name
        if not target.replace("_", "").isalnum():
            raise InvalidInput(f"invalid target name {target!r}")
        return self.root / sym / tf / target

    @contextlib.contextmanager
    def _lock(self, folder: Path) -> Iterator[None]:
        folder.mkdir(parents=True, exist_ok=True)
        with open(folder / ".lock", "a+b") as fh:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)

    # ------------------------------------------------------------------ writing
    def save(self, trained: TrainedModel) -> str:
        """Store ``trained`` as a new version (atomically) and return the version string."""
        import joblib

        folder = self.folder(trained.symbol, trained.timeframe, trained.target)
        folder.mkdir(parents=True, exist_ok=True)
        now = pd.Timestamp.now("UTC")
        version = f"{now:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:6]}"
        bundle = replace(trained, version=version, evaluation=None)
        meta = {"version": version, **bundle.meta()}
        tmp = folder / f".tmp-{version}"
        tmp.mkdir()
        try:
            with open(tmp / "model.joblib", "wb") as fh:
                joblib.dump(bundle, fh, compress=3)
                fh.flush()
                os.fsync(fh.fileno())
            _write_file(tmp / "meta.json", dumps(meta))
            if trained.evaluation is not None:
                _write_file(tmp / "evaluation.json", dumps(trained.evaluation.as_dict()))
            _fsync_dir(tmp)
            os.rename(tmp, folder / version)
            _fsync_dir(folder)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        trained.version = version
        return version

    def _pointer(self, folder: Path) -> dict[str, Any]:
        path = folder / "champion.json"
        if not path.exists():
            return {"version": None, "previous": []}
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        return data

    def _write_pointer(self, folder: Path, data: dict[str, Any]) -> None:
        tmp = folder / f".champion.{uuid.uuid4().hex[:8]}.tmp"
        try:
            _write_file(tmp, dumps({**data, "updated_utc": pd.Timestamp.now("UTC")}))
            os.replace(tmp, folder / "champion.json")
            _fsync_dir(folder)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

    def promote(
        self, symbol: str, timeframe: str, version: str, target: str = "triple_barrier"
    ) -> None:
        """Make ``version`` the champion (the current one is remembered for :meth:`rollback`)."""
        folder = self.folder(symbol, timeframe, target)
        if not (folder / version / "meta.json").exists():
            raise ModelNotFound(f"no model version {version!r} under {folder}")
        with self._lock(folder):
            ptr = self._pointer(folder)
            if ptr.get("version") == version:
                return
            previous = list(ptr.get("previous", []))
            if ptr.get("version"):
                previous.append(ptr["version"])
            self._write_pointer(folder, {"version": version, "previous": previous})

    def rollback(self, symbol: str, timeframe: str, target: str = "triple_barrier") -> str:
        """Restore the previous champion and return its version."""
        folder = self.folder(symbol, timeframe, target)
        with self._lock(folder):
            ptr = self._pointer(folder)
            previous = list(ptr.get("previous", []))
            if not previous:
                raise ModelNotFound(f"nothing to roll back to for {folder.relative_to(self.root)}")
            version = previous.pop()
            self._write_pointer(folder, {"version": version, "previous": previous})
        return str(version)

    # ------------------------------------------------------------------ reading
    def champion(self, symbol: str, timeframe: str, target: str = "triple_barrier") -> str | None:
        version = self._pointer(self.folder(symbol, timeframe, target)).get("version")
        return str(version) if version else None

    def versions(self, symbol: str, timeframe: str, target: str = "triple_barrier") -> list[str]:
        """Stored versions, oldest first (temporary folders of interrupted writes excluded)."""
        folder = self.folder(symbol, timeframe, target)
        if not folder.is_dir():
            return []
        return sorted(
            p.name
            for p in folder.iterdir()
            if p.is_dir() and not p.name.startswith(".") and (p / "meta.json").exists()
        )

    def meta(
        self, symbol: str, timeframe: str, version: str, target: str = "triple_barrier"
    ) -> dict[str, Any]:
        path = self.folder(symbol, timeframe, target) / version / "meta.json"
        if not path.exists():
            raise ModelNotFound(f"no model version {version!r} for {symbol} {timeframe} {target}")
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        return data

    def load(
        self,
        symbol: str,
        timeframe: str,
        target: str = "triple_barrier",
        version: str | None = None,
    ) -> TrainedModel:
        """The model ``version`` (default: the champion). Cached per file while unchanged."""
        import joblib

        if version is None:
            version = self.champion(symbol, timeframe, target)
            if version is None:
                raise ModelNotFound(
                    f"no champion model for {symbol} {timeframe} {target}; train one with "
                    f"`noxfx ml train --symbol {symbol} --timeframe {timeframe}`"
                )
        path = self.folder(symbol, timeframe, target) / version / "model.joblib"
        if not path.exists():
            raise ModelNotFound(f"no model version {version!r} for {symbol} {timeframe} {target}")
        key = (str(path), path.stat().st_mtime_ns)
        if key not in self._cache:
            trained = joblib.load(path)
            if not isinstance(trained, TrainedModel):
                raise ModelNotFound(f"{path} does not hold a NOX model")
            self._cache[key] = trained
        return self._cache[key]

    def list(self, symbol: str | None = None) -> list[dict[str, Any]]:
        """One row per stored version: symbol, timeframe, target, version, champion, created,
        model, data range and the walk-forward Brier skill per side."""
        rows: list[dict[str, Any]] = []
        if not self.root.is_dir():
            return rows
        sym_dirs = (
            [self.root / get_instrument(symbol).symbol]
            if symbol
            else sorted(p for p in self.root.iterdir() if p.is_dir())
        )
        for sym_dir in sym_dirs:
            for tf_dir in sorted(p for p in sym_dir.glob("*") if p.is_dir()):
                for tgt_dir in sorted(p for p in tf_dir.glob("*") if p.is_dir()):
                    champ = self._pointer(tgt_dir).get("version")
                    for version in self.versions(sym_dir.name, tf_dir.name, tgt_dir.name):
                        meta = json.loads((tgt_dir / version / "meta.json").read_text())
                        sides = meta.get("metrics", {}).get("sides", {})
                        rows.append(
                            {
                                "symbol": sym_dir.name,
                                "timeframe": tf_dir.name,
                                "target": tgt_dir.name,
                                "version": version,
                                "champion": version == champ,
                                "model": meta.get("model"),
                                "created_utc": meta.get("created_utc"),
                                "data_last_utc": meta.get("data", {}).get("last_bar_open_utc"),
                                "bss_long": sides.get("long", {}).get("brier_skill"),
                                "bss_short": sides.get("short", {}).get("brier_skill"),
                            }
                        )
        return rows


@dataclass
class RetrainResult:
    """Outcome of :func:`retrain`: the challenger, the comparison and the decision."""

    challenger_version: str
    champion_version: str | None
    promoted: bool
    reason: str
    window_first_utc: str | None
    window_last_utc: str | None
    n: dict[str, int]
    brier_challenger: dict[str, float]
    brier_champion: dict[str, float]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def window_scores(
    trained: TrainedModel, bars: pd.DataFrame, start: pd.Timestamp
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Calibrated forecasts and outcomes of ``trained`` for decision bars opening at or after
    ``start`` whose labels are known: ``{side: (p, y)}``."""
    from noxfx.ml.features import build_features
    from noxfx.ml.labels import barrier_outcomes

    pip = get_instrument(trained.symbol).pip_size
    X = build_features(bars, trained.timeframe, trained.feature_config)[trained.feature_names]
    Xa = X.to_numpy(dtype=np.float64)
    ok = (pd.DatetimeIndex(bars.index) >= start) & np.isfinite(Xa).all(axis=1)
    out = {}
    for side, sm in trained.sides.items():
        res = barrier_outcomes(bars, trained.labels, side, pip)  # type: ignore[arg-type]
        rows = np.flatnonzero(ok & np.isfinite(res.label))
        p = sm.predict(Xa[rows])[0] if len(rows) else np.empty(0)
        out[side] = (p, res.label[rows])
    return out


def retrain(
    bars: pd.DataFrame,
    *,
    symbol: str,
    timeframe: str,
    registry: ModelRegistry,
    target: str = "triple_barrier",
    model: str = "lightgbm",
    window_bars: int = 2000,
    min_window: int = 500,
    **train_kwargs: Any,
) -> RetrainResult:
    """Train a challenger and promote it only if it beats the champion out of sample.

    The challenger trains on ``bars`` without the last ``window_bars`` bars, so the window is
    out-of-sample for it (its labels end before the window by construction). The champion is
    scored on the same window, restricted to bars after the champion's own training data; if
    fewer than ``min_window`` labelled samples per side remain, nothing is promoted. The decision
    is the mean Brier score over both sides (lower wins). The challenger is always stored (so it
    can be inspected or promoted by hand); without a champion it is promoted directly.
    """
    if len(bars) <= window_bars:
        raise InsufficientData(f"retrain needs more than window_bars={window_bars} bars")
    cut = len(bars) - window_bars
    challenger = train_model(
        bars.iloc[:cut],
        symbol=symbol,
        timeframe=timeframe,
        target=target,
        model=model,
        **train_kwargs,
    )
    champ_version = registry.champion(symbol, timeframe, target)
    start = pd.Timestamp(bars.index[cut])
    champion = registry.load(symbol, timeframe, target, champ_version) if champ_version else None
    reason = "no champion: the challenger becomes the first champion"
    if champion is not None:  # only bars the champion never saw
        after = np.flatnonzero(pd.DatetimeIndex(bars.index) > pd.Timestamp(champion.data_last_utc))
        never_seen = (
            pd.Timestamp(bars.index[after[0]])
            if len(after)
            else pd.Timestamp(bars.index[-1]) + pd.Timedelta(1, "ns")
        )
        start = max(start, never_seen)
    ch_scores = window_scores(challenger, bars, start)
    n = {s: len(v[1]) for s, v in ch_scores.items()}
    b_ch = {
        s: float(np.mean((p - y) ** 2)) if len(y) else float("nan")
        for s, (p, y) in ch_scores.items()
    }
    b_champ: dict[str, float] = {}
    promoted = champion is None
    if champion is not None:
        if champion.labels != challenger.labels:
            reason = "the champion's label definition differs: not comparable, not promoted"
        elif min(n.values()) < min_window:
            reason = (
                f"only {min(n.values())} out-of-sample outcomes after the champion's data "
                f"(need {min_window}): not promoted"
            )
        else:
            cp = window_scores(champion, bars, start)
            b_champ = {s: float(np.mean((p - y) ** 2)) for s, (p, y) in cp.items()}
            mean_ch, mean_champ = np.mean(list(b_ch.values())), np.mean(list(b_champ.values()))
            promoted = bool(mean_ch < mean_champ)
            reason = (
                f"mean Brier challenger {mean_ch:.5f} vs champion {mean_champ:.5f} on "
                f"{min(n.values())}+ samples: {'promoted' if promoted else 'kept champion'}"
            )
    first = {s: v for s, v in ch_scores.items() if len(v[1])}
    window_first = start.isoformat() if first else None
    window_last = pd.Timestamp(bars.index[-1]).isoformat() if first else None
    challenger.metrics["retrain_comparison"] = {
        "champion_version": champ_version,
        "window_first_utc": window_first,
        "n": n,
        "brier_challenger": b_ch,
        "brier_champion": b_champ,
        "promoted": promoted,
        "reason": reason,
    }
    version = registry.save(challenger)
    if promoted:
        registry.promote(symbol, timeframe, version, target)
    return RetrainResult(
        version, champ_version, promoted, reason, window_first, window_last, n, b_ch, b_champ
    )


__all__ = ["ModelNotFound", "ModelRegistry", "RetrainResult", "retrain", "window_scores"]
