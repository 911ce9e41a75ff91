"""Price alerts (issue 17): the API, the live listener on real quotes and a real database, the
outbox delivering to a local webhook receiver that checks the signature, and end to end on a
real `noxfx serve` whose embedded replay moves EURUSD through the level."""

from __future__ import annotations

import http.server
import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest
import requests
import socketio

from noxfx.alerts.webhooks import verify
from noxfx.data.providers.base import Quote
from noxfx.service.alert_listener import AlertListener
from tests.service.conftest import assert_problem, bearer, new_user
from tests.service.test_realtime import Server, _env


class Receiver:
    """A local HTTP server recording webhook POSTs; answers ``status`` (settable)."""

    def __init__(self) -> None:
        self.posts: list[tuple[dict[str, str], bytes]] = []
        self.status = 200
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                outer.posts.append((dict(self.headers.items()), body))
                self.send_response(outer.status)
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                return None

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


class Recording:
    """The listener's emitter in-process (the real Socket.IO path is tested end to end below)."""

    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any], str]] = []

    def emit(self, event: str, data: dict[str, Any], room: str) -> None:
        self.events.append((event, data, room))


def _alert(client: Any, auth: dict[str, str], **body: Any) -> Any:
    base = {"symbol": "EURUSD", "condition": {"type": "price_cross", "level": 1.0500,
                                              "direction": "up"}}  # fmt: skip
    return client.post("/api/v1/alerts", json={**base, **body}, headers=auth)


def test_alerts_api(make_app: Any, receiver: Receiver) -> None:
    app = make_app()
    client = app.test_client()
    _, tokens = new_user(client)
    auth = bearer(tokens["access_token"])
    r = _alert(client, auth, message="EURUSD above 1.05")
    assert r.status_code == 201, r.get_json()
    alert = r.get_json()
    assert alert["status"] == "active" and alert["channels"] == ["socket"]
    assert alert["webhook_secret"] is None
    # webhooks: loopback refused unless allowed; the secret is shown once
    assert_problem(_alert(client, auth, channels=["webhook"], webhook_url=receiver.url), 422)
    allowed = make_app(webhook_allow_private=True).test_client()
    _, t2 = new_user(allowed)
    a2 = bearer(t2["access_token"])
    made = _alert(allowed, a2, channels=["socket", "webhook"], webhook_url=receiver.url)
    assert made.status_code == 201, made.get_json()
    secret = made.get_json()["webhook_secret"]
    assert secret and len(secret) >= 32
    got = allowed.get(f"/api/v1/alerts/{made.get_json()['id']}", headers=a2).get_json()
    assert "webhook_secret" not in got and "webhook_secret_encrypted" not in got
    # list, pause, another user's alert, delete
    assert [a["id"] for a in client.get("/api/v1/alerts", headers=auth).get_json()] == [alert["id"]]
    paused = client.patch(f"/api/v1/alerts/{alert['id']}", json={"status": "paused"}, headers=auth)
    assert paused.get_json()["status"] == "paused"
    _, other = new_user(client)
    assert_problem(client.get(f"/api/v1/alerts/{alert['id']}",
                              headers=bearer(other["access_token"])), 404)  # fmt: skip
    assert client.delete(f"/api/v1/alerts/{alert['id']}", headers=auth).status_code == 204
    assert_problem(client.get(f"/api/v1/alerts/{alert['id']}", headers=auth), 404)
    # bad input
    assert_problem(_alert(client, auth, symbol="EURUSX"), 404)
    assert_problem(_alert(client, auth, condition={"type": "price_cross", "level": -1}), 422)
    assert_problem(_alert(client, auth, channels=["webhook"]), 422)  # no URL


