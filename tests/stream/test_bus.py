"""The Redis bus on the real local Redis: one publish reaches every subscriber, in order."""

from __future__ import annotations

import os
import threading
import uuid

import pytest

from noxfx.stream.bus import RedisBus

REDIS_URL = f"redis://127.0.0.1:6379/{os.environ.get('NOX_TEST_REDIS_DB', '14')}"


def test_redis_bus_reaches_every_subscriber() -> None:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3).ping()
    except Exception as exc:
        pytest.fail(f"Redis is down or unreachable at 127.0.0.1:6379: {exc}")
    bus = RedisBus(REDIS_URL, prefix=f"test-{uuid.uuid4().hex[:8]}")  # channels are global
    got: list[list[int]] = [[], []]
    done = threading.Event()

    def handler(i: int):  # type: ignore[no-untyped-def]
        def on(message: dict) -> None:  # type: ignore[type-arg]
            got[i].append(message["n"])
            if all(len(g) == 50 for g in got):
                done.set()

        return on

    try:
        bus.subscribe(handler(0))
        bus.subscribe(handler(1))
        for n in range(50):
            bus.publish({"type": "tick", "n": n})
        assert done.wait(10), got
        assert got == [list(range(50)), list(range(50))]
    finally:
        bus.close()
