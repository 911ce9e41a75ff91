"""Administration: users (list, read, role, enable/disable), roles and the audit log."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select

from noxfx.service.db import db
from noxfx.service.errors import Conflict, NotFound
from noxfx.service.models import Role, User
from noxfx.service.security.permissions import permissions_of
from noxfx.service.services import audit
from noxfx.service.services.auth import find_user_by_email, revoke_all_sessions


def list_users(q: str | None = None, role: str | None = None, limit: int = 50,
               offset: int = 0) -> list[User]:  # fmt: skip
    stmt = select(User).order_by(User.created_at, User.id).limit(limit).offset(offset)
    if q:
        stmt = stmt.where(User.email.contains(q.strip().lower(), autoescape=True))
    if role:
        stmt = stmt.where(User.role == role)
    return list(db.session.scalars(stmt))


def get_user(user_id: uuid.UUID) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(f"No user {user_id}.")
    return user


def update_user(actor: User, user_id: uuid.UUID, changes: dict[str, Any]) -> User:
    """Change a user's ``role`` and/or ``is_active`` (admins cannot demote/disable themselves)."""
    user = get_user(user_id)
    role, active = changes.get("role"), changes.get("is_active")
    if user.id == actor.id and ((role and role != user.role) or active is False):
        raise Conflict("You cannot change your own role or disable your own account.")
    if role and role != user.role:
        audit.record("role_changed", user.id, actor_id=actor.id, old=user.role, new=role)
        user.role = role
    if active is not None and active != user.is_active:
        user.is_active = bool(active)
        if not user.is_active:
            revoke_all_sessions(user, "disabled")
        audit.record("user_enabled" if user.is_active else "user_disabled", user.id,
                     actor_id=actor.id)  # fmt: skip
    db.session.commit()
    return user


def set_role(email: str, role: str) -> User:
    """Give the account ``email`` the ``role`` (for the CLI: bootstrapping the first admin)."""
    user = find_user_by_email(email)
    if user is None:
        raise NotFound(f"No account with e-mail {email!r}.")
    Role(role)  # ValueError for an unknown role
    if user.role != role:
        audit.record("role_changed", user.id, old=user.role, new=role, via="cli")
        user.role = role
        db.session.commit()
    return user


def roles() -> list[dict[str, Any]]:
    return [{"role": r.value, "permissions": permissions_of(r.value)} for r in Role]


__all__ = ["get_user", "list_users", "roles", "set_role", "update_user"]
