"""Schemas of /users/me and /admin: profile, preferences, risk settings, export, audit."""

from __future__ import annotations

from apiflask import Schema
from apiflask.fields import UUID, Boolean, DateTime, Dict, Float, Integer, List, Nested, String
from apiflask.validators import Length, OneOf, Range
from marshmallow import ValidationError

from noxfx.instruments import CATALOGUE, CURRENCY_NAMES
from noxfx.service.models import Role
from noxfx.timeframes import TIMEFRAMES


def _known_symbol(value: str) -> None:
    if value.upper() not in CATALOGUE:
        raise ValidationError(f"Unknown instrument {value!r}.")


class Preferences(Schema):
    theme = String(validate=OneOf(["light", "dark", "system"]))
    default_timeframe = String(validate=OneOf(list(TIMEFRAMES)))
    favourite_symbols = List(String(validate=_known_symbol), validate=Length(max=50))
    notifications = Dict(keys=String(validate=Length(max=40)), values=Boolean(),
                         validate=Length(max=30))  # fmt: skip
    language = String(validate=Length(min=2, max=16))


class RiskSettings(Schema):
    risk_tolerance = String(validate=OneOf(["low", "medium", "high"]))
    risk_per_trade_pct = Float(validate=Range(min=0.01, max=10))
    max_drawdown_pct = Float(validate=Range(min=1, max=100))
    daily_loss_limit_pct = Float(validate=Range(min=0.1, max=100))
    max_open_positions = Integer(validate=Range(min=1, max=100))
    account_balance = Float(validate=Range(min=1, max=1e9))
    account_currency = String(validate=OneOf(sorted(c for c in CURRENCY_NAMES if c[0] != "X")))


class ProfileUpdateIn(Schema):
    display_name = String(validate=Length(max=100))
    preferences = Nested(Preferences, metadata={"description": "Merged into the stored ones."})
    risk_settings = Nested(RiskSettings, metadata={"description": "Merged into the stored ones."})


class ProfileOut(Schema):
    id = UUID(required=True)
    email = String(required=True)
    display_name = String(required=True)
    role = String(required=True, validate=OneOf([r.value for r in Role]))
    permissions = List(String(), required=True)
    email_verified = Boolean(required=True)
    mfa_enabled = Boolean(required=True)
    created_at = DateTime(required=True)
    last_login_at = DateTime(allow_none=True)
    preferences = Dict(required=True)
    risk_settings = Dict(required=True)


class ExportOut(Schema):
    exported_at = DateTime(required=True)
    profile = Dict(required=True)
    sessions = List(Dict(), required=True)
    audit_log = List(Dict(), required=True)
    plans = List(Dict(), required=True)
    jobs = List(Dict(), required=True)


class AdminUserOut(ProfileOut):
    is_active = Boolean(required=True)
    failed_logins = Integer(required=True)
    locked_until = DateTime(allow_none=True)


class AdminUserPatch(Schema):
    role = String(validate=OneOf([r.value for r in Role]))
    is_active = Boolean()


class UsersQuery(Schema):
    q = String(validate=Length(max=320), metadata={"description": "Part of the e-mail."})
    role = String(validate=OneOf([r.value for r in Role]))
    limit = Integer(load_default=50, validate=Range(min=1, max=500))
    offset = Integer(load_default=0, validate=Range(min=0, max=1_000_000))


class RoleOut(Schema):
    role = String(required=True)
    permissions = List(String(), required=True)


class AuditQuery(Schema):
    user_id = UUID()
    event = String(validate=Length(max=64))
    limit = Integer(load_default=100, validate=Range(min=1, max=1000))
    offset = Integer(load_default=0, validate=Range(min=0, max=1_000_000))


class AuditEventOut(Schema):
    id = Integer(required=True)
    created_at = DateTime(required=True)
    user_id = UUID(allow_none=True)
    actor_id = UUID(allow_none=True)
    event = String(required=True)
    ip = String(allow_none=True)
    user_agent = String(allow_none=True)
    request_id = String(allow_none=True)
    details = Dict(required=True)


__all__ = [
    "AdminUserOut",
    "AdminUserPatch",
    "AuditEventOut",
    "AuditQuery",
    "ExportOut",
    "Preferences",
    "ProfileOut",
    "ProfileUpdateIn",
    "RiskSettings",
    "RoleOut",
    "UsersQuery",
]
