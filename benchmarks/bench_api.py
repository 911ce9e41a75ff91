"""Load test of the API under gunicorn with production settings (loopback only, bounded).

Starts ``noxfx.service.serve`` in a subprocess (production mode, a random secret key, a fresh
NOX_HOME with the bundled sample bars, SQLite, Redis db 13 when Redis answers on 127.0.0.1:6379
else in-process cache and limits), then drives it with a closed-loop load generator: N threads,
each with one keep-alive ``http.client`` connection, for a fixed duration per endpoint:

* ``GET /api/v1/market-data/EURUSD?timeframe=1h&limit=100`` (public, cached)
* ``GET /api/v1/analysis/EURUSD`` (authenticated, cached report)

Rate limits stay on (the limiter's cost is part of the figure) but are raised so the load is
not answered with 429s. Prints requests/s, p50/p99 latency and the status codes seen.

    python benchmarks/bench_api.py [--seconds 30] [--threads 16] [--workers N]
"""

from __future__ import annotations

import argparse
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
from pathlib import Path


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


def _load(
    port: int, path: str, headers: dict[str, str], seconds: float, threads: int
) -> tuple[list[float], Counter[int]]:
    latencies: list[list[float]] = [[] for _ in range(threads)]
    statuses: list[Counter[int]] = [Counter() for _ in range(threads)]
    stop = time.monotonic() + seconds

    def run(i: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while time.monotonic() < stop:
            t0 = time.perf_counter()
            try:
                status, _ = _request(conn, "GET", path, headers=headers)
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


def _wrk(port: int, path: str, headers: dict[str, str], seconds: float, conns: int) -> str:
    """The same load from wrk (C, 2 threads), which leaves more CPU to the server."""
    import re
    import shutil

    if shutil.which("wrk") is None:
        return "  wrk: not installed (apt-get install wrk)"
    cmd = ["wrk", "-t2", f"-c{conns}", f"-d{int(seconds)}s", "--latency"]
    for k, v in headers.items():
        cmd += ["-H", f"{k}: {v}"]
    out = subprocess.run([*cmd, f"http://127.0.0.1:{port}{path}"], capture_output=True,
                         text=True, timeout=seconds + 60).stdout  # fmt: skip
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
    port = _free_port()
    redis_url = _redis_url()
    env = {
        **os.environ,
        "NOX_HOME": str(home),
        "NOX_ENVIRONMENT": "production",
        "NOX_SECRET_KEY": secrets.token_urlsafe(48),
        "NOX_LOG_LEVEL": "WARNING",
        "NOX_RATE_LIMIT_MARKET": "10000000/minute",
        "NOX_RATE_LIMIT_AUTH": "1000/minute",
        "NOX_JOB_BACKEND": "thread",
    }
    env.pop("NOX_DATABASE_URL", None)
    if redis_url:
        env["NOX_REDIS_URL"] = redis_url
    else:
        env.pop("NOX_REDIS_URL", None)
    code = (
        f"from noxfx.service import serve; serve('127.0.0.1', {port}, "
        f"workers={args.workers}, threads=8)"
    )
    log = open(home / "server.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen([sys.executable, "-c", code], env=env, stdout=log, stderr=log)
    try:
        _wait_ready(port, proc)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        user = {"email": "bench@example.com", "password": "a long benchmark passphrase"}
        _request(conn, "POST", "/api/v1/auth/register", user)
        status, body = _request(conn, "POST", "/api/v1/auth/login", user)
        assert status == 200, body
        auth = {"Authorization": f"Bearer {json.loads(body)['access_token']}"}
        targets = [
            ("/api/v1/market-data/EURUSD?timeframe=1h&limit=100", {}),
            ("/api/v1/analysis/EURUSD", auth),
        ]
        print(
            f"gunicorn: {args.workers} workers x 8 threads, production mode, "
            f"{'Redis ' + redis_url if redis_url else 'no Redis (in-process cache/limits)'}; "
            f"load: {args.threads} keep-alive connections, {args.seconds:.0f} s per endpoint, "
            f"{os.cpu_count()} CPUs shared by server and load generator"
        )
        for path, headers in targets:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            t0 = time.perf_counter()
            status, _ = _request(conn, "GET", path, headers=headers)  # warm the cache
            cold_ms = (time.perf_counter() - t0) * 1e3
            lat, statuses = _load(port, path, headers, args.seconds, args.threads)
            rps = len(lat) / args.seconds
            print(
                f"{path}\n  first (cold) request {cold_ms:.0f} ms (status {status}); "
                f"{len(lat)} requests, {rps:,.0f} req/s, p50 {_pct(lat, 0.5) * 1e3:.2f} ms, "
                f"p99 {_pct(lat, 0.99) * 1e3:.2f} ms, statuses {dict(statuses)}"
            )
            print(_wrk(port, path, headers, args.seconds, args.threads))
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


if __name__ == "__main__":
    main()
