"""Access tokens (JWT, HS256 only) and opaque secrets (refresh, e-mail, reset tokens).

Access tokens carry ``sub`` (user id), ``sid`` (the refresh family = the login session), ``tv``
(the user's token version), ``role``, ``jti``, ``iat``, ``exp`` and ``typ``. Decoding accepts
exactly the configured algorithm, so ``alg: none`` and algorithm-confusion tokens fail, and
requires every claim. MFA challenge tokens are JWTs with ``typ = "mfa"`` and a few minutes' life.

Opaque tokens are 256-bit random URL-safe strings; only their SHA-256 is stored.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt

ACCESS = "access"
MFA = "mfa"
_REQUIRED = ["exp", "iat", "sub", "jti", "typ"]


class TokenError(Exception):
    """A token that is malformed, forged, expired or of the wrong type; ``reason`` says which."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class AccessClaims:
    """The verified claims of an access token."""

    user_id: uuid.UUID
    session_id: uuid.UUID
    token_version: int
    role: str
    expires_at: datetime


class TokenService:
    """Issues and verifies JWTs with one secret and one algorithm."""

    def __init__(self, secret: str, algorithm: str = "HS256", access_minutes: int = 15) -> None:
        if not secret:
            raise ValueError("empty signing key")
        self._secret = secret
        self.algorithm = algorithm
        self.access_lifetime = timedelta(minutes=access_minutes)

    def _encode(self, claims: dict[str, Any], lifetime: timedelta, now: datetime | None) -> str:
        issued = now or datetime.now(UTC)
        payload = {
            **claims,
            "iat": int(issued.timestamp()),
            "exp": int((issued + lifetime).timestamp()),
            "jti": secrets.token_hex(8),
        }
        return jwt.encode(payload, self._secret, algorithm=self.algorithm)

    def _decode(self, token: str, typ: str, required: list[str]) -> dict[str, Any]:
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self._secret,
                algorithms=[self.algorithm],
                options={"require": required},
            )
        except jwt.ExpiredSignatureError as exc:
            raise TokenError("The token has expired.") from exc
        except jwt.InvalidAlgorithmError as exc:
            raise TokenError(f"Only {self.algorithm} tokens are accepted.") from exc
        except jwt.InvalidSignatureError as exc:
            raise TokenError("The token signature is invalid.") from exc
        except jwt.PyJWTError as exc:
            raise TokenError(f"The token is malformed ({exc}).") from exc
        if claims.get("typ") != typ:
            raise TokenError(f"Expected a {typ} token.")
        return claims

    def issue_access(
        self,
        user_id: uuid.UUID,
        session_id: uuid.UUID,
        token_version: int,
        role: str,
        now: datetime | None = None,
    ) -> str:
        """A signed access token valid for ``access_minutes``."""
        claims = {"sub": str(user_id), "sid": str(session_id), "tv": token_version,
                  "role": role, "typ": ACCESS}  # fmt: skip
        return self._encode(claims, self.access_lifetime, now)

    def verify_access(self, token: str) -> AccessClaims:
        """The claims of a valid access token; :class:`TokenError` otherwise."""
        claims = self._decode(token, ACCESS, [*_REQUIRED, "sid", "tv", "role"])
        try:
            return AccessClaims(
                user_id=uuid.UUID(str(claims["sub"])),
                session_id=uuid.UUID(str(claims["sid"])),
                token_version=int(claims["tv"]),
                role=str(claims["role"]),
                expires_at=datetime.fromtimestamp(int(claims["exp"]), UTC),
            )
        except (TypeError, ValueError) as exc:
            raise TokenError("The token claims are malformed.") from exc

    def issue_mfa(self, user_id: uuid.UUID, minutes: int, now: datetime | None = None) -> str:
        """A short-lived token proving the password step of a login with MFA."""
        return self._encode({"sub": str(user_id), "typ": MFA}, timedelta(minutes=minutes), now)

    def verify_mfa(self, token: str) -> uuid.UUID:
        claims = self._decode(token, MFA, _REQUIRED)
        try:
            return uuid.UUID(str(claims["sub"]))
        except ValueError as exc:
            raise TokenError("The token claims are malformed.") from exc

    def peek_user_id(self, token: str) -> str | None:
        """The user id of a valid access token, or None (used for rate-limit keys only)."""
        try:
            return str(self._decode(token, ACCESS, _REQUIRED)["sub"])
        except TokenError:
            return None


def new_opaque_token() -> str:
    """A fresh 256-bit random token for refresh / e-mail / reset links."""
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """SHA-256 hex digest of an opaque token (what the database stores)."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


__all__ = ["AccessClaims", "TokenError", "TokenService", "hash_token", "new_opaque_token"]
