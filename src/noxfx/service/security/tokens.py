"""Access tokens (JWT through Flask-JWT-Extended, HS256 only) and opaque secrets (refresh,
e-mail, reset tokens).

Access tokens are made by :func:`flask_jwt_extended.create_access_token` and read back with
:func:`flask_jwt_extended.decode_token`; the app's ``JWTManager`` is configured by
:meth:`TokenService.init_app` (``JWT_ALGORITHM`` and ``JWT_DECODE_ALGORITHMS`` = the one
configured algorithm, header tokens only, no leeway). They carry ``sub`` (user id), ``sid`` (the
refresh family = the login session), ``tv`` (the user's token version), ``role``, ``typ``
(``access`` or ``mfa``) and the library's ``jti``, ``iat``, ``nbf``, ``exp``, ``type`` and
``fresh``. Decoding accepts exactly the configured algorithm, so ``alg: none`` and
algorithm-confusion tokens fail, and our claims are all required. MFA challenge tokens are the
same kind of JWT with ``typ = "mfa"`` and a few minutes' life; one cannot stand for the other.

Refresh tokens are deliberately *not* Flask-JWT-Extended refresh JWTs: they are opaque 256-bit
random strings of which only the SHA-256 is stored, so each can be rotated, revoked and its reuse
detected in the database (see :mod:`noxfx.service.services.auth`).
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from flask import Flask, g, has_request_context
from flask_jwt_extended import JWTManager, create_access_token, decode_token
from flask_jwt_extended.exceptions import JWTExtendedException

ACCESS = "access"
MFA = "mfa"
_REQUIRED = ("exp", "iat", "sub", "jti", "typ")
_KIND = {ACCESS: "an access token", MFA: "an MFA challenge token"}


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


@dataclass(frozen=True, slots=True)
class MfaClaims:
    """The verified claims of an MFA challenge token (single use: ``jti`` is spent)."""

    user_id: uuid.UUID
    jti: str
    token_version: int
    expires_at: datetime


class TokenService:
    """Issues and verifies JWTs with one secret and one algorithm (inside an app context)."""

    def __init__(self, secret: str, algorithm: str = "HS256", access_minutes: int = 15) -> None:
        if not secret:
            raise ValueError("empty signing key")
        self._secret = secret
        self.algorithm = algorithm
        self.access_lifetime = timedelta(minutes=access_minutes)

    def init_app(self, app: Flask) -> JWTManager:
        """Configure Flask-JWT-Extended on ``app`` for these tokens."""
        app.config.update(
            JWT_SECRET_KEY=self._secret,
            JWT_ALGORITHM=self.algorithm,
            JWT_DECODE_ALGORITHMS=[self.algorithm],
            JWT_ACCESS_TOKEN_EXPIRES=self.access_lifetime,
            JWT_TOKEN_LOCATION=["headers"],
            JWT_DECODE_LEEWAY=0,
        )
        manager = JWTManager(app)
        # Tokens are verified through HTTPTokenAuth (see noxfx.service.auth), which catches every
        # decode error; should one of the library's own checks ever answer, it is still a problem.
        from noxfx.service.errors import problem

        challenge = {"WWW-Authenticate": 'Bearer realm="nox"'}

        def unauthorized(reason: str) -> Any:
            return problem(401, reason, kind="authentication-required", headers=challenge)

        def expired(_header: dict[str, Any], _payload: dict[str, Any]) -> Any:
            return unauthorized("The token has expired.")

        manager.unauthorized_loader(unauthorized)
        manager.invalid_token_loader(unauthorized)
        manager.expired_token_loader(expired)
        return manager

    def _encode(self, user_id: uuid.UUID, claims: dict[str, Any], lifetime: timedelta) -> str:
        return create_access_token(identity=str(user_id), additional_claims=claims,
                                   expires_delta=lifetime)  # fmt: skip

    def _decode(self, token: str, typ: str, required: tuple[str, ...]) -> dict[str, Any]:
        try:
            claims: dict[str, Any] = decode_token(token)
        except jwt.ExpiredSignatureError as exc:
            raise TokenError("The token has expired.") from exc
        except jwt.InvalidAlgorithmError as exc:
            raise TokenError(f"Only {self.algorithm} tokens are accepted.") from exc
        except jwt.InvalidSignatureError as exc:
            raise TokenError("The token signature is invalid.") from exc
        except (jwt.PyJWTError, JWTExtendedException) as exc:
            raise TokenError(f"The token is malformed ({exc}).") from exc
        if claims.get("typ") != typ:
            raise TokenError(f"Expected {_KIND[typ]}.")
        missing = [c for c in required if claims.get(c) is None]
        if missing:
            raise TokenError(f"The token is malformed (missing {', '.join(missing)}).")
        return claims

    def issue_access(
        self,
        user_id: uuid.UUID,
        session_id: uuid.UUID,
        token_version: int,
        role: str,
        lifetime: timedelta | None = None,
    ) -> str:
        """A signed access token valid for ``lifetime`` (default ``access_minutes``)."""
        claims = {"sid": str(session_id), "tv": token_version, "role": role, "typ": ACCESS}
        return self._encode(user_id, claims, lifetime or self.access_lifetime)

    def verify_access(self, token: str) -> AccessClaims:
        """The claims of a valid access token; :class:`TokenError` otherwise. Decoded once per
        request (the rate limiter and the authentication both ask)."""
        if has_request_context():
            memo: dict[str, AccessClaims | TokenError] = g.setdefault("nox_access_claims", {})
            if token not in memo:
                try:
                    memo[token] = self._verify_access(token)
                except TokenError as exc:
                    memo[token] = exc
            found = memo[token]
            if isinstance(found, TokenError):
                raise found
            return found
        return self._verify_access(token)

    def _verify_access(self, token: str) -> AccessClaims:
        claims = self._decode(token, ACCESS, (*_REQUIRED, "sid", "tv", "role"))
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

    def issue_mfa(self, user_id: uuid.UUID, minutes: int, token_version: int = 0) -> str:
        """A short-lived token proving the password step of a login with MFA; ``tv`` binds it
        to the user's token version (a password change or reset voids it)."""
        return self._encode(user_id, {"typ": MFA, "tv": token_version}, timedelta(minutes=minutes))

    def verify_mfa(self, token: str) -> MfaClaims:
        """The claims of a valid MFA challenge token; :class:`TokenError` otherwise. Whether it
        was already used is the caller's business (see ``services.auth``)."""
        claims = self._decode(token, MFA, _REQUIRED)
        try:
            return MfaClaims(
                user_id=uuid.UUID(str(claims["sub"])),
                jti=str(claims["jti"]),
                token_version=int(claims.get("tv", 0)),
                expires_at=datetime.fromtimestamp(int(claims["exp"]), UTC),
            )
        except (TypeError, ValueError) as exc:
            raise TokenError("The token claims are malformed.") from exc


def new_opaque_token() -> str:
    """A fresh 256-bit random token for refresh / e-mail / reset links."""
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """SHA-256 hex digest of an opaque token (what the database stores)."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


__all__ = [
    "AccessClaims",
    "MfaClaims",
    "TokenError",
    "TokenService",
    "hash_token",
    "new_opaque_token",
]
