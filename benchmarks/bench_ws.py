"""Live-data fan-out: tick-to-client latency through Redis and Socket.IO, next to a bare
``websockets`` broadcast server on the same load in the same run.

Run: ``.venv/bin/python benchmarks/bench_ws.py [--clients 1000] [--processes 2] [--symbols 28]
[--rate 10] [--seconds 20]`` (needs Redis on 127.0.0.1:6379; uses database 13).

Load: ``--processes`` API processes (``noxfx serve --workers 1``) behind one Redis, one
publisher putting ``--symbols`` x ``--rate`` quotes per second on the stream's bus (the same
tick messages ``noxfx stream`` publishes; a sequence number rides in each quote), and
``--clients`` websocket clients spread over the symbols and processes, each subscribed to one
symbol. The clients speak Engine.IO 4 / Socket.IO 5 directly over ``websockets`` (asyncio), so
one client process holds thousands of connections. Latency is the publisher's wall clock in the
message (``sent``) to the client's receipt, on the same machine. Lost = quotes published while a
client was subscribed that it never got; out of order = a sequence number lower than the last.

Peer: the same number of processes of a bare ``websockets`` server that subscribes to the same
Redis channel and sends each quote to the clients of its symbol (no Socket.IO, no auth, no
rooms): the floor of what fan-out costs in Python here.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import requests

REDIS = "redis://127.0.0.1:6379/13"
PASSWORD = "bench passphrase 1234 long enough"
PAIRS = [
    "EURUSD", "GBPUSD", "USDJPY", "USDCHF", "AUDUSD", "USDCAD", "NZDUSD", "EURGBP", "EURJPY",
    "GBPJPY", "EURCHF", "AUDJPY", "EURAUD", "EURCAD", "GBPCHF", "CADJPY", "CHFJPY", "AUDNZD",
    "AUDCAD", "NZDJPY", "GBPAUD", "GBPCAD", "EURNZD", "AUDCHF", "CADCHF", "NZDCAD", "NZDCHF",
    "GBPNZD",
]  # fmt: skip


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _rss_mb(pid: int) -> float:
    """Resident memory of ``pid`` and its descendants (gunicorn's master and worker), MB."""
    total = 0.0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            total += int(line.split()[1]) / 1024
    for task in Path(f"/proc/{pid}/task").iterdir():
        children = (task / "children").read_text().split()
        total += sum(_rss_mb(int(c)) for c in children)
    return total


# ---------------------------------------------------------------------------- servers
def _start_nox(home: Path, prefix: str, threads: int,
               worker: str) -> tuple[subprocess.Popen[bytes], str]:  # fmt: skip
    port = _port()
    env = {**os.environ, "NOX_HOME": str(home), "NOX_REDIS_URL": REDIS,
           "NOX_STREAM_PREFIX": prefix, "NOX_LOG_LEVEL": "WARNING",
           "NOX_WS_MAX_CONNECTIONS_PER_USER": "100000", "NOX_WEB_WORKER": worker}  # fmt: skip
    proc = subprocess.Popen([sys.executable, "-m", "noxfx", "serve", "--workers", "1",
                             "--threads", str(threads), "--port", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if requests.get(url + "/healthz", timeout=1).ok:
                return proc, url
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise SystemExit("noxfx serve did not start")


_PEER = r"""
import asyncio, json, sys, redis.asyncio as aioredis, websockets
rooms = {}
async def handler(ws):
    sym = json.loads(await ws.recv())["symbol"]
    rooms.setdefault(sym, set()).add(ws)
    await ws.send("ok")
    try:
        await ws.wait_closed()
    finally:
        rooms[sym].discard(ws)
async def pump(channel):
    r = aioredis.from_url(sys.argv[2])
    ps = r.pubsub()
    await ps.subscribe(channel)
    async for m in ps.listen():
        if m["type"] != "message":
            continue
        msg = json.loads(m["data"])
        if msg.get("type") != "tick":
            continue
        data = json.dumps(msg["quote"])
        websockets.broadcast(rooms.get(msg["symbol"], ()), data)
async def main():
    async with websockets.serve(handler, "127.0.0.1", int(sys.argv[1]), max_queue=None):
        await pump(sys.argv[3])
asyncio.run(main())
"""


def _start_peer(channel: str) -> tuple[subprocess.Popen[bytes], str]:
    port = _port()
    proc = subprocess.Popen([sys.executable, "-c", _PEER, str(port), REDIS, channel])
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.1)
    return proc, f"ws://127.0.0.1:{port}"


# ---------------------------------------------------------------------------- publisher
def _publish(prefix: str, symbols: list[str], rate: float, stop: threading.Event,
             counts: dict[str, list[tuple[int, float]]]) -> None:  # fmt: skip
    """Quotes on the stream's bus: ``rate`` per second per symbol, each with a sequence."""
    import redis

    from noxfx.stream.bus import market_channel

    r = redis.Redis.from_url(REDIS)
    channel = market_channel(prefix)
    seq = 0
    step = 1.0 / rate
    next_at = time.perf_counter()
    while not stop.is_set():
        for sym in symbols:
            seq += 1
            sent = time.time()
            quote = {"symbol": sym, "bid": 1.1, "ask": 1.1001, "mid": 1.10005, "spread": 1.0,
                     "time": "2020-12-01T00:00:00+00:00", "source": "bench", "sent": sent,
                     "seq": seq}  # fmt: skip
            r.publish(channel, json.dumps({"type": "tick", "symbol": sym, "quote": quote,
                                           "bars": [], "sent": sent}))  # fmt: skip
            counts[sym].append((seq, sent))
        next_at += step
        time.sleep(max(0.0, next_at - time.perf_counter()))


# ---------------------------------------------------------------------------- clients
class Stats:
    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.received = 0
        self.out_of_order = 0
        self.windows: list[tuple[str, float, float, int]] = []  # symbol, from, to, got


async def _nox_client(url: str, token: str, sym: str, stats: Stats, ready: asyncio.Event,
                      stop: asyncio.Event) -> None:  # fmt: skip
    import websockets

    ws_url = url.replace("http", "ws") + "/socket.io/?EIO=4&transport=websocket"
    async with websockets.connect(ws_url, max_queue=None, open_timeout=60) as ws:
        await ws.recv()  # 0{...} open
        await ws.send("40" + json.dumps({"token": token}))
        while not (await ws.recv()).startswith("40"):
            pass
        await ws.send("421" + json.dumps(["subscribe", {"symbol": sym, "timeframe": "1m"}]))
        start, last, got = 0.0, 0, 0
        while not stop.is_set():
            try:
                frame = await asyncio.wait_for(ws.recv(), 1.0)
            except TimeoutError:
                continue
            if frame == "2":
                await ws.send("3")
            elif frame.startswith("431"):
                start = time.time()
                ready.set()
            elif frame.startswith('42["market_update"') and start:
                now = time.time()
                q = json.loads(frame[2:])[1]
                stats.latencies.append(now - q["sent"])
                stats.out_of_order += q["seq"] < last
                last, got = q["seq"], got + 1
        stats.windows.append((sym, start, time.time(), got))
        stats.received += got


async def _peer_client(url: str, sym: str, stats: Stats, ready: asyncio.Event,
                       stop: asyncio.Event) -> None:  # fmt: skip
    import websockets

    async with websockets.connect(url, max_queue=None, open_timeout=60) as ws:
        await ws.send(json.dumps({"symbol": sym}))
        await ws.recv()
        start, last, got = time.time(), 0, 0
        ready.set()
        while not stop.is_set():
            try:
                frame = await asyncio.wait_for(ws.recv(), 1.0)
            except TimeoutError:
                continue
            now = time.time()
            q = json.loads(frame)
            stats.latencies.append(now - q["sent"])
            stats.out_of_order += q["seq"] < last
            last, got = q["seq"], got + 1
        stats.windows.append((sym, start, time.time(), got))
        stats.received += got


def _run_load(kind: str, urls: list[str], token: str, args: argparse.Namespace, prefix: str,
              pids: list[int]) -> dict[str, Any]:  # fmt: skip
    symbols = list(PAIRS[: args.symbols])
    stats = Stats()
    counts: dict[str, list[tuple[int, float]]] = {s: [] for s in symbols}
    rss0 = sum(_rss_mb(p) for p in pids)

    async def main() -> float:
        stop = asyncio.Event()
        readies = []
        tasks = []
        for i in range(args.clients):
            ready = asyncio.Event()
            readies.append(ready)
            sym, url = symbols[i % len(symbols)], urls[i % len(urls)]
            coro = (_nox_client(url, token, sym, stats, ready, stop) if kind == "nox"
                    else _peer_client(url, sym, stats, ready, stop))  # fmt: skip
            tasks.append(asyncio.create_task(coro))
            if i % 50 == 49:
                await asyncio.sleep(0.05)  # a connection storm is not what is measured
        await asyncio.wait_for(asyncio.gather(*(r.wait() for r in readies)), 300)
        rss = sum(_rss_mb(p) for p in pids)
        halt = threading.Event()
        pub = threading.Thread(target=_publish, args=(prefix, symbols, args.rate, halt, counts))
        pub.start()
        await asyncio.sleep(args.seconds)
        halt.set()
        pub.join()
        await asyncio.sleep(1.0)  # let the last messages land
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        return rss

    rss = asyncio.run(main())
    expected = sum(len(counts[s]) for s, *_ in stats.windows)
    lat = sorted(stats.latencies)
    return {
        "clients": len(stats.windows),
        "p50_ms": 1000 * statistics.median(lat) if lat else float("nan"),
        "p99_ms": 1000 * lat[int(0.99 * (len(lat) - 1))] if lat else float("nan"),
        "delivered_per_s": stats.received / args.seconds,
        "lost": max(0, expected - stats.received),
        "out_of_order": stats.out_of_order,
        "kb_per_connection": 1024 * (rss - rss0) / max(1, args.clients),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--clients", type=int, default=1000)
    ap.add_argument("--processes", type=int, default=2)
    ap.add_argument("--symbols", type=int, default=28)
    ap.add_argument("--rate", type=float, default=10.0, help="quotes per second per symbol")
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument(
        "--workers",
        default="gevent,gthread",
        help="gunicorn worker classes to measure (NOX_WEB_WORKER)",
    )
    args = ap.parse_args()
    import redis

    redis.Redis.from_url(REDIS).ping()
    prefix = f"bench{uuid.uuid4().hex[:6]}"
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        threads = args.clients // args.processes + 64
        for worker in args.workers.split(","):
            servers = [_start_nox(home, prefix, threads, worker) for _ in range(args.processes)]
            try:
                body = {"email": "bench@example.com", "password": PASSWORD}
                requests.post(servers[0][1] + "/api/v1/auth/register", json=body, timeout=30)
                token = requests.post(servers[0][1] + "/api/v1/auth/login", json=body,
                                      timeout=30).json()["access_token"]  # fmt: skip
                rows.append((f"NOX Socket.IO (gunicorn {worker}, Redis)",
                             _run_load("nox", [u for _, u in servers], token, args, prefix,
                                       [p.pid for p, _ in servers])))  # fmt: skip
                print(rows[-1], flush=True)
            finally:
                for p, _ in servers:
                    p.terminate()
                for p, _ in servers:
                    p.wait(30)
        from noxfx.stream.bus import market_channel

        peers = [_start_peer(market_channel(prefix)) for _ in range(args.processes)]
        try:
            rows.append(("peer: bare websockets broadcast (asyncio)",
                         _run_load("peer", [u for _, u in peers], "", args, prefix,
                                   [p.pid for p, _ in peers])))  # fmt: skip
        finally:
            for p, _ in peers:
                p.terminate()
    print(f"{args.clients} clients, {args.processes} processes, {args.symbols} symbols x "
          f"{args.rate:g} quotes/s, {args.seconds:g} s")  # fmt: skip
    head = ("server", "clients", "p50 ms", "p99 ms", "msgs/s", "lost", "out of order", "KB/conn")
    print(f"{head[0]:<44}" + "".join(f"{h:>14}" for h in head[1:]))
    for name, r in rows:
        print(f"{name:<44}{r['clients']:>14}{r['p50_ms']:>14.1f}{r['p99_ms']:>14.1f}"
              f"{r['delivered_per_s']:>14.0f}{r['lost']:>14}{r['out_of_order']:>14}"
              f"{r['kb_per_connection']:>14.0f}")  # fmt: skip


if __name__ == "__main__":
    main()
