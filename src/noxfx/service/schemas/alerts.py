"""Alerts: the rule a trader sets, and what the API answers."""

from __future__ import annotations

from typing import Any

from apiflask import Schema
from apiflask.fields import UUID, DateTime, Dict, Float, List, Nested, String
from apiflask.validators import Length, OneOf, Range
from marshmallow import ValidationError, validates_schema

from noxfx.timeframes import TIMEFRAMES


class ConditionIn(Schema):
    """``price_cross``: ``level`` (and ``direction``, ``price``); ``formula``: ``timeframe`` and
    ``expression``, a condition of the formula language checked on each closed bar (it fires
    when the condition turns true)."""

    type = String(required=True, validate=OneOf(["price_cross", "formula"]))
    level = Float(validate=Range(min=1e-6, max=1e7))
    direction = String(load_default="either", validate=OneOf(["up", "down", "either"]))
    price = String(load_default="mid", validate=OneOf(["bid", "ask", "mid"]))
    timeframe = String(validate=OneOf(list(TIMEFRAMES)))
    expression = String(validate=Length(min=1, max=2000),
                        metadata={"example": "cross_over(rsi(close,14), 30)"})  # fmt: skip

    @validates_schema
    def _fields_of_the_type(self, data: dict[str, Any], **_: Any) -> None:
        need = ("level",) if data.get("type") == "price_cross" else ("timeframe", "expression")
        missing = [f for f in need if data.get(f) is None]
        if missing:
            raise ValidationError(f"{data.get('type')} needs {', '.join(missing)}.", missing[0])


class AlertIn(Schema):
    """``POST /alerts``: a price level on one pair, once or every time (with a cooldown)."""

    symbol = String(required=True, validate=Length(min=3, max=40),
                    metadata={"example": "EURUSD"})  # fmt: skip
    condition = Nested(ConditionIn, required=True)
    channels = List(String(validate=OneOf(["socket", "webhook"])), load_default=["socket"],
                    validate=Length(min=1, max=2))  # fmt: skip
    webhook_url = String(load_default=None, allow_none=True, validate=Length(max=2000))
    repeat = String(load_default="once", validate=OneOf(["once", "every"]))
    cooldown_seconds = Float(load_default=0.0, validate=Range(min=0, max=30 * 86400))
    expires_at = DateTime(load_default=None, allow_none=True)
    message = String(load_default="", validate=Length(max=500))


class AlertStatusIn(Schema):
    status = String(required=True, validate=OneOf(["active", "paused"]))


class AlertOut(Schema):
    id = UUID(required=True)
    symbol = String(required=True)
    condition = Dict(required=True)
    channels = List(String(), required=True)
    webhook_url = String(allow_none=True)
    repeat = String(required=True)
    cooldown_seconds = Float(required=True)
    expires_at = DateTime(allow_none=True)
    message = String(required=True)
    status = String(required=True, metadata={"description": "active, paused, fired, expired"})
    created_at = DateTime(required=True)


class AlertCreatedOut(AlertOut):
    webhook_secret = String(
        allow_none=True,
        metadata={"description": "Shown once: verify X-Nox-Signature with it (HMAC-SHA256)."},
    )


class DeliveryOut(Schema):
    channel = String(required=True)
    state = String(required=True, metadata={"description": "pending, sent, failed"})
    attempts = Float(required=True)
    last_error = String(allow_none=True)
    sent_at = DateTime(allow_none=True)


class FiringOut(Schema):
    id = UUID(required=True)
    fired_at = DateTime(required=True)
    idempotency_key = String(required=True)
    payload = Dict(required=True)
    deliveries = List(Nested(DeliveryOut), required=True)


__all__ = ["AlertCreatedOut", "AlertIn", "AlertOut", "AlertStatusIn", "FiringOut"]