@pytest.mark.parametrize("db_backend", ["sqlite", "postgres"])
def test_a_real_path_fires_once_and_the_outbox_delivers_signed(
    make_app: Any, make_settings: Any, receiver: Receiver, eurusd_m1: pd.DataFrame
) -> None:
    """HistData EURUSD 1m closes as quotes through a level: one firing, one signed webhook,
    one socket event; a webhook that fails is retried and delivered later."""
    settings = make_settings(webhook_allow_private=True, alerts_refresh_seconds=0.2)
    app = make_app(webhook_allow_private=True, alerts_refresh_seconds=0.2)
    client = app.test_client()
    _, tokens = new_user(client)
    auth = bearer(tokens["access_token"])
    closes = eurusd_m1["close"].iloc[:3000]
    level = round(float(closes.iloc[0]) - 0.0040, 4)
    assert closes.min() < level  # the real path (early January 2017) falls through it
    body = _alert(client, auth, condition={"type": "price_cross", "level": level,
                                           "direction": "down", "price": "bid"},
                  channels=["socket", "webhook"], webhook_url=receiver.url).get_json()  # fmt: skip
    emitter = Recording()
    receiver.status = 500  # the receiver is down at first
    listener = AlertListener(settings, emitter)
    try:
        for t, c in closes.items():
            listener.on_quote(Quote("EURUSD", float(c), float(c) + 0.00008, pd.Timestamp(t), "t"))
        firings = client.get(f"/api/v1/alerts/{body['id']}/firings", headers=auth).get_json()
        assert len(firings) == 1
        payload = firings[0]["payload"]
        crossed = closes[closes <= level].index[0]
        assert payload["quote_time"] == pd.Timestamp(crossed).isoformat()
        assert payload["price"] <= level and payload["direction"] == "down"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not emitter.events:
            time.sleep(0.05)
        assert [(e, d["alert_id"], room) for e, d, room in emitter.events] == [
            ("alert", body["id"], f"user_{_user_id(client, auth)}")
        ]
        while time.monotonic() < deadline and not receiver.posts:
            time.sleep(0.05)
        assert receiver.posts  # tried, answered 500
        receiver.status = 200
        with app.app_context():
            _due_now(app)
        while time.monotonic() < deadline and _webhook_state(client, auth, body["id"]) != "sent":
            time.sleep(0.1)
        assert _webhook_state(client, auth, body["id"]) == "sent"
        headers, raw = receiver.posts[-1]
        assert verify(body["webhook_secret"], raw, headers)
        assert json.loads(raw)["idempotency_key"] == payload["idempotency_key"]
        assert (
            client.get(f"/api/v1/alerts/{body['id']}", headers=auth).get_json()["status"] == "fired"
        )
    finally:
        listener.close()


def _user_id(client: Any, auth: dict[str, str]) -> str:
    return str(client.get("/api/v1/users/me", headers=auth).get_json()["id"])


def _webhook_state(client: Any, auth: dict[str, str], alert_id: str) -> str:
    firings = client.get(f"/api/v1/alerts/{alert_id}/firings", headers=auth).get_json()
    return next(d["state"] for d in firings[0]["deliveries"] if d["channel"] == "webhook")


def _due_now(app: Any) -> None:
    """Skip the retry backoff (the time it waits is not what is tested)."""
    from sqlalchemy import update

    from noxfx.service.alert_models import AlertDelivery
    from noxfx.service.db import db, utcnow

    db.session.execute(update(AlertDelivery).where(AlertDelivery.state == "pending")
                       .values(next_attempt_at=utcnow()))  # fmt: skip
    db.session.commit()


