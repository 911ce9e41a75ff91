"""Implementations of :class:`~noxfx.stream.events.Emitter`: push an event to Socket.IO rooms.

* :class:`RedisEmitter` (server mode, any process: the stream, a Celery worker): a write-only
  ``socketio.RedisManager`` on the API's Socket.IO channel, so every API process delivers the
  event to its clients in the room.
* :class:`LogEmitter`: no clients (``noxfx stream`` without Redis): logs at debug level.
"""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)


def socketio_channel(prefix: str) -> str:
    """The python-socketio message-queue channel of the API processes for ``prefix``."""
    return f"{prefix}:socketio"


class RedisEmitter:
    """Emits through Redis to whichever API process holds the room's clients."""

    def __init__(self, redis_url: str, prefix: str) -> None:
        import socketio

        self.manager = socketio.RedisManager(
            redis_url, channel=socketio_channel(prefix), write_only=True
        )

    def emit(self, event: str, data: dict[str, Any], room: str) -> None:
        self.manager.emit(event, data, namespace="/", room=room)


class LogEmitter:
    """No Socket.IO reachable: events are logged (debug) and dropped."""

    def emit(self, event: str, data: dict[str, Any], room: str) -> None:
        log.debug("emit %s to %s (no Socket.IO server configured): %s", event, room, data)


__all__ = ["LogEmitter", "RedisEmitter", "socketio_channel"]
