"""Typed SQLAlchemy 2 models of the service (users, tokens, audit, plans, jobs).

Secrets are never stored in the clear: refresh tokens, e-mail/reset tokens and recovery codes
are stored as SHA-256 hex digests of high-entropy random values, passwords as argon2id hashes,
and the TOTP secret encrypted with a key derived from ``NOX_SECRET_KEY``.

A refresh token belongs to a *family* (one login on one device). Every use rotates it: the old
row gets ``rotated_at`` and a new row joins the family. Presenting a rotated token again is a
reuse, and revokes the whole family (``revoked_at`` on every row).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from noxfx.service.db import Base, utcnow


class Role(StrEnum):
    """Account roles, least to most privileged (permissions: ``security.permissions``)."""

    BASIC = "basic"
    PREMIUM = "premium"
    ANALYST = "analyst"
    ADMIN = "admin"


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


def _uuid() -> uuid.UUID:
    return uuid.uuid4()


class User(Base):
    """An account. ``token_version`` is bumped to invalidate every access token at once."""

    __tablename__ = "users"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=_uuid)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    display_name: Mapped[str] = mapped_column(String(100), default="")
    role: Mapped[str] = mapped_column(String(16), default=Role.BASIC.value)
    is_active: Mapped[bool] = mapped_column(default=True)
    email_verified_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(default=None)
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column(default=None)
    token_version: Mapped[int] = mapped_column(default=0)
    mfa_secret_encrypted: Mapped[str | None] = mapped_column(String(512), default=None)
    mfa_enabled_at: Mapped[datetime | None] = mapped_column(default=None)
    mfa_last_counter: Mapped[int | None] = mapped_column(BigInteger, default=None)
    preferences: Mapped[dict[str, Any]] = mapped_column(default=dict)
    risk_settings: Mapped[dict[str, Any]] = mapped_column(default=dict)

    refresh_tokens: Mapped[list[RefreshToken]] = relationship(
        back_populates="user", cascade="all, delete-orphan", passive_deletes=True
    )
    recovery_codes: Mapped[list[RecoveryCode]] = relationship(
        back_populates="user", cascade="all, delete-orphan", passive_deletes=True
    )
    plans: Mapped[list[Plan]] = relationship(
        back_populates="user", cascade="all, delete-orphan", passive_deletes=True
    )
    jobs: Mapped[list[Job]] = relationship(
        back_populates="user", cascade="all, delete-orphan", passive_deletes=True
    )

    @property
    def mfa_enabled(self) -> bool:
        return self.mfa_enabled_at is not None

    @property
    def email_verified(self) -> bool:
        return self.email_verified_at is not None


class RefreshToken(Base):
    """One refresh token (stored as a hash) of a login family; see the module docstring."""

    __tablename__ = "refresh_tokens"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=_uuid)
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    family_id: Mapped[uuid.UUID] = mapped_column(index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    rotated_at: Mapped[datetime | None] = mapped_column(default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
    revoked_reason: Mapped[str | None] = mapped_column(String(32), default=None)
    user_agent: Mapped[str | None] = mapped_column(String(256), default=None)
    ip: Mapped[str | None] = mapped_column(String(64), default=None)

    user: Mapped[User] = relationship(back_populates="refresh_tokens")


class RecoveryCode(Base):
    """A single-use MFA recovery code (hash only)."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(default=None)

    user: Mapped[User] = relationship(back_populates="recovery_codes")


class ActionToken(Base):
    """A single-use e-mailed token: ``purpose`` is ``verify_email`` or ``password_reset``."""

    __tablename__ = "action_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    purpose: Mapped[str] = mapped_column(String(32))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None] = mapped_column(default=None)


class AuditEvent(Base):
    """A security event. Kept when the user is erased (``user_id`` becomes NULL)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True, default=None
    )
    actor_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    event: Mapped[str] = mapped_column(String(64), index=True)
    ip: Mapped[str | None] = mapped_column(String(64), default=None)
    user_agent: Mapped[str | None] = mapped_column(String(256), default=None)
    request_id: Mapped[str | None] = mapped_column(String(64), default=None)
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Plan(Base):
    """A trading plan owned by one user (the generator's output, stored as JSON)."""

    __tablename__ = "plans"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=_uuid)
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    symbol: Mapped[str] = mapped_column(String(16))
    timeframe: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16), default="active")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)

    user: Mapped[User] = relationship(back_populates="plans")


class Job(Base):
    """A background job owned by one user; its result or error is stored when it ends."""

    __tablename__ = "jobs"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=_uuid)
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(32))
    params: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(16), default=JobStatus.QUEUED.value)
    #: Fraction done, 0..1 (None before the job starts reporting).
    progress: Mapped[float | None] = mapped_column(Float, default=None)
    result: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    request_id: Mapped[str | None] = mapped_column(String(64), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    #: Times a worker started the job (a job whose worker died is re-queued while
    #: ``attempts < job_max_attempts``, then failed).
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: Who runs it (``host:pid:token``) while running; its heartbeat renews the lease.
    worker: Mapped[str | None] = mapped_column(String(128), default=None)
    heartbeat_at: Mapped[datetime | None] = mapped_column(default=None)
    #: A running job whose lease ran out lost its worker (see ``noxfx.service.jobs``).
    lease_expires_at: Mapped[datetime | None] = mapped_column(default=None)
    #: When a runner message for the queued job was last sent (a job queued long after it
    #: has lost its message and is dispatched again).
    dispatched_at: Mapped[datetime | None] = mapped_column(default=None)

    user: Mapped[User] = relationship(back_populates="jobs")

    __table_args__ = (Index("ix_jobs_status", "status"),)


__all__ = [
    "ActionToken",
    "AuditEvent",
    "Job",
    "JobStatus",
    "Plan",
    "RecoveryCode",
    "RefreshToken",
    "Role",
    "User",
]
