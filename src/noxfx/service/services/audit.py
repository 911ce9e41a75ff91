"""The audit log of security events.

:func:`record` adds an event to the current transaction, with the request's client address,
user agent and request id. Events: ``user_registered``, ``email_verified``, ``login_succeeded``,
``login_failed``, ``account_locked``, ``logout``, ``refresh_token_reuse``,
``password_reset_requested``, ``password_reset``, ``password_changed``, ``mfa_enrolled``,
``mfa_enabled``, ``mfa_disabled``, ``recovery_code_used``, ``recovery_codes_regenerated``,
``data_exported``, ``account_deleted``, ``role_changed``, ``user_disabled``, ``user_enabled``.
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import g, has_request_context, request
from sqlalchemy import select

from noxfx.service.db import db
from noxfx.service.models import AuditEvent


def record(
    event: str,
    user_id: uuid.UUID | None = None,
    *,
    actor_id: uuid.UUID | None = None,
    **details: Any,
) -> AuditEvent:
    """Add one audit event to the session (committed with the caller's transaction)."""
    entry = AuditEvent(event=event, user_id=user_id, actor_id=actor_id, details=details)
    if has_request_context():
        entry.ip = (request.remote_addr or "")[:64] or None
        entry.user_agent = (request.user_agent.string or "")[:256] or None
        entry.request_id = g.get("request_id")
    db.session.add(entry)
    return entry


def events(
    *,
    user_id: uuid.UUID | None = None,
    event: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[AuditEvent]:
    """Audit events, newest first, optionally of one user and/or one event type."""
    stmt = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit).offset(offset)
    if user_id is not None:
        stmt = stmt.where(AuditEvent.user_id == user_id)
    if event:
        stmt = stmt.where(AuditEvent.event == event)
    return list(db.session.scalars(stmt))


__all__ = ["events", "record"]
