"""Bearer-token authentication for the blueprints (APIFlask ``HTTPTokenAuth``).

``@bp.auth_required(token_auth, roles=roles_with("audit:read"))`` documents the security scheme
in OpenAPI and enforces it. A token passes when its signature and claims verify
(:class:`~noxfx.service.security.tokens.TokenService`), its user exists and is active, its
``tv`` equals the user's token version (bumped on password change, reset, erasure, role change,
MFA activation), its ``role`` is the user's current role, and its login session (refresh family)
has not been revoked (logout, reuse detection). The reason
a token failed becomes the problem's ``detail``.
"""

from __future__ import annotations

import uuid

from apiflask import HTTPTokenAuth
from flask import g
from sqlalchemy import bindparam, exists, select

from noxfx.service.db import db, utcnow
from noxfx.service.models import RefreshToken, User
from noxfx.service.runtime import runtime
from noxfx.service.security.tokens import TokenError

token_auth = HTTPTokenAuth(
    scheme="Bearer",
    description="Access token from POST /api/v1/auth/login (valid 15 minutes).",
)


@token_auth.verify_token
def _verify(token: str) -> User | None:
    return authenticate(token)


def authenticate(token: str) -> User | None:
    """The live user of ``token``, or None with the reason in ``g.auth_error``.

    Live: the signature and claims verify, the user exists and is active, the token version
    matches and the login session has not been revoked. Memoised per request (the rate limiter
    asks first, the view's authentication second: one query).
    """
    memo: dict[str, tuple[User | None, str | None]] = g.setdefault("nox_authenticated", {})
    if token not in memo:
        memo[token] = _authenticate(token)
    user, error = memo[token]
    if user is None:
        g.auth_error = error
        return None
    g.user_id = user.id
    g.session_id = g.nox_session_ids[token]
    return user


def _authenticate(token: str) -> tuple[User | None, str | None]:
    if not token:
        return None, "Send an access token: `Authorization: Bearer <token>`."
    try:
        claims = runtime().tokens.verify_access(token)
    except TokenError as exc:
        return None, exc.reason
    row = db.session.execute(  # the user and whether the session lives, in one query
        _USER_AND_SESSION, {"uid": claims.user_id, "sid": claims.session_id, "now": utcnow()}
    ).first()
    user, alive = (row[0], bool(row[1])) if row is not None else (None, False)
    if (
        user is None
        or not user.is_active
        or user.token_version != claims.token_version
        or user.role != claims.role
    ):
        return None, "The token is no longer valid; log in again."
    if not alive:
        return None, "This session has been logged out; log in again."
    g.setdefault("nox_session_ids", {})[token] = claims.session_id
    return user, None


def live_user_id(authorization: str) -> uuid.UUID | None:
    """The user id of a live bearer token in an ``Authorization`` header value, else None.

    Unlike :func:`authenticate` this leaves ``g.user_id`` and ``g.auth_error`` alone (the
    rate limiter calls it on routes that may not require authentication at all).
    """
    if authorization[:7].lower() != "bearer ":
        return None
    token = authorization[7:].strip()
    memo: dict[str, tuple[User | None, str | None]] = g.setdefault("nox_authenticated", {})
    if token not in memo:
        memo[token] = _authenticate(token)
    user = memo[token][0]
    return user.id if user is not None else None


@token_auth.get_user_roles
def _roles(user: User) -> list[str]:
    return [user.role]


#: The user and whether the login session (refresh family ``sid``) still has an unrevoked,
#: unexpired refresh token. Built once: statement construction costs more than the query.
_SESSION_ALIVE = exists().where(
    RefreshToken.family_id == bindparam("sid"),
    RefreshToken.revoked_at.is_(None),
    RefreshToken.expires_at > bindparam("now"),
)
_USER_AND_SESSION = select(User, _SESSION_ALIVE.label("alive")).where(User.id == bindparam("uid"))


def current_session_id() -> uuid.UUID:
    """The login session (refresh family) of this request's access token."""
    sid: uuid.UUID = g.session_id
    return sid


def current_user() -> User:
    """The authenticated user of this request (only inside ``auth_required`` views)."""
    user = token_auth.current_user
    assert isinstance(user, User)
    return user


__all__ = ["authenticate", "current_session_id", "current_user", "live_user_id", "token_auth"]
