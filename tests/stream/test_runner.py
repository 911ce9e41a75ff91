"""The runner on the bundled sample: stores, publishes, and a restart resumes without loss."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from noxfx.data.sample import ensure_bootstrapped
from noxfx.data.store import BarStore
from noxfx.stream.bus import InProcessBus
from noxfx.stream.runner import StreamRunner
from noxfx.stream.sources import ReplaySource


def _run(src: BarStore, dst: BarStore, end: str) -> StreamRunner:
    runner = StreamRunner(InProcessBus(), ["EURUSD"], store=dst, timeframes=["1m", "1h", "4h"])
    resume = runner.resume_from()
    # replay whole source bars around the resume point: the runner skips ticks before it
    start = (
        pd.Timestamp("2020-12-01", tz="UTC") if resume is None else resume - pd.Timedelta(days=1)
    )
    runner.run(ReplaySource(src, ["EURUSD"], start=start, end=end, speed=None))
    return runner


def test_restart_resumes_and_equals_one_run(tmp_path: Path) -> None:
    src = BarStore(tmp_path / "src")
    ensure_bootstrapped(src)
    once, twice = BarStore(tmp_path / "once"), BarStore(tmp_path / "twice")
    _run(src, once, "2020-12-02 23:00")
    _run(src, twice, "2020-12-02 09:30")
    second = _run(src, twice, "2020-12-02 23:00")
    assert second.stats.bars_stored > 0
    for tf in ("1m", "1h", "4h"):
        pd.testing.assert_frame_equal(once.read("EURUSD", tf), twice.read("EURUSD", tf))
    stored = once.read("EURUSD", "1h")
    truth = src.read("EURUSD", "1h", stored.index[0], stored.index[-1])
    pd.testing.assert_frame_equal(
        stored[["open", "high", "low", "close"]],
        truth[["open", "high", "low", "close"]],
        check_freq=False,
    )
