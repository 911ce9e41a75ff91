"""The market-event bus: how the stream's events reach every API process.

Two implementations of one small interface (:class:`Bus`):

* :class:`InProcessBus` (embedded mode): ``publish`` calls each subscriber on the publisher's
  thread. No Redis, no serialisation.
* :class:`RedisBus` (server mode): ``publish`` is one Redis ``PUBLISH`` of a JSON document on the
  channel ``{prefix}:market``; each subscriber gets a thread that reads the channel and calls its
  handler in publish order. Redis pub/sub is fire-and-forget: a subscriber that is not connected
  misses messages (clients catch up on closed bars from the bar store when they resubscribe).

Redis pub/sub channels are global across Redis databases, so the prefix is a setting
(``NOX_STREAM_PREFIX``, default ``nox``): two deployments (or two test runs) on one Redis use
different prefixes.

Messages are plain JSON objects with a ``type``: ``tick`` (a quote and the forming bars it
changed) and ``bar_closed`` (see :mod:`noxfx.stream.messages`).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from typing import Any, Protocol

log = logging.getLogger(__name__)

Handler = Callable[[dict[str, Any]], None]


class Subscription(Protocol):
    def close(self) -> None: ...


class Bus(Protocol):
    """Carries market events from one publisher (the stream) to any number of subscribers."""

    def publish(self, message: dict[str, Any]) -> None: ...

    def subscribe(self, handler: Handler) -> Subscription: ...

    def close(self) -> None: ...


def market_channel(prefix: str) -> str:
    """The pub/sub channel of market events for ``prefix``."""
    return f"{prefix}:market"


class _InProcessSubscription:
    def __init__(self, bus: InProcessBus, handler: Handler) -> None:
        self._bus, self._handler = bus, handler

    def close(self) -> None:
        self._bus._remove(self._handler)


class InProcessBus:
    """Embedded mode: subscribers are called synchronously, in order, by ``publish``.

    A handler that raises is logged and does not stop the others.
    """

    def __init__(self) -> None:
        self._handlers: list[Handler] = []
        self._lock = threading.Lock()

    def publish(self, message: dict[str, Any]) -> None:
        for handler in self._handlers:  # a copy-on-write list: safe to iterate without the lock
            try:
                handler(message)
            except Exception:
                log.exception("bus subscriber failed on a %s message", message.get("type"))

    def subscribe(self, handler: Handler) -> Subscription:
        with self._lock:
            self._handlers = [*self._handlers, handler]
        return _InProcessSubscription(self, handler)

    def _remove(self, handler: Handler) -> None:
        with self._lock:
            self._handlers = [h for h in self._handlers if h is not handler]

    def close(self) -> None:
        with self._lock:
            self._handlers = []


class _RedisSubscription:
    """A reader thread on the market channel; reconnects (after a pause) when Redis drops."""

    def __init__(self, url: str, channel: str, handler: Handler) -> None:
        self._url, self._channel, self._handler = url, channel, handler
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="nox-bus", daemon=True)
        self._thread.start()
        self._ready.wait(5.0)  # subscribed (or failed once) before we return

    def _run(self) -> None:
        import redis

        while not self._stop.is_set():
            client = redis.Redis.from_url(
                self._url, socket_connect_timeout=2, health_check_interval=30
            )
            pubsub = client.pubsub(ignore_subscribe_messages=True)
            try:
                pubsub.subscribe(self._channel)
                self._ready.set()
                while not self._stop.is_set():
                    msg = pubsub.get_message(timeout=0.5)
                    if msg is None or msg.get("type") != "message":
                        continue
                    self._deliver(msg["data"])
            except redis.RedisError as exc:
                self._ready.set()
                if not self._stop.is_set():
                    log.warning("bus: Redis connection lost (%s); reconnecting in 1 s", exc)
                    self._stop.wait(1.0)
            finally:
                try:
                    pubsub.close()
                    client.close()
                except Exception:  # pragma: no cover - closing a broken connection
                    pass

    def _deliver(self, data: bytes) -> None:
        try:
            message = json.loads(data)
        except ValueError:
            log.warning("bus: dropped a message that is not JSON: %r", data[:80])
            return
        try:
            self._handler(message)
        except Exception:
            log.exception("bus subscriber failed on a %s message", message.get("type"))

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=3.0)


class RedisBus:
    """Server mode: Redis pub/sub on ``{prefix}:market`` (see the module docstring)."""

    def __init__(self, url: str, prefix: str) -> None:
        import redis

        self.url = url
        self.channel = market_channel(prefix)
        self._client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)
        self._subs: list[_RedisSubscription] = []

    def publish(self, message: dict[str, Any]) -> None:
        self._client.publish(self.channel, json.dumps(message, separators=(",", ":")))

    def subscribe(self, handler: Handler) -> Subscription:
        sub = _RedisSubscription(self.url, self.channel, handler)
        self._subs.append(sub)
        return sub

    def close(self) -> None:
        for sub in self._subs:
            sub.close()
        self._subs.clear()
        self._client.close()


def bus_for(redis_url: str | None, prefix: str) -> Bus:
    """A :class:`RedisBus` when ``redis_url`` is set, else an :class:`InProcessBus`."""
    if redis_url:
        return RedisBus(redis_url, prefix)
    return InProcessBus()


__all__ = ["Bus", "Handler", "InProcessBus", "RedisBus", "Subscription", "bus_for",
           "market_channel"]  # fmt: skip
