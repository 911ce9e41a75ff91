"""Load test of the API under gunicorn with production settings (loopback only, bounded).

Starts ``noxfx.service.serve`` in a subprocess (production mode, a random secret key, a fresh
NOX_HOME with the bundled sample bars, SQLite, Redis db 13 when Redis answers on 127.0.0.1:6379
else in-process cache and limits), then drives it for a fixed duration per case with two load
generators in turn: a closed loop of N Python threads (one keep-alive ``http.client``
connection each) and wrk (C; installed by ``make bench``), which leaves more CPU to the server.

Cases:

* ``GET /api/v1/market-data/EURUSD?timeframe=1h&limit=100`` (public, cached), from one client
  whose market-data limit is raised so it is not answered with 429s. The limiter still runs,
  but its moving window for that one client holds every request of the last minute (tens of
  thousands), which no real client reaches.
* the same endpoint from 5,000 clients behind one trusted reverse proxy (``X-Forwarded-For``
  rotates through 5,000 addresses), with the production limits (100/min per client): what a
  busy public deployment sees. No 429 is expected at these rates (every client stays under).
* ``POST /api/v1/trading-strategy`` with ``{"symbol": "EURUSD", "timeframe": "1h",
  "risk_tolerance": "medium"}`` (public, plan cached per data version; limit raised).
* ``GET /api/v1/analysis/EURUSD`` (authenticated, cached report; limit raised).

Prints requests/s, p50/p99 latency and the status codes seen. The first request of each case
(the cold computation) is timed separately.

    python benchmarks/bench_api.py [--seconds 30] [--threads 16] [--workers N]
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _redis_url() -> str | None:
    try:
        import redis

        url = "redis://127.0.0.1:6379/13"
        client = redis.Redis.from_url(url, socket_connect_timeout=1)
        client.ping()
        client.flushdb()
        return url
    except Exception:
        return None


def _request(
    conn: http.client.HTTPConnection,
    method: str,
    path: str,
    body: dict | None = None,
    headers: dict | None = None,
) -> tuple[int, bytes]:
    data = json.dumps(body).encode() if body is not None else None
    hdrs = {"Content-Type": "application/json", **(headers or {})}
    conn.request(method, path, body=data, headers=hdrs)
    resp = conn.getresponse()
    return resp.status, resp.read()


def _wait_ready(port: int, proc: subprocess.Popen[bytes], timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            if _request(conn, "GET", "/readyz")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit("server did not become ready")


def _wrk(port: int, case: Case, seconds: float, conns: int, work: Path) -> str:
    """The same load from wrk (C, 2 threads), which leaves more CPU to the server."""
    import re
    import shutil

    if shutil.which("wrk") is None:
        return "  wrk: not installed (apt-get install wrk)"
    script = work / "wrk-case.lua"
    script.write_text(case.wrk_lua())
    cmd = ["wrk", "-t2", f"-c{conns}", f"-d{int(seconds)}s", "--latency", "-s", str(script),
           f"http://127.0.0.1:{port}{case.path}"]  # fmt: skip
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60).stdout
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    p50 = re.search(r"\s50%\s+([\d.]+\w+)", out)
    p99 = re.search(r"\s99%\s+([\d.]+\w+)", out)
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return (f"  wrk: {float(rps[1]) if rps else float('nan'):,.0f} req/s, "
            f"p50 {p50[1] if p50 else '?'}, p99 {p99[1] if p99 else '?'}, "
            f"non-2xx {bad[1] if bad else 0}")  # fmt: skip


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


@dataclass
class Case:
    """One endpoint under load: method, path, JSON body, headers and rotating client count."""

    title: str
    method: str
    path: str
    body: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    clients: int = 0  # > 0: X-Forwarded-For rotates through this many addresses

    def request_headers(self, n: int) -> dict[str, str]:
        if not self.clients:
            return self.headers
        return {**self.headers, "X-Forwarded-For": _address(n % self.clients)}

    def wrk_lua(self) -> str:
        lines = [
            f'wrk.method = "{self.method}"',
            'wrk.headers["Content-Type"] = "application/json"',
        ]
        lines += [f'wrk.headers["{k}"] = "{v}"' for k, v in self.headers.items()]
        if self.body is not None:
            lines.append(f"wrk.body = '{json.dumps(self.body)}'")
        if self.clients:
            lines += [
                "local n = math.random(0, 1000000)",
                "request = function()",
                "  n = n + 1",
                f"  local i = n % {self.clients}",
                '  wrk.headers["X-Forwarded-For"] = string.format("10.%d.%d.%d", '
                "math.floor(i / 65536) % 256, math.floor(i / 256) % 256, i % 256)",
                "  return wrk.format()",
                "end",
            ]
        return "\n".join(lines) + "\n"


def _address(i: int) -> str:
    return f"10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}"


def _load(port: int, case: Case, seconds: float, threads: int) -> tuple[list[float], Counter[int]]:
    latencies: list[list[float]] = [[] for _ in range(threads)]
    statuses: list[Counter[int]] = [Counter() for _ in range(threads)]
    stop = time.monotonic() + seconds

    def run(i: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        n = i * 7919
        while time.monotonic() < stop:
            n += 1
            t0 = time.perf_counter()
            try:
                status, _ = _request(conn, case.method, case.path, case.body,
                                     case.request_headers(n))  # fmt: skip
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                status = -1
            latencies[i].append(time.perf_counter() - t0)
            statuses[i][status] += 1
        conn.close()

    workers = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return [x for lat in latencies for x in lat], sum(statuses, Counter())


@contextlib.contextmanager
def _server(home: Path, workers: int, extra_env: dict[str, str]) -> Iterator[int]:
    """gunicorn (``noxfx.service.serve``) in production mode on a free loopback port."""
    port = _free_port()
    redis_url = _redis_url()
    env = {**os.environ, "NOX_HOME": str(home), "NOX_ENVIRONMENT": "production",
           "NOX_SECRET_KEY": secrets.token_urlsafe(48), "NOX_LOG_LEVEL": "WARNING",
           "NOX_JOB_BACKEND": "thread", **extra_env}  # fmt: skip
    env.pop("NOX_DATABASE_URL", None)
    if redis_url:
        env["NOX_REDIS_URL"] = redis_url
    else:
        env.pop("NOX_REDIS_URL", None)
    code = (
        f"from noxfx.service import serve; serve('127.0.0.1', {port}, workers={workers}, threads=8)"
    )
    with open(home / "server.log", "ab") as log:
        proc = subprocess.Popen([sys.executable, "-c", code], env=env, stdout=log, stderr=log)
        try:
            _wait_ready(port, proc)
            yield port
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()


def _run_case(port: int, case: Case, args: argparse.Namespace, home: Path) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    t0 = time.perf_counter()
    status, _ = _request(conn, case.method, case.path, case.body, case.request_headers(0))
    cold_ms = (time.perf_counter() - t0) * 1e3
    lat, statuses = _load(port, case, args.seconds, args.threads)
    rps = len(lat) / args.seconds
    print(
        f"{case.title}: {case.method} {case.path}\n  first (cold) request {cold_ms:.0f} ms "
        f"(status {status}); python: {len(lat)} requests, {rps:,.0f} req/s, "
        f"p50 {_pct(lat, 0.5) * 1e3:.2f} ms, p99 {_pct(lat, 0.99) * 1e3:.2f} ms, "
        f"statuses {dict(statuses)}"
    )
    print(_wrk(port, case, args.seconds, args.threads, home), flush=True)


RAISED = {"NOX_RATE_LIMIT_MARKET": "10000000/minute", "NOX_RATE_LIMIT_TRADING": "10000000/minute",
          "NOX_RATE_LIMIT_AUTH": "1000/minute"}  # fmt: skip
MARKET = "/api/v1/market-data/EURUSD?timeframe=1h&limit=100"
STRATEGY = {"symbol": "EURUSD", "timeframe": "1h", "risk_tolerance": "medium"}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--threads", type=int, default=16)
    ap.add_argument("--workers", type=int, default=(os.cpu_count() or 1) + 1)
    args = ap.parse_args()

    home = Path(tempfile.mkdtemp(prefix="nox-bench-"))
    from noxfx.data.sample import bootstrap
    from noxfx.data.store import BarStore

    bootstrap(BarStore(home / "bars"))
    redis_url = _redis_url()
    print(
        f"gunicorn: {args.workers} workers x 8 threads, production mode, "
        f"{'Redis ' + redis_url if redis_url else 'no Redis (in-process cache/limits)'}; "
        f"load: {args.threads} keep-alive connections, {args.seconds:.0f} s per case and "
        f"generator, {os.cpu_count()} CPUs shared by server, Redis and load generator"
    )
    with _server(home, args.workers, RAISED) as port:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        user = {"email": "bench@example.com", "password": "a long benchmark passphrase"}
        _request(conn, "POST", "/api/v1/auth/register", user)
        status, body = _request(conn, "POST", "/api/v1/auth/login", user)
        assert status == 200, body
        auth = {"Authorization": f"Bearer {json.loads(body)['access_token']}"}
        for case in (
            Case("market data, one client (limit raised)", "GET", MARKET),
            Case("trading strategy (limit raised)", "POST", "/api/v1/trading-strategy", STRATEGY),
            Case(
                "analysis, one user (limit raised)", "GET", "/api/v1/analysis/EURUSD", headers=auth
            ),
        ):
            _run_case(port, case, args, home)
    if redis_url:
        import redis

        redis.Redis.from_url(redis_url).flushdb()
    with _server(home, args.workers, {"NOX_TRUSTED_PROXIES": "1"}) as port:
        many = Case("market data, 5,000 clients behind a proxy (production limits, 100/min)",
                    "GET", MARKET, clients=5000)  # fmt: skip
        _run_case(port, many, args, home)


if __name__ == "__main__":
    main()
