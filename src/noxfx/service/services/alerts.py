"""Alert rules for the API: create (the webhook secret shown once), list, get, pause/resume,
delete, and each rule's firings with every channel's delivery state. Another user's alert is a
404. Conditions: ``price_cross`` (on quotes) and ``formula`` (on closed bars)."""

from __future__ import annotations

import secrets
import uuid
from typing import Any

from sqlalchemy import func, select

from noxfx.alerts.webhooks import check_url
from noxfx.errors import InvalidInput
from noxfx.instruments import get_instrument
from noxfx.service.alert_models import Alert, AlertDelivery, AlertFiring
from noxfx.service.db import db
from noxfx.service.errors import NotFound
from noxfx.service.models import User
from noxfx.service.runtime import runtime

#: Channels this build delivers.
CHANNELS = ("socket", "webhook")
#: Active rules one user may hold.
MAX_ALERTS_PER_USER = 200


def create_alert(user: User, body: dict[str, Any]) -> tuple[Alert, str | None]:
    """A new active rule and, when it has a webhook, its secret (returned once, stored
    encrypted)."""
    rt = runtime()
    condition = {k: v for k, v in dict(body["condition"]).items() if v is not None}
    if condition.get("type") == "formula":
        from noxfx.analysis.formula import parse_formula

        parse_formula(condition["expression"])  # a FormulaError (422) says where it is wrong
    elif condition.get("type") != "price_cross":
        raise InvalidInput("condition.type: use price_cross or formula.")
    symbol = get_instrument(body["symbol"]).symbol
    channels = list(dict.fromkeys(body.get("channels") or ["socket"]))
    unknown = [c for c in channels if c not in CHANNELS]
    if unknown:
        raise InvalidInput(f"channels {unknown}: this build delivers {', '.join(CHANNELS)}.")
    url = body.get("webhook_url")
    if ("webhook" in channels) != bool(url):
        raise InvalidInput("Give webhook_url exactly when channels include webhook.")
    if url:
        check_url(url, allow_private=rt.settings.webhook_allow_private)
    count = db.session.scalar(select(func.count()).select_from(Alert).where(
        Alert.user_id == user.id, Alert.status == "active"))  # fmt: skip
    if (count or 0) >= MAX_ALERTS_PER_USER:
        raise InvalidInput(f"At most {MAX_ALERTS_PER_USER} active alerts per user.")
    secret = secrets.token_urlsafe(32) if url else None
    alert = Alert(
        user_id=user.id, symbol=symbol, condition=condition, channels=channels,
        repeat=body.get("repeat", "once"), cooldown_seconds=float(body.get("cooldown_seconds", 0)),
        expires_at=body.get("expires_at"), message=body.get("message", ""), webhook_url=url,
        webhook_secret_encrypted=rt.secret_box.encrypt(secret) if secret else None,
    )  # fmt: skip
    db.session.add(alert)
    db.session.commit()
    return alert, secret


def list_alerts(user: User) -> list[Alert]:
    query = select(Alert).where(Alert.user_id == user.id).order_by(Alert.created_at.desc())
    return list(db.session.scalars(query))


def get_alert(user: User, alert_id: uuid.UUID) -> Alert:
    alert = db.session.get(Alert, alert_id)
    if alert is None or alert.user_id != user.id:
        raise NotFound("No such alert.")
    return alert


def set_status(user: User, alert_id: uuid.UUID, status: str) -> Alert:
    alert = get_alert(user, alert_id)
    if alert.status in ("fired", "expired") and status == "active":
        raise InvalidInput(f"This alert is {alert.status}; create a new one.")
    alert.status = status
    db.session.commit()
    return alert


def delete_alert(user: User, alert_id: uuid.UUID) -> None:
    db.session.delete(get_alert(user, alert_id))
    db.session.commit()


def firings(user: User, alert_id: uuid.UUID) -> list[dict[str, Any]]:
    """The rule's firings, newest first, each with its deliveries (channel, state, attempts)."""
    alert = get_alert(user, alert_id)
    rows = db.session.scalars(select(AlertFiring).where(AlertFiring.alert_id == alert.id)
                              .order_by(AlertFiring.fired_at.desc()))  # fmt: skip
    out = []
    for firing in rows:
        deliveries = db.session.scalars(
            select(AlertDelivery).where(AlertDelivery.firing_id == firing.id))  # fmt: skip
        out.append({"id": firing.id, "fired_at": firing.fired_at,
                    "idempotency_key": firing.idempotency_key, "payload": firing.payload,
                    "deliveries": [{"channel": d.channel, "state": d.state,
                                    "attempts": d.attempts, "last_error": d.last_error,
                                    "sent_at": d.sent_at} for d in deliveries]})  # fmt: skip
    return out


__all__ = ["CHANNELS", "create_alert", "delete_alert", "firings", "get_alert", "list_alerts",
           "set_status"]  # fmt: skip
