"""Ending sessions: one login (a refresh family) or all of a user's, with their access tokens
(the token version moves on). Callers commit. Used by logout, password and MFA changes, admin
actions and account erasure; kept apart so that those modules need not import each other."""

from __future__ import annotations

import uuid

from sqlalchemy import update

from noxfx.service.db import db, utcnow
from noxfx.service.models import RefreshToken, User


def revoke_family(family_id: uuid.UUID, reason: str) -> int:
    """Revoke every token of one login session (caller commits). Returns rows changed."""
    result = db.session.execute(
        update(RefreshToken)
        .where(RefreshToken.family_id == family_id)
        .where(RefreshToken.revoked_at.is_(None))
        .values(revoked_at=utcnow(), revoked_reason=reason)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def revoke_all_sessions(user: User, reason: str) -> None:
    """Revoke every session of ``user`` and invalidate its access tokens (caller commits)."""
    db.session.execute(
        update(RefreshToken)
        .where(RefreshToken.user_id == user.id)
        .where(RefreshToken.revoked_at.is_(None))
        .values(revoked_at=utcnow(), revoked_reason=reason)
    )
    user.token_version += 1


__all__ = ["revoke_all_sessions", "revoke_family"]
