"""Retries, backoff, Retry-After, circuit breaker, token bucket, caches and the fallback chain."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime
from email.utils import format_datetime

import pandas as pd
import pytest

from noxfx.data.providers.base import (
    AllProvidersFailed,
    Capabilities,
    CircuitOpen,
    MalformedPayload,
    Provider,
    ProviderTimeout,
    ProviderUnavailable,
    RateLimited,
    SymbolNotSupported,
)
from noxfx.data.providers.resilience import (
    CLOSED,
    HALF_OPEN,
    OPEN,
    CircuitBreaker,
    FallbackProvider,
    Guard,
    ManualClock,
    RedisCache,
    RetryPolicy,
    TokenBucket,
    TTLCache,
    cache_key,
    parse_retry_after,
)
from noxfx.instruments import Instrument


def flaky(errors: list[Exception], result: str = "ok"):
    """A callable that raises ``errors`` in turn, then returns ``result``."""
    calls = {"n": 0}

    def fn() -> str:
        calls["n"] += 1
        if errors:
            raise errors.pop(0)
        return result

    fn.calls = calls  # type: ignore[attr-defined]
    return fn


def guard(clock: ManualClock, **policy: object) -> Guard:
    return Guard("test", clock, RetryPolicy(jitter=False, **policy))  # type: ignore[arg-type]


def test_backoff_doubles_without_jitter_and_is_capped() -> None:
    p = RetryPolicy(base_s=0.5, max_s=3.0, jitter=False)
    rng = random.Random(0)
    assert [p.delay(a, None, rng) for a in (1, 2, 3, 4, 5)] == [0.5, 1.0, 2.0, 3.0, 3.0]


def test_jitter_stays_between_half_and_full_backoff() -> None:
    p = RetryPolicy(base_s=1.0, max_s=60.0, jitter=True)
    rng = random.Random(42)
    for attempt in range(1, 6):
        full = 2 ** (attempt - 1)
        d = [p.delay(attempt, None, rng) for _ in range(200)]
        assert all(full / 2 <= x <= full for x in d)
        assert len(set(d)) > 100  # really random


def test_retry_after_overrides_backoff_and_too_long_gives_up() -> None:
    p = RetryPolicy(max_retry_after_s=120.0)
    rng = random.Random(0)
    assert p.delay(1, 7.0, rng) == 7.0
    assert p.delay(1, 121.0, rng) is None


def test_parse_retry_after_seconds_and_http_date() -> None:
    now = datetime(2017, 1, 8, tzinfo=UTC).timestamp()
    assert parse_retry_after("12", now) == 12.0
    later = format_datetime(datetime(2017, 1, 8, 0, 0, 30, tzinfo=UTC), usegmt=True)
    assert parse_retry_after(later, now) == pytest.approx(30.0)
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after(None, now) is None


def test_guard_retries_transient_errors_with_backoff(clock: ManualClock) -> None:
    fn = flaky([ProviderUnavailable("503", provider="x"), ProviderTimeout("slow", provider="x")])
    assert guard(clock).call(fn) == "ok"
    assert fn.calls["n"] == 3
    assert clock.sleeps == [0.5, 1.0]


def test_guard_honours_retry_after(clock: ManualClock) -> None:
    fn = flaky([RateLimited("429", provider="x", retry_after=9.0)])
    assert guard(clock).call(fn) == "ok"
    assert clock.sleeps == [9.0]


def test_guard_gives_up_after_max_attempts_and_says_so(clock: ManualClock) -> None:
    fn = flaky([ProviderUnavailable("HTTP 502", provider="x") for _ in range(10)])
    with pytest.raises(ProviderUnavailable, match="gave up after 3 attempts") as err:
        guard(clock, max_attempts=3).call(fn)
    assert err.value.attempts == 3
    assert fn.calls["n"] == 3


def test_guard_does_not_retry_permanent_errors(clock: ManualClock) -> None:
    for exc in (SymbolNotSupported("nope", provider="x"), MalformedPayload("junk", provider="x")):
        fn = flaky([exc])
        with pytest.raises(type(exc)):
            guard(clock).call(fn)
        assert fn.calls["n"] == 1
    assert clock.sleeps == []


def test_circuit_opens_fails_fast_then_half_opens(clock: ManualClock) -> None:
    breaker = CircuitBreaker("x", clock, failure_threshold=3, reset_s=60.0)
    g = Guard("x", clock, RetryPolicy(max_attempts=1, jitter=False), breaker)
    for _ in range(3):
        with pytest.raises(ProviderUnavailable):
            g.call(flaky([ProviderUnavailable("down", provider="x")]))
    assert breaker.state == OPEN
    never = flaky([])
    with pytest.raises(CircuitOpen, match="circuit open"):
        g.call(never)
    assert never.calls["n"] == 0  # failed fast: the source was not called
    clock.advance(60.0)
    assert breaker.state == HALF_OPEN
    with pytest.raises(ProviderUnavailable):  # the one trial call fails: open again
        g.call(flaky([ProviderUnavailable("still down", provider="x")]))
    assert breaker.state == OPEN
    clock.advance(60.0)
    assert g.call(flaky([])) == "ok"
    assert breaker.state == CLOSED and breaker.failures == 0


def test_retries_stop_when_the_circuit_opens(clock: ManualClock) -> None:
    breaker = CircuitBreaker("x", clock, failure_threshold=2, reset_s=60.0)
    g = Guard("x", clock, RetryPolicy(max_attempts=5, jitter=False), breaker)
    fn = flaky([ProviderUnavailable("down", provider="x") for _ in range(5)])
    with pytest.raises(CircuitOpen):
        g.call(fn)
    assert fn.calls["n"] == 2


def test_token_bucket_waits_for_tokens(clock: ManualClock) -> None:
    bucket = TokenBucket(rate_per_s=2.0, capacity=2.0, clock=clock)
    waits = [bucket.acquire() for _ in range(5)]
    assert waits == [0.0, 0.0, 0.5, 0.5, 0.5]
    clock.advance(10.0)  # refills, but only up to the capacity
    assert [bucket.acquire() for _ in range(3)] == [0.0, 0.0, 0.5]


def test_ttl_cache_expires_and_evicts(clock: ManualClock) -> None:
    cache = TTLCache(clock, max_entries=2)
    cache.set("a", b"1", 10.0)
    assert cache.get("a") == b"1"
    clock.advance(10.0)
    assert cache.get("a") is None
    cache.set("a", b"1", 10.0)
    cache.set("b", b"2", 10.0)
    cache.get("a")  # a is now the most recent
    cache.set("c", b"3", 10.0)
    assert cache.get("b") is None and cache.get("a") == b"1" and len(cache) == 2
    cache.set("zero", b"x", 0.0)
    assert cache.get("zero") is None


def test_cache_key_hides_secrets() -> None:
    key = cache_key("alphavantage", "GET", "https://x", [("apikey", "SECRET")])
    assert "SECRET" not in key and len(key) == 64


class FakeRedis:
    def __init__(self) -> None:
        self.data: dict[str, bytes] = {}
        self.px: dict[str, int] = {}

    def get(self, key: str) -> bytes | None:
        return self.data.get(key)

    def set(self, key: str, value: bytes, px: int) -> None:
        self.data[key], self.px[key] = value, px


class BrokenRedis:
    def get(self, key: str) -> None:
        raise ConnectionError("redis down")

    def set(self, key: str, value: bytes, px: int) -> None:
        raise ConnectionError("redis down")


def test_redis_cache_prefixes_keys_sets_ttl_and_degrades_to_a_miss() -> None:
    fake = FakeRedis()
    cache = RedisCache(fake, prefix="t:")
    cache.set("k", b"v", 1.5)
    assert fake.px == {"t:k": 1500}
    assert cache.get("k") == b"v"
    broken = RedisCache(BrokenRedis())
    broken.set("k", b"v", 1.0)  # no exception: best effort
    assert broken.get("k") is None


def test_redis_cache_against_the_local_server() -> None:
    import redis

    client = redis.Redis.from_url("redis://127.0.0.1:6379/15", socket_connect_timeout=1)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.fail(f"Redis is down or unreachable at 127.0.0.1:6379 ({exc}); start it.")
    prefix = f"noxfx-test:{uuid.uuid4().hex}:"
    cache = RedisCache(client, prefix=prefix)
    try:
        cache.set("k", b"payload", 30.0)
        assert cache.get("k") == b"payload"
        assert 0 < client.pttl(prefix + "k") <= 30_000
    finally:
        client.delete(prefix + "k")


# ---------------------------------------------------------------------------------- fallback
class StubProvider(Provider):
    """A provider whose history is a fixed frame, or an error."""

    def __init__(self, name: str, *, error: Exception | None = None, ok: bool = True) -> None:
        self.name = name  # type: ignore[misc]
        self.error = error
        self.ok = ok
        self.calls = 0

    def capabilities(self) -> Capabilities:
        return Capabilities(history=True, quotes=False, native=("1h",))

    def configured(self) -> tuple[bool, str]:
        return self.ok, "stub"

    def _map_symbol(self, instrument: Instrument) -> str:
        return instrument.symbol

    def _history(self, instrument, timeframe, start, end):  # type: ignore[no-untyped-def]
        self.calls += 1
        if self.error is not None:
            raise self.error
        idx = pd.date_range(start, periods=2, freq="h", name="time")
        return pd.DataFrame({"open": 1.1, "high": 1.2, "low": 1.0, "close": 1.1}, index=idx)


def test_fallback_uses_the_next_provider_when_the_first_fails() -> None:
    down = StubProvider("first", error=ProviderUnavailable("HTTP 503", provider="first"))
    unconfigured = StubProvider("second", ok=False)
    good = StubProvider("third")
    chain = FallbackProvider([down, unconfigured, good])
    frame = chain.history("EURUSD", "1h", "2017-01-03", "2017-01-03 01:00")
    assert frame.attrs["provider"] == "third"
    assert len(frame) == 2 and (down.calls, unconfigured.calls, good.calls) == (1, 0, 1)
    assert chain.label == "first>second>third"


def test_fallback_lists_every_reason_when_all_fail() -> None:
    chain = FallbackProvider(
        [
            StubProvider("a", error=ProviderTimeout("slow", provider="a")),
            StubProvider("b", error=SymbolNotSupported("no EURUSD", provider="b")),
        ]
    )
    with pytest.raises(AllProvidersFailed) as err:
        chain.history("EURUSD", "1h", "2017-01-03", "2017-01-03 01:00")
    assert "a: slow" in str(err.value) and "b: no EURUSD" in str(err.value)
    assert not chain.supports("EURUSD", "1d")  # none of them serves 1d


# ---------------------------------------------------------------------------------- settings
def test_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from noxfx.data.providers.settings import get_provider_settings

    monkeypatch.setenv("NOX_OANDA_TOKEN", "s3cret-token")
    monkeypatch.setenv("NOX_OANDA_ENV", "live")
    monkeypatch.setenv("NOX_PROVIDER_CHAIN", " OANDA, yahoo ,")
    s = get_provider_settings()
    assert s.secret("oanda_token") == "s3cret-token" and "s3cret" not in repr(s)
    assert s.oanda_env == "live" and s.chain == ["oanda", "yahoo"]


def test_a_bad_setting_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from noxfx.data.providers.settings import get_provider_settings
    from noxfx.errors import InvalidInput

    monkeypatch.setenv("NOX_OANDA_ENV", "demo")
    with pytest.raises(InvalidInput, match="NOX_OANDA_ENV"):
        get_provider_settings()
