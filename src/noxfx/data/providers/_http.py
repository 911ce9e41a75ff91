"""The HTTP transport shared by the requests-based providers.

One :class:`HttpClient` per provider owns a ``requests.Session`` (connection reuse), sets a
(connect, read) timeout in seconds on **every** request, sends every request through the
provider's :class:`~noxfx.data.providers.resilience.Guard` (breaker, rate limit, retries), and
maps transport failures onto the provider error tree:

=========================== ===========================================================
what happened               raised
=========================== ===========================================================
connect/read timeout        :class:`ProviderTimeout` (transient)
connection refused/reset    :class:`ProviderUnavailable` (transient)
HTTP 429                    :class:`RateLimited` with ``Retry-After`` (transient)
HTTP 5xx                    :class:`ProviderUnavailable` with ``Retry-After`` if sent
any other status            returned: the provider decides (400 unknown instrument ...)
=========================== ===========================================================

Successful responses can be cached (``cache_ttl_s``) under a hash of method, URL, parameters and
body; cache hits use no rate-limit token and no network.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from noxfx.data.providers.base import (
    MalformedPayload,
    ProviderError,
    ProviderTimeout,
    ProviderUnavailable,
    RateLimited,
)
from noxfx.data.providers.resilience import Cache, Guard, cache_key, parse_retry_after

T = TypeVar("T")
DEFAULT_USER_AGENT = "noxfx/0.1 (market data client; python-requests)"


@dataclass(frozen=True)
class HttpResult:
    """A response as bytes, detached from the connection (so it can be cached)."""

    status: int
    content: bytes
    url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    from_cache: bool = False

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")

    def json(self, provider: str) -> Any:
        """The body as JSON, or :class:`MalformedPayload` naming the provider and URL."""
        try:
            return json.loads(self.content)
        except (ValueError, UnicodeDecodeError) as exc:
            raise MalformedPayload(
                f"response from {self.url} is not JSON ({exc.__class__.__name__}: "
                f"{self.text[:80]!r})",
                provider=provider,
                status=self.status,
            ) from exc


#: a callable that inspects a result and raises a ProviderError when it is an error in disguise
Check = Callable[[HttpResult], None]


class HttpClient:
    """Timeouts, guard, error mapping and cache around a ``requests.Session``."""

    def __init__(
        self,
        provider: str,
        guard: Guard,
        *,
        session: Any | None = None,
        timeout_s: float = 15.0,
        connect_timeout_s: float = 5.0,
        cache: Cache | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        import requests

        self.provider = provider
        self.guard = guard
        self.session = session if session is not None else requests.Session()
        self.timeout = (connect_timeout_s, timeout_s)
        self.cache = cache
        self.session.headers.update({"User-Agent": DEFAULT_USER_AGENT, **(headers or {})})

    # ------------------------------------------------------------------ public
    def get(
        self,
        url: str,
        params: Mapping[str, Any] | None = None,
        *,
        headers: Mapping[str, str] | None = None,
        cache_ttl_s: float = 0.0,
        check: Check | None = None,
    ) -> HttpResult:
        """GET ``url`` through the guard (cached for ``cache_ttl_s`` seconds when > 0).

        ``check`` runs on each attempt's result inside the guard, so errors it raises (a
        throttle message in a 200 body) are retried when transient, and never cached.
        """
        return self._parsed("GET", url, params, None, headers, cache_ttl_s, _checked(check))

    def post_json(
        self,
        url: str,
        body: Any,
        *,
        headers: Mapping[str, str] | None = None,
        cache_ttl_s: float = 0.0,
        check: Check | None = None,
    ) -> HttpResult:
        """POST ``body`` as JSON through the guard (``cache_ttl_s``, ``check``: see :meth:`get`)."""
        return self._parsed("POST", url, None, body, headers, cache_ttl_s, _checked(check))

    def get_parsed(
        self,
        url: str,
        parse: Callable[[HttpResult], T],
        params: Mapping[str, Any] | None = None,
        *,
        headers: Mapping[str, str] | None = None,
        cache_ttl_s: float = 0.0,
    ) -> T:
        """GET and ``parse`` the result inside the guard: a parse error (a malformed or
        in-band error payload) is raised there (retried when transient) and a response is
        cached only after it parsed."""
        return self._parsed("GET", url, params, None, headers, cache_ttl_s, parse)

    def post_parsed(
        self,
        url: str,
        body: Any,
        parse: Callable[[HttpResult], T],
        *,
        headers: Mapping[str, str] | None = None,
        cache_ttl_s: float = 0.0,
    ) -> T:
        """POST ``body`` as JSON and ``parse`` the result (see :meth:`get_parsed`)."""
        return self._parsed("POST", url, None, body, headers, cache_ttl_s, parse)

    def open_stream(
        self,
        url: str,
        params: Mapping[str, Any] | None = None,
        *,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        """Open a streaming GET (through the guard); returns the live ``requests.Response``
        after checking its status. The read timeout applies between received chunks."""

        def once() -> Any:
            resp = self._request("GET", url, params, None, headers, stream=True)
            if resp.status_code == 429 or resp.status_code >= 500:
                body = resp.content
                resp.close()
                self._raise_for_transient(resp.status_code, resp.headers, body, url)
            return resp

        return self.guard.call(once)

    # ------------------------------------------------------------------ internals
    def _key(self, method: str, url: str, params: Mapping[str, Any] | None, body: Any) -> str:
        return cache_key(self.provider, method, url, sorted((params or {}).items()),
                         json.dumps(body, sort_keys=True, default=str))  # fmt: skip

    def _parsed(
        self,
        method: str,
        url: str,
        params: Mapping[str, Any] | None,
        body: Any,
        headers: Mapping[str, str] | None,
        cache_ttl_s: float,
        parse: Callable[[HttpResult], T],
    ) -> T:
        use_cache = self.cache is not None and cache_ttl_s > 0
        key = self._key(method, url, params, body) if use_cache else ""
        if use_cache and self.cache is not None:
            hit = self.cache.get(key)
            if hit is not None:
                return parse(HttpResult(200, hit, url, from_cache=True))

        def attempt() -> tuple[HttpResult, T]:
            result = self._once(method, url, params, body, headers)
            return result, parse(result)

        result, value = self.guard.call(attempt)
        if use_cache and self.cache is not None and result.status == 200:
            self.cache.set(key, result.content, cache_ttl_s)
        return value

    def _once(
        self,
        method: str,
        url: str,
        params: Mapping[str, Any] | None,
        body: Any,
        headers: Mapping[str, str] | None,
    ) -> HttpResult:
        resp = self._request(method, url, params, body, headers, stream=False)
        content = resp.content
        self._raise_for_transient(resp.status_code, resp.headers, content, url)
        return HttpResult(resp.status_code, content, str(resp.url or url), dict(resp.headers))

    def _request(
        self,
        method: str,
        url: str,
        params: Mapping[str, Any] | None,
        body: Any,
        headers: Mapping[str, str] | None,
        *,
        stream: bool,
    ) -> Any:
        import requests

        try:
            return self.session.request(
                method, url, params=params, json=body, headers=dict(headers or {}),
                timeout=self.timeout, stream=stream,
            )  # fmt: skip
        except requests.Timeout as exc:
            raise ProviderTimeout(
                f"no answer from {_host(url)} within {self.timeout[1]:g} s "
                f"({exc.__class__.__name__})",
                provider=self.provider,
            ) from exc
        except requests.ConnectionError as exc:
            raise ProviderUnavailable(
                f"cannot connect to {_host(url)} ({_first_line(exc)})", provider=self.provider
            ) from exc
        except requests.RequestException as exc:
            raise ProviderError(
                f"request to {_host(url)} failed ({_first_line(exc)})", provider=self.provider
            ) from exc

    def _raise_for_transient(
        self, status: int, headers: Mapping[str, str], content: bytes, url: str
    ) -> None:
        if status != 429 and status < 500:
            return
        retry_after = parse_retry_after(headers.get("Retry-After"), self.guard.clock.time())
        snippet = content[:160].decode("utf-8", errors="replace").strip()
        wait = f", Retry-After {retry_after:g} s" if retry_after is not None else ""
        detail = f"HTTP {status} from {_host(url)}{wait}" + (f": {snippet}" if snippet else "")
        cls = RateLimited if status == 429 else ProviderUnavailable
        raise cls(detail, provider=self.provider, status=status, retry_after=retry_after)


def _checked(check: Check | None) -> Callable[[HttpResult], HttpResult]:
    def parse(result: HttpResult) -> HttpResult:
        if check is not None:
            check(result)
        return result

    return parse


def _host(url: str) -> str:
    from urllib.parse import urlsplit

    return urlsplit(url).netloc or url


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else exc.__class__.__name__


__all__ = ["DEFAULT_USER_AGENT", "Check", "HttpClient", "HttpResult"]
