"""fetch(): chunking, validation, resume after an interruption; crosscheck(); the fallback chain
under a fault; the registry."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import responses

from noxfx.data.providers.base import (
    Capabilities,
    Provider,
    ProviderUnavailable,
    TimeframeNotSupported,
)
from noxfx.data.providers.dukascopy import tick_url
from noxfx.data.providers.fetch import crosscheck, fetch
from noxfx.data.providers.registry import PROVIDER_NAMES, Registry
from noxfx.data.providers.resilience import ManualClock
from noxfx.data.sample import bootstrap
from noxfx.data.store import BarStore
from noxfx.errors import InvalidBars, InvalidInput
from noxfx.instruments import Instrument
from tests.data.providers.conftest import load_bytes

REAL_1H: pd.DataFrame | None = None


def real_bars() -> pd.DataFrame:
    """Real EURUSD 1h bars (the bundled sample), October-December 2020."""
    global REAL_1H
    if REAL_1H is None:
        import pyarrow.parquet as pq

        from noxfx.data.sample import sample_dir

        frame = pq.read_table(sample_dir() / "EURUSD_1h.parquet").to_pandas()
        REAL_1H = frame.loc["2020-10-01":"2020-12-28"]
    return REAL_1H.copy()


class FrameProvider(Provider):
    """Serves bars from a frame, one chunk = ``days`` days; can fail on chosen calls."""

    name = "frames"

    def __init__(
        self,
        bars: pd.DataFrame,
        *,
        days: float = 7.0,
        fail_on: set[int] | None = None,
        depth: float | None = None,
    ) -> None:
        self.bars = bars
        self.days = days
        self.fail_on = fail_on or set()
        self.depth = depth
        self.calls: list[tuple[pd.Timestamp, pd.Timestamp]] = []

    def capabilities(self) -> Capabilities:
        return Capabilities(
            history=True,
            quotes=False,
            native=("1h",),
            request_days={"1h": self.days},
            max_depth_days={"1h": self.depth},
        )

    def _map_symbol(self, instrument: Instrument) -> str:
        return instrument.symbol

    def _history(self, instrument, timeframe, start, end):  # type: ignore[no-untyped-def]
        self.calls.append((start, end))
        if len(self.calls) in self.fail_on:
            raise ProviderUnavailable("HTTP 503 from frames.example", provider=self.name)
        return self.bars[(self.bars.index >= start) & (self.bars.index <= end)]


@pytest.fixture
def now() -> ManualClock:
    return ManualClock(epoch=pd.Timestamp("2021-01-04", tz="UTC").timestamp())


def test_long_range_is_chunked_validated_and_stored(store: BarStore, now: ManualClock) -> None:
    bars = real_bars()
    provider = FrameProvider(bars, days=7)
    progress = []
    result = fetch(
        store,
        provider,
        "EURUSD",
        "1h",
        "2020-10-01",
        "2020-12-28 23:00",
        progress=progress.append,
        clock=now,
    )
    assert result.chunks == len(provider.calls) == 13
    assert [p.done for p in progress] == list(range(1, 14))
    assert result.added == len(bars) == store.info("EURUSD", "1h").bars
    pd.testing.assert_frame_equal(store.read("EURUSD", "1h"), bars, check_freq=False)
    spans = [b - a for a, b in provider.calls]
    assert max(spans) < pd.Timedelta(days=7)
    assert all(b < a2 for (_, b), (a2, _) in zip(provider.calls, provider.calls[1:], strict=False))


def test_fetch_resumes_after_an_interruption(store: BarStore, now: ManualClock) -> None:
    bars = real_bars()
    broken = FrameProvider(bars, days=7, fail_on={4})
    with pytest.raises(ProviderUnavailable, match=r"chunk 4/13 .*stored up to 2020-10-21 .*again"):
        fetch(store, broken, "EURUSD", "1h", "2020-10-01", "2020-12-28 23:00", clock=now)
    info = store.info("EURUSD", "1h")
    assert info.last < pd.Timestamp("2020-10-22", tz="UTC")  # three chunks stored
    healthy = FrameProvider(bars, days=7)
    result = fetch(store, healthy, "EURUSD", "1h", "2020-10-01", "2020-12-28 23:00", clock=now)
    assert healthy.calls[0][0] == info.last  # restarted at the last stored bar
    assert result.chunks == 10 and result.replaced == 1  # only the last stored bar again
    assert any("resumed" in n for n in result.notes)
    pd.testing.assert_frame_equal(store.read("EURUSD", "1h"), bars, check_freq=False)


def test_no_start_means_from_the_last_stored_bar(store: BarStore, now: ManualClock) -> None:
    bars = real_bars()
    store.write("EURUSD", "1h", bars.loc[:"2020-12-20"], source="test")
    last = store.info("EURUSD", "1h").last
    assert last == pd.Timestamp("2020-12-20 23:00", tz="UTC")  # Sunday evening's bars
    provider = FrameProvider(bars, days=30)
    result = fetch(store, provider, "EURUSD", "1h", end="2020-12-28 23:00", clock=now)
    assert provider.calls == [(last, pd.Timestamp("2020-12-28 23:00", tz="UTC"))]
    assert result.added == len(bars.loc["2020-12-21":])


def test_an_earlier_start_backfills_only_the_missing_part(
    store: BarStore, now: ManualClock
) -> None:
    bars = real_bars()
    store.write("EURUSD", "1h", bars.loc["2020-11-01":], source="test")
    provider = FrameProvider(bars, days=60)
    fetch(store, provider, "EURUSD", "1h", "2020-10-01", "2020-12-28 23:00", clock=now)
    first, last = provider.calls[0], provider.calls[-1]
    assert first[0] == pd.Timestamp("2020-10-01", tz="UTC")
    assert first[1] < pd.Timestamp("2020-11-02", tz="UTC") <= last[0]
    pd.testing.assert_frame_equal(store.read("EURUSD", "1h"), bars, check_freq=False)


def test_a_defective_chunk_is_refused_and_earlier_chunks_stay(
    store: BarStore, now: ManualClock
) -> None:
    bars = real_bars()
    t = pd.Timestamp("2020-10-14 10:00", tz="UTC")  # in the second weekly chunk
    bars.loc[t, "close"] = bars.loc[t, "close"] * 1.2  # a bad tick, and above the high
    with pytest.raises(InvalidBars, match=r"frames sent defective EURUSD 1h bars.*chunk 2/") as e:
        fetch(
            store,
            FrameProvider(bars, days=7),
            "EURUSD",
            "1h",
            "2020-10-01",
            "2020-12-28 23:00",
            clock=now,
        )
    checks = {p.check for p in e.value.report.errors}  # type: ignore[attr-defined]
    assert "ohlc" in checks
    assert store.info("EURUSD", "1h").last < pd.Timestamp("2020-10-08", tz="UTC")


def test_depth_limit_moves_the_start_or_refuses(store: BarStore, now: ManualClock) -> None:
    provider = FrameProvider(real_bars(), days=30, depth=30)
    result = fetch(store, provider, "EURUSD", "1h", "2020-10-01", "2020-12-28 23:00", clock=now)
    assert "start moved" in result.notes[0]
    assert provider.calls[0][0] == pd.Timestamp("2020-12-05", tz="UTC")
    with pytest.raises(TimeframeNotSupported, match="30 days"):
        fetch(store, provider, "EURUSD", "1h", "2020-10-01", "2020-10-31", clock=now)
    with pytest.raises(InvalidInput, match="after end"):
        fetch(store, provider, "EURUSD", "1h", "2020-12-28", "2020-12-20", clock=now)


# ---------------------------------------------------------------------------------- crosscheck
def test_crosscheck_finds_an_injected_disagreement() -> None:
    a = real_bars().loc["2020-12-01":"2020-12-10"]
    b = a.copy() + 0.00002  # a 0.2 pip offset everywhere (bid vs mid)
    t = pd.Timestamp("2020-12-07 14:00", tz="UTC")
    b.loc[t, "high"] += 0.0006  # 6 pips off in one bar
    b = b.drop(index=b.index[-3:])
    report = crosscheck({"oanda": a, "yahoo": b}, "EURUSD", "1h", threshold_pips=3.0)
    assert not report.ok and len(report.disagreements) == 1
    d = report.disagreements[0]
    assert (d.time, d.field, d.a, d.b) == (t, "high", "oanda", "yahoo")
    assert d.diff_pips == pytest.approx(6.2)
    (pair,) = report.pairs
    assert (pair.common, pair.only_a, pair.only_b) == (len(a) - 3, 3, 0)
    assert pair.median_close_diff_pips == pytest.approx(0.2)
    assert crosscheck({"a": a, "b": b}, "EURUSD", "1h", threshold_pips=7.0).ok


def test_crosscheck_store_against_a_provider(store: BarStore) -> None:
    bootstrap(store)
    other = real_bars()
    other.loc["2020-12-22 09:00", "close"] += 0.0010
    report = crosscheck(
        store, "EURUSD", "1h", ["store", FrameProvider(other)], start="2020-12-21", end="2020-12-23"
    )
    assert [(d.time.strftime("%d %H"), d.field) for d in report.disagreements] == [
        ("22 09", "close")
    ]
    with pytest.raises(InvalidInput, match="at least two"):
        crosscheck({"only": other}, "EURUSD", "1h")


# ---------------------------------------------------------------------------------- fault test
def test_fallback_chain_with_the_first_provider_failing(
    http: responses.RequestsMock, registry: Registry, store: BarStore, clock: ManualClock
) -> None:
    """OANDA answers 503 to every attempt; the chain moves on to Dukascopy, whose bars are
    stored with Dukascopy as their source."""
    candles = "https://api-fxpractice.oanda.com/v3/instruments/EUR_USD/candles"
    for _ in range(4):
        http.add(responses.GET, candles, status=503, body="upstream connect error")
    for h in pd.date_range("2017-01-03 00:00", periods=4, freq="h", tz="UTC"):
        http.add(
            responses.GET,
            tick_url("EURUSD", h),
            body=load_bytes(f"dukascopy/EURUSD/2017/00/03/{h.hour:02d}h_ticks.bi5"),
        )
    chain = registry.chain()  # oanda, dukascopy, yahoo from the settings
    result = fetch(
        store, chain, "EURUSD", "1h", "2017-01-03 00:00", "2017-01-03 03:00", clock=clock
    )
    assert result.sources == ["dukascopy"] and result.provider == "chain(oanda>dukascopy>yahoo)"
    assert store.info("EURUSD", "1h").source == "provider:dukascopy"
    assert store.info("EURUSD", "1h").bars == 4
    assert len([c for c in http.calls if "oanda" in c.request.url]) == 4
    oanda_circuit = registry.guard("oanda").breaker
    assert oanda_circuit is not None and oanda_circuit.failures == 4


def test_registry_status_lists_every_provider(
    registry: Registry, store: BarStore, tmp_path: Path
) -> None:
    bootstrap(store)
    rows = {r["name"]: r for r in registry.status()}
    assert set(rows) == set(PROVIDER_NAMES)
    assert rows["oanda"]["configured"] and rows["oanda"]["in_chain"]
    assert rows["oanda"]["circuit"] == {"state": "closed", "consecutive_failures": 0}
    assert rows["replay"]["capabilities"]["quotes"] is True
    assert rows["tradingview"]["capabilities"]["history"] is False
    assert "XAUUSD" not in rows["yahoo"]["capabilities"]["symbols"]
    with pytest.raises(InvalidInput, match="Unknown provider"):
        registry.create("bloomberg")
