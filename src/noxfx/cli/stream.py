"""``noxfx stream``: run the live stream (replay source) into the bar store and the bus."""

from __future__ import annotations

from typing import Any

import typer


def register(app: typer.Typer) -> None:
    app.command("stream")(stream)


def stream(
    source: str = typer.Option(
        "replay", "--source", help="replay (stored history) or oanda (the v20 price stream)."
    ),
    symbols: str = typer.Option("", "--symbols", help="EURUSD,GBPUSD (default: all stored)."),
    start: str | None = typer.Option(None, "--from", help="Replay from this UTC time."),
    speed: float | None = typer.Option(None, "--speed", help="Market seconds per real second."),
    persist: bool = typer.Option(
        False, "--persist/--no-persist", help="Append closed bars to the bar store."
    ),
) -> None:
    """Stream ticks -> quotes and bars -> bus (Redis with NOX_REDIS_URL, else in-process)."""
    import pandas as pd

    from noxfx.config import get_settings
    from noxfx.data.store import BarStore
    from noxfx.errors import InvalidInput
    from noxfx.stream.bus import bus_for
    from noxfx.stream.emitters import LogEmitter, RedisEmitter
    from noxfx.stream.listeners import build_listeners
    from noxfx.stream.runner import StreamRunner
    from noxfx.stream.sources import ReplaySource

    if source not in ("replay", "oanda"):
        raise InvalidInput(f"Unknown source {source!r}: use replay or oanda.")
    settings = get_settings()
    store = BarStore(settings.bars_dir)
    syms = [s for s in (symbols or settings.stream_symbols).split(",") if s.strip()]
    syms = syms or store.symbols()
    if not syms:
        raise InvalidInput("The bar store is empty: run `noxfx data bootstrap` first.")
    bus = bus_for(settings.redis_url, settings.stream_prefix)
    emitter = (
        RedisEmitter(settings.redis_url, settings.stream_prefix)
        if settings.redis_url
        else LogEmitter()
    )
    runner = StreamRunner(
        bus, syms, store=store, timeframes=settings.stream_timeframes.split(","),
        listeners=build_listeners(settings, emitter, store), persist=persist,
    )  # fmt: skip
    resume = runner.resume_from() if persist else None
    begin = pd.Timestamp(start, tz="UTC") if start else None
    if resume is not None:
        begin = resume - pd.Timedelta(days=1)  # the runner skips ticks before the resume point
    src: Any
    if source == "oanda":
        from noxfx.data.providers.oanda import OandaProvider
        from noxfx.data.providers.registry import Registry
        from noxfx.stream.live_sources import ProviderStreamSource

        oanda = Registry(store=store).create("oanda")
        assert isinstance(oanda, OandaProvider)
        src = ProviderStreamSource(oanda.stream_with_heartbeats, syms)
    else:
        src = ReplaySource(store, syms, start=begin, speed=speed or settings.stream_speed)
    try:
        stats = runner.run(src)
    except KeyboardInterrupt:
        stats = runner.stats
    finally:
        bus.close()
    typer.echo(stats.as_dict())
