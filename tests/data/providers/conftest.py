"""Shared fixtures of the provider tests: recorded responses, a manual clock, no network.

* Every HTTP call goes to ``responses`` (``http`` fixture); a request that matches no recorded
  response fails the test at teardown, even if the code under test swallowed the error.
* ``no_network`` (autouse) refuses any socket to a host other than 127.0.0.1/localhost, so a
  library that bypasses ``requests`` cannot reach the internet either.
* The clock is a :class:`ManualClock` set to 2017-02-01 00:00 UTC (just after the recorded
  January): retries and rate limits "sleep" by advancing it, so no test waits.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import responses

from noxfx.data.providers.registry import Registry
from noxfx.data.providers.resilience import ManualClock, TTLCache
from noxfx.data.providers.settings import ProviderSettings
from noxfx.data.store import BarStore

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "providers"
#: 2017-02-01 00:00 UTC, just after the recorded data (January 2017)
EPOCH_2017_02_01 = 1_485_907_200.0
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}


def fixture_path(rel: str) -> Path:
    return FIXTURES / rel


def load_json(rel: str) -> Any:
    return json.loads(fixture_path(rel).read_text())


def load_bytes(rel: str) -> bytes:
    return fixture_path(rel).read_bytes()


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    real_connect = socket.socket.connect
    real_getaddrinfo = socket.getaddrinfo

    def connect(self: socket.socket, address: Any) -> Any:
        host = address[0] if isinstance(address, tuple) else None
        if host is not None and host not in LOCAL_HOSTS:
            raise AssertionError(f"a test tried to open a connection to {address}")
        return real_connect(self, address)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host not in LOCAL_HOSTS and host is not None:
            raise AssertionError(f"a test tried to resolve {host}")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


@pytest.fixture
def http() -> Iterator[responses.RequestsMock]:
    """Recorded responses only; unmatched requests fail the test."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps
        unmatched = [
            c.request.url
            for c in rsps.calls
            if isinstance(c.response, Exception)
            and "Connection refused by Responses" in str(c.response)
        ]
        assert not unmatched, f"requests without a recorded response: {unmatched}"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(epoch=EPOCH_2017_02_01)


@pytest.fixture
def settings() -> ProviderSettings:
    return ProviderSettings(
        _env_file=None,  # type: ignore[call-arg]
        oanda_token="test-token",  # type: ignore[arg-type]
        oanda_env="practice",
        oanda_account="101-004-1234567-001",
        alphavantage_key="demo-key",  # type: ignore[arg-type]
        provider_chain="oanda,dukascopy,yahoo",
        redis_url=None,
    )


@pytest.fixture
def store(tmp_path: Path) -> BarStore:
    return BarStore(tmp_path / "bars")


@pytest.fixture
def registry(settings: ProviderSettings, clock: ManualClock, store: BarStore) -> Registry:
    return Registry(settings, clock=clock, cache=TTLCache(clock), store=store, jitter=False)
