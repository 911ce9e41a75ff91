"""Socket.IO on the API: live quotes and bars to clients (python-socketio, threading mode).

Wire contract (the specification's events):

* connect with ``auth: {"token": "<access token>"}``: refused without a valid access token
  (same checks as the REST API: signature, expiry, token version, live session); a connection
  whose token expires or is revoked later is disconnected (checked every
  ``ws_auth_check_seconds``). At most ``ws_max_connections_per_user`` per user per process.
* ``subscribe`` ``{symbol, timeframe, since?}`` -> joins ``market_{SYMBOL}`` (``market_update``:
  ``symbol, bid, ask, mid, spread`` (pips), ``time``, ``source``, ``sent``) and
  ``bars_{SYMBOL}_{TF}`` (``bar``: the forming bar; ``bar_closed``); with ``since`` (the open
  time of the last bar the client has) the closed bars it missed are sent first, then live ones,
  with no gap and no duplicate. Acknowledged with ``{ok, symbol, timeframe, resumed, quote}``
  or ``{ok: false, error}``. At most ``ws_max_subscriptions`` per connection.
* a client whose outgoing queue passes ``ws_max_queue`` packets gets ``slow_consumer`` and is
  disconnected (it reconnects with ``since``), so it cannot hold back the others.
* ``unsubscribe`` ``{symbol, timeframe}``.

Where the events come from: every API process subscribes to the stream's bus
(:mod:`noxfx.stream.bus`: Redis pub/sub in server mode, so each process hears every message
once and delivers it to its own clients, ``ignore_queue``; in embedded mode the replay stream
runs in this process on an in-process bus). Other processes (alerts, workers) reach any client
through the ``socketio.RedisManager`` message queue (:class:`noxfx.stream.emitters.RedisEmitter`).

Serving: ``socketio.WSGIApp`` in front of the Flask app (:func:`create_wsgi`), under gunicorn's
threaded worker (one thread per websocket) or, with ``NOX_WEB_WORKER=gevent``, its gevent
worker (one greenlet per websocket, simple-websocket; python-socketio's gevent mode); clients
connect websocket-first. Several gunicorn workers on one port need websocket-only clients (long
polling needs sticky sessions).
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pandas as pd

from noxfx.service.live_state import LiveState, bars_room, market_room

if TYPE_CHECKING:
    from apiflask import APIFlask

    from noxfx.service.settings import ServiceSettings
    from noxfx.stream.bus import Bus, Subscription

log = logging.getLogger(__name__)

#: Bus messages between two checks of the clients' queues.
_QUEUE_CHECK_EVERY = 200

#: ``app.extensions`` key of the process's :class:`Realtime`.
EXTENSION_KEY = "nox_realtime"


class ServerEmitter:
    """An :class:`~noxfx.stream.events.Emitter` on this process's own Socket.IO server."""

    def __init__(self, sio: Any) -> None:
        self.sio = sio

    def emit(self, event: str, data: dict[str, Any], room: str) -> None:
        self.sio.emit(event, data, room=room)


