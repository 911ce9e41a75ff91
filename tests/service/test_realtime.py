"""Socket.IO on real server processes (issue 16): `noxfx serve` under gunicorn, real
python-socketio clients over websockets, the replay stream embedded or in its own process
publishing through real Redis to two API processes."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import socketio

from tests.service.conftest import PASSWORD

WAIT_S = 60.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NOX_")}
    env.update({"NOX_HOME": str(home), "NOX_STREAM_SPEED": "3600", "NOX_LOG_LEVEL": "WARNING",
                "NOX_STREAM_SYMBOLS": "EURUSD,GBPUSD", **extra})  # fmt: skip
    return env


class Server:
    """``noxfx serve`` on a free port, until stopped."""

    def __init__(self, home: Path, **env: str) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = home / f"serve-{self.port}.log"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "noxfx", "serve", "--port", str(self.port), "--workers", "1"],
            env=_env(home, **env), stdout=self.log.open("w"), stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"noxfx serve exited: {self.log.read_text()[-2000:]}")
            try:
                if requests.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                time.sleep(0.2)
        self.stop()
        pytest.fail(f"noxfx serve did not answer /healthz: {self.log.read_text()[-2000:]}")

    def token(self) -> tuple[str, str]:
        """(access token, refresh token) of a new user."""
        email = f"live-{uuid.uuid4().hex[:10]}@example.com"
        body = {"email": email, "password": PASSWORD}
        assert requests.post(self.url + "/api/v1/auth/register", json=body).status_code == 201
        tokens = requests.post(self.url + "/api/v1/auth/login", json=body).json()
        return tokens["access_token"], tokens["refresh_token"]

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


class Recorder:
    """A Socket.IO client keeping every event it receives, in order."""

    def __init__(self, url: str, token: str | None) -> None:
        self.token = token
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.lock = threading.Lock()
        self.client = socketio.Client(reconnection=False)
        for name in ("market_update", "bar", "bar_closed", "auth_expired", "user_event"):
            self.client.on(name, self._keep(name))
        self.client.connect(url, auth={"token": token} if token else None,
                            transports=["websocket"], wait_timeout=10)  # fmt: skip

    def _keep(self, name: str) -> Callable[[dict[str, Any]], None]:
        def keep(data: dict[str, Any]) -> None:
            with self.lock:
                self.events.append((name, data))

        return keep

    def of(self, name: str) -> list[dict[str, Any]]:
        with self.lock:
            return [d for n, d in self.events if n == name]

    def wait_for(self, check: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            if check():
                return
            time.sleep(0.05)
        pytest.fail(f"timed out waiting for {what}; got {len(self.events)} events")


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("live")
    out = subprocess.run([sys.executable, "-m", "noxfx", "data", "bootstrap"], env=_env(home),
                         capture_output=True, text=True, timeout=120)  # fmt: skip
    assert out.returncode == 0, out.stderr
    return home


@pytest.fixture(scope="module")
def embedded(home: Path) -> Iterator[Server]:
    """`noxfx serve` with no Redis: the replay stream runs inside the API process."""
    server = Server(home, NOX_WS_AUTH_CHECK_SECONDS="0.5")
    yield server
    server.stop()


def test_a_connection_without_a_valid_token_is_refused(embedded: Server) -> None:
    for token in (None, "not-a-token"):
        with pytest.raises(socketio.exceptions.ConnectionError):
            Recorder(embedded.url, token)


def test_quotes_and_bars_arrive_live_and_rest_serves_the_live_quote(embedded: Server) -> None:
    client = Recorder(embedded.url, embedded.token()[0])
    ack = client.client.call("subscribe", {"symbol": "eurusd", "timeframe": "1h"}, timeout=10)
    assert ack["ok"] and ack["symbol"] == "EURUSD" and ack["timeframe"] == "1h"
    client.wait_for(lambda: len(client.of("bar_closed")) >= 3, "3 closed 1h bars")
    quotes = client.of("market_update")
    assert quotes and all(q["symbol"] == "EURUSD" and q["bid"] < q["ask"] for q in quotes)
    times = [q["time"] for q in quotes]
    assert times == sorted(times)  # in order
    bars = client.of("bar_closed")
    assert all(b["timeframe"] == "1h" and b["closed"] for b in bars)
    assert [b["time"] for b in bars] == sorted({b["time"] for b in bars})  # no duplicate
    assert all(b["low"] <= min(b["open"], b["close"]) <= b["high"] for b in bars)
    assert {b["timeframe"] for b in client.of("bar")} == {"1h"}
    body = requests.get(embedded.url + "/api/v1/market-data/EURUSD?limit=1").json()
    assert body["quote"]["source"] == "live:replay" and body["quote"]["age_seconds"] < 60
    bad = client.client.call("subscribe", {"symbol": "EURUSX"}, timeout=10)
    assert not bad["ok"] and "EURUSD" in bad["error"]
    client.client.disconnect()


def test_reconnect_with_since_gets_exactly_the_missed_bars(embedded: Server) -> None:
    token = embedded.token()[0]
    reference = Recorder(embedded.url, token)
    reference.client.call("subscribe", {"symbol": "GBPUSD", "timeframe": "1h"}, timeout=10)
    first = Recorder(embedded.url, token)
    first.client.call("subscribe", {"symbol": "GBPUSD", "timeframe": "1h"}, timeout=10)
    first.wait_for(lambda: len(first.of("bar_closed")) >= 2, "2 closed bars")
    first.client.disconnect()
    last = first.of("bar_closed")[-1]["time"]
    # while it is away, bars keep closing
    reference.wait_for(lambda: sum(b["time"] > last for b in reference.of("bar_closed")) >= 3,
                       "3 bars closed while the client was away")  # fmt: skip
    again = Recorder(embedded.url, token)
    ack = again.client.call("subscribe", {"symbol": "GBPUSD", "timeframe": "1h", "since": last},
                            timeout=10)  # fmt: skip
    assert ack["ok"] and ack["resumed"] >= 3
    again.wait_for(lambda: len(again.of("bar_closed")) >= ack["resumed"] + 2, "live bars after")
    got = [b["time"] for b in again.of("bar_closed")]
    assert got == sorted(set(got)) and got[0] > last  # no duplicate, nothing before `since`
    resumed = [b for b in again.of("bar_closed") if b.get("resumed")]
    assert len(resumed) == ack["resumed"] and got[: len(resumed)] == [b["time"] for b in resumed]
    # no gap: exactly the reference's bars after `since`, up to the newest both have
    newest = got[-1]
    reference.wait_for(lambda: any(b["time"] >= newest for b in reference.of("bar_closed")),
                       "the reference to reach the same bar")  # fmt: skip
    expected = [b["time"] for b in reference.of("bar_closed") if last < b["time"] <= newest]
    assert got == expected
    for c in (reference, again):
        c.client.disconnect()


def test_a_revoked_session_is_disconnected(embedded: Server) -> None:
    access, _ = embedded.token()
    client = Recorder(embedded.url, access)
    assert client.client.connected
    r = requests.post(embedded.url + "/api/v1/auth/logout", json={},
                      headers={"Authorization": f"Bearer {access}"})  # fmt: skip
    assert r.status_code in (200, 204), r.text
    client.wait_for(lambda: bool(client.of("auth_expired")), "auth_expired")
    client.wait_for(lambda: not client.client.connected, "the disconnect")


def test_server_mode_one_stream_reaches_clients_on_two_api_processes(
    home: Path, redis_url: str
) -> None:
    """Redis between one `noxfx stream` and two API processes; an emit from a third process
    (a write-only RedisManager, as alerts and workers use) reaches a user on either."""
    from noxfx.stream.emitters import RedisEmitter

    prefix = f"t{uuid.uuid4().hex[:8]}"  # pub/sub channels ignore the database number
    env = {"NOX_REDIS_URL": redis_url, "NOX_STREAM_PREFIX": prefix}
    servers: list[Server] = []
    stream = subprocess.Popen(
        [sys.executable, "-m", "noxfx", "stream", "--symbols", "EURUSD"],
        env=_env(home, **env), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        servers.extend(Server(home, **env) for _ in range(2))
        a, b = servers
        clients = [Recorder(s.url, s.token()[0]) for s in (a, b)]
        for c in clients:
            assert c.client.call("subscribe", {"symbol": "EURUSD", "timeframe": "1h"},
                                 timeout=10)["ok"]  # fmt: skip
        for c in clients:
            c.wait_for(lambda c=c: len(c.of("market_update")) >= 20, "20 quotes")
        seen = [[q["time"] for q in c.of("market_update")] for c in clients]
        common = set(seen[0]) & set(seen[1])
        assert len(common) >= 10  # the same ticks, from one publisher, on both processes
        for times in seen:
            assert times == sorted(times)
        auth = {"Authorization": f"Bearer {clients[1].token}"}
        user = requests.get(b.url + "/api/v1/users/me", headers=auth)
        assert user.status_code == 200, user.text
        RedisEmitter(redis_url, prefix).emit("user_event", {"hello": "from a worker"},
                                             room=f"user_{user.json()['id']}")  # fmt: skip
        clients[1].wait_for(lambda: bool(clients[1].of("user_event")), "the user event")
        assert clients[1].of("user_event") == [{"hello": "from a worker"}]
        for c in clients:
            c.client.disconnect()
    finally:
        stream.terminate()
        stream.wait(10)
        for server in servers:
            server.stop()


def test_the_gevent_worker_serves_the_same_events(home: Path) -> None:
    """NOX_WEB_WORKER=gevent (one greenlet per websocket): refusal and live events as above."""
    server = Server(home, NOX_WEB_WORKER="gevent")
    try:
        with pytest.raises(socketio.exceptions.ConnectionError):
            Recorder(server.url, "not-a-token")
        client = Recorder(server.url, server.token()[0])
        assert client.client.call("subscribe", {"symbol": "EURUSD", "timeframe": "1h"},
                                  timeout=10)["ok"]  # fmt: skip
        client.wait_for(lambda: len(client.of("bar_closed")) >= 2, "2 closed bars")
        times = [q["time"] for q in client.of("market_update")]
        assert times and times == sorted(times)
        client.client.disconnect()
    finally:
        server.stop()
