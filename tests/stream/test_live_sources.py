"""The OANDA price stream through a local HTTP server replaying recorded lines: the source
reconnects after a close, a silent connection and a malformed line, drops the replayed price
and passes heartbeats on (issue 16)."""

from __future__ import annotations

import http.server
import random
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from noxfx.data.providers.base import Tick
from noxfx.data.providers.oanda import OandaProvider
from noxfx.data.providers.registry import Registry
from noxfx.data.providers.settings import ProviderSettings
from noxfx.data.store import BarStore
from noxfx.stream.live_sources import ProviderStreamSource
from noxfx.stream.sources import Heartbeat

LINES = (Path(__file__).resolve().parents[1] / "fixtures/providers/oanda/stream.jsonl"
         ).read_bytes().splitlines()  # fmt: skip
#: per connection: the lines sent, then "close", "silent" (longer than the read timeout)
SCRIPT = [
    ([LINES[0], LINES[1], LINES[2]], "close"),
    ([LINES[2]], "silent"),  # the last price again, then nothing
    ([b"<html>"], "close"),  # malformed
    ([LINES[3], LINES[4]], "close"),
]


@pytest.fixture
def server() -> Iterator[tuple[str, list[str]]]:
    paths: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"

        def do_GET(self) -> None:
            paths.append(self.path)
            lines, end = SCRIPT[min(len(paths), len(SCRIPT)) - 1]
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.end_headers()
            for line in lines:
                self.wfile.write(line + b"\n")
                self.wfile.flush()
            if end == "silent":
                time.sleep(3.0)

        def log_message(self, *_: object) -> None:
            return None

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{srv.server_address[1]}", paths
    srv.shutdown()


def test_the_stream_reconnects_and_never_repeats_a_price(
    server: tuple[str, list[str]], tmp_path: Path
) -> None:
    url, paths = server
    settings = ProviderSettings(_env_file=None, oanda_token="t", oanda_account="acc-1",  # type: ignore[call-arg, arg-type]
                                oanda_stream_url=url, provider_timeout=1.0,
                                redis_url=None)  # fmt: skip
    oanda = Registry(settings, store=BarStore(tmp_path / "bars")).create("oanda")
    assert isinstance(oanda, OandaProvider)
    source = ProviderStreamSource(oanda.stream_with_heartbeats, ["EURUSD"], backoff_base_s=0.05,
                                  rng=random.Random(1), max_connections=len(SCRIPT))  # fmt: skip
    items = list(source)
    ticks = [i for i in items if isinstance(i, Tick)]
    assert [t.time for t in ticks] == [pd.Timestamp(s, tz="UTC") for s in (
        "2017-01-06 21:57:10", "2017-01-06 21:57:30", "2017-01-06 21:58:50")]  # fmt: skip
    assert [(t.bid, t.ask) for t in ticks] == [(1.05312, 1.05326), (1.05314, 1.05327),
                                               (1.05311, 1.05325)]  # fmt: skip
    assert sum(isinstance(i, Heartbeat) for i in items) == 2
    assert source.connections == len(paths) == 4
    assert (source.failures, source.duplicates) == (2, 1)  # silent + malformed; the replayed price
    assert all(p.startswith("/v3/accounts/acc-1/pricing/stream?instruments=EUR_USD") for p in paths)