def test_end_to_end_on_the_embedded_replay(receiver: Receiver, tmp_path: Any) -> None:
    """`noxfx serve` (embedded replay, SQLite) + an alert made through the API near the live
    price: the webhook and the user's socket get it exactly once, and its firing is stored."""
    home = tmp_path / "home"
    out = subprocess.run([sys.executable, "-m", "noxfx", "data", "bootstrap"], env=_env(home),
                         capture_output=True, text=True, timeout=120)  # fmt: skip
    assert out.returncode == 0, out.stderr
    server = Server(home, NOX_WEBHOOK_ALLOW_PRIVATE="1", NOX_STREAM_SYMBOLS="EURUSD")
    try:
        access = server.token()[0]
        alerts: list[dict[str, Any]] = []
        sio = socketio.Client(reconnection=False)
        sio.on("alert", alerts.append)
        sio.connect(server.url, auth={"token": access}, transports=["websocket"])
        ack = sio.call("subscribe", {"symbol": "EURUSD", "timeframe": "1h"}, timeout=10)
        deadline = time.monotonic() + 60
        quote = ack["quote"]
        while quote is None and time.monotonic() < deadline:
            time.sleep(0.2)
            quote = requests.get(server.url + "/api/v1/market-data/EURUSD?limit=1").json()["quote"]
            quote = quote if quote["source"].startswith("live") else None
        assert quote is not None
        level = round(quote["mid"] + 0.0003, 5)
        # made with the CLI, as a trader would (`noxfx alerts add`)
        made = subprocess.run(
            [sys.executable, "-m", "noxfx", "alerts", "add", "EURUSD", "--price-cross",
             str(level), "--webhook", receiver.url, "--api", server.url, "--json"],
            env={**_env(home), "NOX_API_TOKEN": access}, capture_output=True, text=True,
            timeout=60,
        )  # fmt: skip
        assert made.returncode == 0, made.stderr
        alert = json.loads(made.stdout)
        while time.monotonic() < deadline and not (alerts and receiver.posts):
            time.sleep(0.1)
        time.sleep(1.0)  # anything duplicated would arrive by now
        assert len(alerts) == 1 and alerts[0]["alert_id"] == alert["id"]
        assert len(receiver.posts) == 1 and verify(alert["webhook_secret"], receiver.posts[0][1],
                                                   receiver.posts[0][0])  # fmt: skip
        history = subprocess.run(
            [sys.executable, "-m", "noxfx", "alerts", "history", alert["id"], "--api",
             server.url, "--json"], env={**_env(home), "NOX_API_TOKEN": access},
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert history.returncode == 0, history.stderr
        firings = json.loads(history.stdout)
        assert len(firings) == 1
        assert {d["channel"]: d["state"] for d in firings[0]["deliveries"]} == {
            "socket": "sent", "webhook": "sent"}  # fmt: skip
        sio.disconnect()
    finally:
        server.stop()


def test_a_formula_alert_fires_each_time_its_condition_turns_true(market_app: Any) -> None:
    """`cross_over(close, sma(close, 20))` on EURUSD 1h, fed the sample's last 300 closed bars
    as the stream would: one firing per bar where the formula (evaluated on the whole history)
    turns true, and none elsewhere."""
    from noxfx.analysis.formula import evaluate
    from noxfx.stream.events import BarEvent

    client = market_app.test_client()
    _, tokens = new_user(client)
    auth = bearer(tokens["access_token"])
    expr = "cross_over(close, sma(close, 20))"
    bad = _alert(client, auth, condition={"type": "formula", "timeframe": "1h",
                                          "expression": "cross_over(close,"})  # fmt: skip
    assert "column" in assert_problem(bad, 422)["detail"]
    assert_problem(_alert(client, auth, condition={"type": "formula", "timeframe": "1h"}), 422)
    made = _alert(client, auth, condition={"type": "formula", "timeframe": "1h",
                                           "expression": expr}, repeat="every")  # fmt: skip
    assert made.status_code == 201, made.get_json()
    alert = made.get_json()
    rt = market_app.extensions["nox"]
    listener = AlertListener(rt.settings, Recording(), rt.store)
    try:
        bars = rt.store.read("EURUSD", "1h").iloc[-300:]
        for t, row in bars.iterrows():
            listener.on_bar_closed(BarEvent("EURUSD", "1h", pd.Timestamp(str(t)), row["open"],
                                            row["high"], row["low"], row["close"],
                                            row["volume"], True))  # fmt: skip
        full = evaluate(expr, rt.store.read("EURUSD", "1h"))
        turned = (full & ~full.shift(1, fill_value=False)).loc[bars.index]
        full = full.loc[bars.index]
        expected = sorted(t.isoformat() for t in full.index[turned.to_numpy()])
        firings = client.get(f"/api/v1/alerts/{alert['id']}/firings", headers=auth).get_json()
        got = sorted(f["payload"]["bar_time"] for f in firings)
        assert got == expected and len(got) >= 3
    finally:
        listener.close()
