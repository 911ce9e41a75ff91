"""The replay provider against the real bundled sample bars."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from noxfx.data.providers.base import SymbolNotSupported
from noxfx.data.providers.fetch import fetch
from noxfx.data.providers.replay import ReplayProvider
from noxfx.data.providers.resilience import ManualClock
from noxfx.data.sample import bootstrap
from noxfx.data.store import BarStore
from noxfx.instruments import get_instrument


@pytest.fixture(scope="module")
def sample_store(tmp_path_factory: pytest.TempPathFactory) -> BarStore:
    store = BarStore(tmp_path_factory.mktemp("replay") / "bars")
    bootstrap(store)
    return store


def test_history_is_the_stored_bars(sample_store: BarStore) -> None:
    replay = ReplayProvider(sample_store, clock=ManualClock())
    bars = replay.history("EURUSD", "1h", "2020-12-01", "2020-12-10")
    ref = sample_store.read("EURUSD", "1h", "2020-12-01", "2020-12-10")
    pd.testing.assert_frame_equal(bars, ref, check_freq=False)
    assert bars.attrs["provider"] == "replay"
    four = replay.history("GBPUSD", "4h", "2020-12-01", "2020-12-10")  # derived by the store
    assert len(four) > 0 and (four.index.hour % 4 == 2).all()  # 17:00 New York (EST) = 22:00


def test_quote_is_last_close_plus_typical_spread(sample_store: BarStore) -> None:
    replay = ReplayProvider(sample_store)
    (q,) = replay.quote(["eurusd"])
    last = sample_store.read("EURUSD", "1h").iloc[-1]
    assert q.bid == pytest.approx(last["close"]) and q.indicative
    assert q.spread_pips == pytest.approx(get_instrument("EURUSD").typical_spread_pips)
    assert q.time == sample_store.info("EURUSD", "1h").last + pd.Timedelta(hours=1)
    (jpy,) = replay.quote(["USDJPY"])  # finest stored USDJPY is 4h
    assert jpy.time == sample_store.info("USDJPY", "4h").last + pd.Timedelta(hours=4)


def test_as_of_freezes_the_replay(sample_store: BarStore) -> None:
    as_of = pd.Timestamp("2020-06-15 12:30", tz="UTC")
    replay = ReplayProvider(sample_store, as_of=as_of)
    (q,) = replay.quote(["EURUSD"])
    bar = sample_store.read("EURUSD", "1h", "2020-06-15 11:00", "2020-06-15 11:00").iloc[0]
    assert q.bid == pytest.approx(bar["close"]) and q.time == pd.Timestamp(
        "2020-06-15 12:00", tz="UTC"
    )
    bars = replay.history("EURUSD", "1h", "2020-06-15", "2020-06-16")
    assert bars.index[-1] == pd.Timestamp("2020-06-15 11:00", tz="UTC")  # complete bars only


def test_stream_replays_four_ticks_per_bar_in_time_order(sample_store: BarStore) -> None:
    replay = ReplayProvider(sample_store)
    ticks = list(replay.stream(["EURUSD", "GBPUSD"], start="2020-12-01", end="2020-12-01 05:00"))
    assert len(ticks) == 2 * 6 * 4
    times = [t.time for t in ticks]
    assert times == sorted(times)
    bar = sample_store.read("EURUSD", "1h", "2020-12-01 00:00", "2020-12-01 00:00").iloc[0]
    eur = [t for t in ticks if t.symbol == "EURUSD"][:4]
    assert eur[0].bid == pytest.approx(bar["open"])
    assert eur[-1].bid == pytest.approx(bar["close"])
    assert sorted([eur[1].bid, eur[2].bid]) == pytest.approx([bar["low"], bar["high"]])
    assert all(t.ask > t.bid for t in ticks)


def test_paced_stream_sleeps_market_time_over_speed(sample_store: BarStore) -> None:
    clock = ManualClock()
    replay = ReplayProvider(sample_store, clock=clock, speed=3600.0)  # an hour per second
    ticks = list(replay.stream(["EURUSD"], start="2020-12-01 00:00", end="2020-12-01 01:00"))
    assert len(ticks) == 8
    assert sum(clock.sleeps) == pytest.approx(
        (ticks[-1].time - ticks[0].time).total_seconds() / 3600.0
    )


def test_symbols_not_stored_are_not_supported(sample_store: BarStore) -> None:
    with pytest.raises(SymbolNotSupported, match="AUDUSD"):
        ReplayProvider(sample_store).quote(["AUDUSD"])
    assert ReplayProvider(sample_store).configured()[0]
    assert not ReplayProvider(BarStore(Path("/nonexistent/bars"))).configured()[0]


def test_fetching_real_stored_bars_passes_validation(
    sample_store: BarStore, tmp_path: Path
) -> None:
    target = BarStore(tmp_path / "copy")
    clock = ManualClock(epoch=pd.Timestamp("2021-01-01", tz="UTC").timestamp())
    result = fetch(
        target,
        ReplayProvider(sample_store),
        "EURUSD",
        "1h",
        "2020-01-01",
        "2020-12-31",
        clock=clock,
    )
    ref = sample_store.read("EURUSD", "1h", "2020-01-01", "2020-12-31")
    assert result.added == len(ref) and target.info("EURUSD", "1h").source == "provider:replay"
    pd.testing.assert_frame_equal(target.read("EURUSD", "1h"), ref, check_freq=False)
