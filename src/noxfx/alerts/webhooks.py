"""Signed webhook requests and the address check that keeps them off private networks.

A webhook POST carries the JSON body and two headers:

* ``X-Nox-Timestamp``: unix seconds when it was signed;
* ``X-Nox-Signature``: ``sha256=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>``.

A receiver recomputes the HMAC over the timestamp and the raw body it got, compares it in
constant time, and refuses timestamps older than a few minutes (replays).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import socket
import time
from typing import Any
from urllib.parse import urlsplit

from noxfx.errors import InvalidInput


def sign(secret: str, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    """The headers of a signed webhook request for ``body``."""
    ts = int(time.time()) if timestamp is None else int(timestamp)
    mac = hmac.new(secret.encode(), f"{ts}.".encode() + body, hashlib.sha256).hexdigest()
    return {"Content-Type": "application/json", "X-Nox-Timestamp": str(ts),
            "X-Nox-Signature": f"sha256={mac}"}  # fmt: skip


def verify(secret: str, body: bytes, headers: dict[str, str], max_age_s: float = 300.0) -> bool:
    """Whether ``headers`` sign ``body`` with ``secret`` and are fresh (for receivers, tests)."""
    try:
        ts = int(headers["X-Nox-Timestamp"])
    except (KeyError, ValueError):
        return False
    if abs(time.time() - ts) > max_age_s:
        return False
    expected = sign(secret, body, ts)["X-Nox-Signature"]
    return hmac.compare_digest(expected, headers.get("X-Nox-Signature", ""))


def body_of(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()


def check_url(url: str, allow_private: bool = False) -> str:
    """``url`` if it may receive webhooks: http(s), a host, and (unless ``allow_private``) no
    address of it private, loopback, link-local, multicast or reserved. Raises InvalidInput."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise InvalidInput("webhook_url must be an http(s) URL with a host.")
    if parts.scheme == "http" and not allow_private:
        raise InvalidInput("webhook_url must be https.")
    if allow_private:
        return url
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, proto=socket.IPPROTO_TCP)
    except socket.gaierror:
        raise InvalidInput(f"webhook_url host {parts.hostname!r} does not resolve.") from None
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if (
            address.is_private
            or address.is_loopback
            or address.is_link_local
            or address.is_multicast
            or address.is_reserved
            or address.is_unspecified
        ):
            raise InvalidInput(
                f"webhook_url resolves to {address}, a private or local address: refused "
                "(NOX_WEBHOOK_ALLOW_PRIVATE=1 allows it on a trusted network)."
            )
    return url


__all__ = ["body_of", "check_url", "sign", "verify"]