class Realtime:
    """The Socket.IO server of one API process, its live state and its bus subscription."""

    def __init__(self, app: APIFlask, settings: ServiceSettings) -> None:
        import socketio

        from noxfx.stream.emitters import socketio_channel

        self.app = app
        self.settings = settings
        manager = (
            socketio.RedisManager(
                settings.redis_url, channel=socketio_channel(settings.stream_prefix)
            )
            if settings.redis_url
            else None
        )
        # gevent worker: greenlets (gunicorn patched the standard library before loading us)
        mode = "gevent" if settings.web_worker == "gevent" else "threading"
        self.sio = socketio.Server(
            async_mode=mode, client_manager=manager, cors_allowed_origins="*",
            logger=False, engineio_logger=False, max_http_buffer_size=64 * 1024,
        )  # fmt: skip
        self.state = LiveState(max_bars=settings.ws_resume_max_bars)
        self._sessions: dict[str, dict[str, Any]] = {}
        self._sessions_lock = threading.Lock()
        self._bus: Bus | None = None
        self._subscription: Subscription | None = None
        self._stream: EmbeddedStream | None = None
        self._stop = threading.Event()
        self._register()

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        """Subscribe to the stream's bus; start the embedded replay when there is no Redis."""
        from noxfx.stream.bus import bus_for

        self._bus = bus_for(self.settings.redis_url, self.settings.stream_prefix)
        self._subscription = self._bus.subscribe(self.on_bus_message)
        if self.embedded:
            self._stream = EmbeddedStream(self, self._bus)
            self._stream.start()
        threading.Thread(target=self._check_tokens, name="nox-ws-auth", daemon=True).start()

    @property
    def embedded(self) -> bool:
        """The replay stream runs in this process: ``stream_embedded`` on, or auto and no Redis."""
        mode = self.settings.stream_embedded
        return mode == "on" or (mode == "auto" and not self.settings.redis_url)

    def close(self) -> None:
        self._stop.set()
        if self._stream is not None:
            self._stream.stop()
        if self._subscription is not None:
            self._subscription.close()
        if self._bus is not None:
            self._bus.close()

    # ------------------------------------------------------------------ bus -> clients
    def on_bus_message(self, message: dict[str, Any]) -> None:
        """One stream message: into the live state, out to this process's clients in order."""
        with self.state.lock:
            for event, data, room in self.state.apply(message):
                self.sio.emit(event, data, room=room, ignore_queue=True)
        if self.state.messages % _QUEUE_CHECK_EVERY == 0:
            self.drop_slow_clients()

    def queued(self, sid: str) -> int:
        """Packets waiting to be written to client ``sid`` (its engine.io queue)."""
        eio_sid = self.sio.manager.eio_sid_from_sid(sid, "/")
        sock = self.sio.eio.sockets.get(eio_sid) if eio_sid else None
        return int(sock.queue.qsize()) if sock is not None else 0

    def drop_slow_clients(self) -> list[str]:
        """Disconnect clients whose queue holds more than ``ws_max_queue`` packets (they are
        told with ``slow_consumer`` first), so a slow client cannot grow memory without bound
        nor hold back the others; they reconnect with ``since`` and resume."""
        limit = self.settings.ws_max_queue
        with self._sessions_lock:
            sids = list(self._sessions)
        queued = {sid: self.queued(sid) for sid in sids}
        dropped = [sid for sid, n in queued.items() if n > limit]
        for sid in dropped:
            log.warning("realtime: dropping slow client %s (%d packets queued)", sid, queued[sid])
            self.sio.emit("slow_consumer", {"queued": queued[sid], "limit": limit}, to=sid,
                          ignore_queue=True)  # fmt: skip
            self.sio.disconnect(sid, ignore_queue=True)
        return dropped

    # ------------------------------------------------------------------ handlers
    def _register(self) -> None:
        self.sio.on("connect", self._on_connect)
        self.sio.on("disconnect", self._on_disconnect)
        self.sio.on("subscribe", self._on_subscribe)
        self.sio.on("unsubscribe", self._on_unsubscribe)

    def _on_connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> bool:
        import socketio

        token = auth.get("token") if isinstance(auth, dict) else None
        user_id, reason = self._verify(token)
        if user_id is None:
            raise socketio.exceptions.ConnectionRefusedError(reason)
        with self._sessions_lock:
            mine = sum(1 for s in self._sessions.values() if s["user_id"] == user_id)
            if mine >= self.settings.ws_max_connections_per_user:
                raise socketio.exceptions.ConnectionRefusedError(
                    f"At most {self.settings.ws_max_connections_per_user} live connections per "
                    "user: close another one."
                )
            self._sessions[sid] = {"user_id": user_id, "token": token, "subs": set()}
        self.sio.enter_room(sid, f"user_{user_id}")
        return True

    def _on_disconnect(self, sid: str, *_: Any) -> None:
        with self._sessions_lock:
            self._sessions.pop(sid, None)

    def _on_subscribe(self, sid: str, data: Any) -> dict[str, Any]:
        try:
            symbol, timeframe = self._market(data)
            since = _since(data.get("since"))
        except ValueError as exc:
            return {"ok": False, "error": str(exc)}
        with self._sessions_lock:
            session = self._sessions.get(sid)
            if session is None:
                return {"ok": False, "error": "Not connected."}
            subs: set[tuple[str, str]] = session["subs"]
            if (symbol, timeframe) not in subs and len(subs) >= self.settings.ws_max_subscriptions:
                return {"ok": False, "error": f"At most {self.settings.ws_max_subscriptions} "
                                              "subscriptions per connection."}  # fmt: skip
            subs.add((symbol, timeframe))
        with self.state.lock:  # missed bars, then the rooms: nothing lost, nothing twice
            missed = self.state.closed_since(symbol, timeframe, since)
            for bar in missed:
                self.sio.emit("bar_closed", {**bar, "resumed": True}, to=sid, ignore_queue=True)
            self.sio.enter_room(sid, market_room(symbol))
            self.sio.enter_room(sid, bars_room(symbol, timeframe))
            quote = self.state.quote(symbol)
        return {"ok": True, "symbol": symbol, "timeframe": timeframe, "resumed": len(missed),
                "quote": quote}  # fmt: skip

    def _on_unsubscribe(self, sid: str, data: Any) -> dict[str, Any]:
        try:
            symbol, timeframe = self._market(data)
        except ValueError as exc:
            return {"ok": False, "error": str(exc)}
        with self._sessions_lock:
            session = self._sessions.get(sid)
            subs: set[tuple[str, str]] = session["subs"] if session else set()
            subs.discard((symbol, timeframe))
            still_symbol = any(s == symbol for s, _ in subs)
        self.sio.leave_room(sid, bars_room(symbol, timeframe))
        if not still_symbol:
            self.sio.leave_room(sid, market_room(symbol))
        return {"ok": True}

    @staticmethod
    def _market(data: Any) -> tuple[str, str]:
        from noxfx.errors import NoxError
        from noxfx.instruments import get_instrument
        from noxfx.timeframes import parse_timeframe

        if not isinstance(data, dict) or not isinstance(data.get("symbol"), str):
            raise ValueError("Send {symbol, timeframe}, e.g. {symbol: 'EURUSD', timeframe: '1m'}.")
        try:
            symbol = get_instrument(data["symbol"]).symbol
            timeframe = parse_timeframe(str(data.get("timeframe", "1m"))).name
        except NoxError as exc:
            raise ValueError(str(exc)) from None
        return symbol, timeframe

    # ------------------------------------------------------------------ tokens
    def _verify(self, token: Any) -> tuple[uuid.UUID | None, str]:
        """(user id, refusal reason) with the REST API's own checks (signature, expiry, token
        version, live session)."""
        from flask import g

        from noxfx.service.auth import token_auth

        if not isinstance(token, str) or not token:
            return None, "Send an access token: connect with auth {token: <access token>}."
        with self.app.app_context():
            user = token_auth.verify_token_callback(token)
            if user is None:
                return None, str(getattr(g, "auth_error", "Invalid token."))
            return user.id, ""

    def _check_tokens(self) -> None:
        """Disconnect connections whose token expired or was revoked since they connected."""
        while not self._stop.wait(self.settings.ws_auth_check_seconds):
            with self._sessions_lock:
                sessions = list(self._sessions.items())
            for sid, session in sessions:
                user_id, reason = self._verify(session["token"])
                if user_id is None:
                    self.sio.emit("auth_expired", {"reason": reason}, to=sid, ignore_queue=True)
                    self.sio.disconnect(sid, ignore_queue=True)


