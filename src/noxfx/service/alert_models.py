"""Alert rules, their firings and the delivery outbox (one row per firing and channel).

A firing and its deliveries are written in one transaction, the moment the engine decides the
rule fired; delivery happens afterwards from the outbox (at least once; the firing's
``idempotency_key`` travels with every delivery so receivers can drop repeats). The webhook
secret is stored encrypted (Fernet, key derived from ``NOX_SECRET_KEY``) and shown once.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from noxfx.service.db import Base, JSONType, utcnow


def _uuid() -> uuid.UUID:
    return uuid.uuid4()


class Alert(Base):
    """A user's rule: a condition on one symbol, how often it may fire, where it is sent."""

    __tablename__ = "alerts"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=_uuid)
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    symbol: Mapped[str] = mapped_column(String(16), index=True)
    #: {"type": "price_cross", "level": 1.196, "direction": "up", "price": "mid"}
    condition: Mapped[dict[str, Any]] = mapped_column(default=dict)
    channels: Mapped[list[str]] = mapped_column(JSONType, default=list)
    repeat: Mapped[str] = mapped_column(String(8), default="once")
    cooldown_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    expires_at: Mapped[datetime | None] = mapped_column(default=None)
    message: Mapped[str] = mapped_column(String(500), default="")
    webhook_url: Mapped[str | None] = mapped_column(String(2000), default=None)
    webhook_secret_encrypted: Mapped[str | None] = mapped_column(String(512), default=None)
    #: active, paused, fired (a spent "once" rule), expired
    status: Mapped[str] = mapped_column(String(16), default="active", index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow, index=True)


class AlertFiring(Base):
    """One time a rule fired, with the price that crossed."""

    __tablename__ = "alert_firings"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=_uuid)
    alert_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("alerts.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    fired_at: Mapped[datetime] = mapped_column(default=utcnow)
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)


class AlertDelivery(Base):
    """The outbox: one firing on one channel, until it is sent (or fails for good)."""

    __tablename__ = "alert_deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    firing_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("alert_firings.id", ondelete="CASCADE"), index=True
    )
    channel: Mapped[str] = mapped_column(String(16))
    #: pending, sent, failed
    state: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    sent_at: Mapped[datetime | None] = mapped_column(default=None)


__all__ = ["Alert", "AlertDelivery", "AlertFiring"]
