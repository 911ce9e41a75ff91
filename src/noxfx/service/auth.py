"""Bearer-token authentication for the blueprints (APIFlask ``HTTPTokenAuth``).

``@bp.auth_required(token_auth, roles=roles_with("audit:read"))`` documents the security scheme
in OpenAPI and enforces it. A token passes when its signature and claims verify
(:class:`~noxfx.service.security.tokens.TokenService`), its user exists and is active, its
``tv`` equals the user's token version (bumped on password change, reset, erasure, role change)
and its login session (refresh family) has not been revoked (logout, reuse detection). The reason
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
    if not token:
        g.auth_error = "Send an access token: `Authorization: Bearer <token>`."
        return None
    try:
        claims = runtime().tokens.verify_access(token)
    except TokenError as exc:
        g.auth_error = exc.reason
        return None
    row = db.session.execute(  # the user and whether the session lives, in one query
        _USER_AND_SESSION, {"uid": claims.user_id, "sid": claims.session_id, "now": utcnow()}
    ).first()
    user, alive = (row[0], bool(row[1])) if row is not None else (None, False)
    if user is None or not user.is_active or user.token_version != claims.token_version:
        g.auth_error = "The token is no longer valid; log in again."
        return None
    if not alive:
        g.auth_error = "This session has been logged out; log in again."
        return None
    g.user_id = user.id
    g.session_id = claims.session_id
    return user


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


__all__ = ["current_session_id", "current_user", "token_auth"]