def _since(value: Any) -> str | None:
    """A client's ``since`` (ISO time, UTC if naive) in the wire's form, or None."""
    if value in (None, ""):
        return None
    try:
        t = pd.Timestamp(str(value))
    except (ValueError, TypeError):
        raise ValueError(f"since={value!r} is not a time (ISO 8601, UTC).") from None
    t = t.tz_localize("UTC") if t.tz is None else t.tz_convert("UTC")
    return t.isoformat()


class EmbeddedStream:
    """The replay stream inside the API process (embedded mode: no Redis), on its own thread:
    stored history replayed as ticks in a loop, same runner, same messages, same listeners."""

    def __init__(self, realtime: Realtime, bus: Bus) -> None:
        self.realtime = realtime
        self.bus = bus
        self.stop_event = threading.Event()
        self.thread: threading.Thread | None = None

    def start(self) -> None:
        self.thread = threading.Thread(target=self._run, name="nox-stream", daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.stop_event.set()

    def _run(self) -> None:
        try:
            runner, source = self._build()
        except Exception:
            log.exception("embedded stream: could not start")
            return
        if runner is None or source is None:
            return
        log.info("embedded stream: replaying %s", ", ".join(runner.symbols))
        runner.run(source, stop=self.stop_event)

    def _build(self) -> tuple[Any, Any]:
        from noxfx.stream.listeners import build_listeners
        from noxfx.stream.runner import StreamRunner
        from noxfx.stream.sources import ReplaySource

        settings = self.realtime.settings
        store = self.realtime.app.extensions["nox"].store
        wanted = [s.strip() for s in settings.stream_symbols.split(",") if s.strip()]
        symbols = wanted or store.symbols()
        if not symbols:
            log.warning("embedded stream: the bar store is empty, nothing to replay")
            return None, None
        finest = min(tf for s in symbols for tf in store.stored_timeframes(s))
        timeframes = [t for t in settings.stream_timeframes.split(",") if t.strip()]
        timeframes = [t for t in timeframes if _tf_seconds(t) >= finest.seconds] or [finest.name]
        emitter = ServerEmitter(self.realtime.sio)
        runner = StreamRunner(
            self.bus, symbols, store=store, timeframes=timeframes, persist=False,
            listeners=build_listeners(settings, emitter, store),
        )  # fmt: skip
        # every pair from the same moment: the last 500 finest bars before the earliest end
        end = min(
            store.info(s, finest).last for s in symbols if finest in store.stored_timeframes(s)
        )
        start = end - pd.Timedelta(seconds=500 * finest.seconds)
        source = ReplaySource(store, symbols, start=start, speed=settings.stream_speed, loop=True,
                              stop=self.stop_event)  # fmt: skip
        return runner, source


def _tf_seconds(name: str) -> int:
    from noxfx.timeframes import parse_timeframe

    return parse_timeframe(name.strip()).seconds


def create_wsgi(settings: ServiceSettings | None = None) -> Callable[..., Any]:
    """The API process's WSGI application: Socket.IO at ``/socket.io`` in front of the Flask
    app, the live feed started (what ``noxfx serve`` runs in each worker)."""
    import socketio

    from noxfx.service.app import create_app
    from noxfx.service.settings import ServiceSettings

    settings = settings or ServiceSettings()
    app = create_app(settings)
    realtime = Realtime(app, settings)
    app.extensions[EXTENSION_KEY] = realtime
    realtime.start()
    wsgi: Callable[..., Any] = socketio.WSGIApp(realtime.sio, app)
    return wsgi


def realtime_of(app: Any) -> Realtime | None:
    """The app's :class:`Realtime` when it serves live data (None under a bare ``create_app``)."""
    found = app.extensions.get(EXTENSION_KEY)
    return found if isinstance(found, Realtime) else None


__all__ = ["EXTENSION_KEY", "EmbeddedStream", "Realtime", "ServerEmitter", "create_wsgi",
           "realtime_of"]  # fmt: skip
