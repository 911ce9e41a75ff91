"""Schemas of /auth: registration, login, tokens, verification, reset, MFA."""

from __future__ import annotations

from apiflask import Schema
from apiflask.fields import Boolean, Email, Integer, List, String
from apiflask.validators import Length

from noxfx.service.security.passwords import MAX_LENGTH, MIN_LENGTH

_PASSWORD_RULE = Length(
    min=MIN_LENGTH,
    max=MAX_LENGTH,
    error=f"Use at least {MIN_LENGTH} and at most {MAX_LENGTH} characters.",
)
_NEW_PASSWORD = {
    "required": True,
    "validate": _PASSWORD_RULE,
    "metadata": {"description": f"At least {MIN_LENGTH} characters, not a common password."},
}
_TOKEN = {"required": True, "validate": Length(min=1, max=512)}


class RegisterIn(Schema):
    email = Email(required=True, validate=Length(max=320))
    password = String(**_NEW_PASSWORD)  # type: ignore[arg-type]
    display_name = String(load_default="", validate=Length(max=100))


class LoginIn(Schema):
    email = Email(required=True, validate=Length(max=320))
    password = String(required=True, validate=Length(min=1, max=1024))


class TokensOut(Schema):
    access_token = String(required=True)
    refresh_token = String(required=True)
    token_type = String(required=True, metadata={"example": "Bearer"})
    expires_in = Integer(required=True, metadata={"description": "Access token life, seconds."})
    refresh_expires_in = Integer(required=True)


class LoginOut(Schema):
    """Tokens, or ``mfa_required`` with the ``mfa_token`` for POST /auth/login/mfa."""

    mfa_required = Boolean(required=True)
    mfa_token = String(metadata={"description": "Only when mfa_required."})
    access_token = String()
    refresh_token = String()
    token_type = String()
    expires_in = Integer()
    refresh_expires_in = Integer()


class MfaLoginIn(Schema):
    mfa_token = String(**_TOKEN)  # type: ignore[arg-type]
    code = String(validate=Length(min=1, max=16), metadata={"description": "6-digit TOTP code"})
    recovery_code = String(validate=Length(min=1, max=64))


class RefreshIn(Schema):
    refresh_token = String(**_TOKEN)  # type: ignore[arg-type]


class LogoutIn(Schema):
    everywhere = Boolean(load_default=False, metadata={"description": "End every session."})


class TokenIn(Schema):
    token = String(**_TOKEN)  # type: ignore[arg-type]


class ResetRequestIn(Schema):
    email = Email(required=True, validate=Length(max=320))


class ResetConfirmIn(Schema):
    token = String(**_TOKEN)  # type: ignore[arg-type]
    password = String(**_NEW_PASSWORD)  # type: ignore[arg-type]


class ChangePasswordIn(Schema):
    current_password = String(required=True, validate=Length(min=1, max=1024))
    new_password = String(**_NEW_PASSWORD)  # type: ignore[arg-type]


class PasswordIn(Schema):
    password = String(required=True, validate=Length(min=1, max=1024))


class MfaEnrollOut(Schema):
    secret = String(required=True, metadata={"description": "Base32 TOTP secret (shown once)."})
    otpauth_uri = String(required=True, metadata={"description": "For a QR code."})


class MfaCodeIn(Schema):
    code = String(required=True, validate=Length(min=1, max=16))


class RecoveryCodesOut(Schema):
    recovery_codes = List(String(), required=True, metadata={"description": "Shown once."})


class SecondFactorIn(Schema):
    password = String(required=True, validate=Length(min=1, max=1024))
    code = String(validate=Length(min=1, max=16))
    recovery_code = String(validate=Length(min=1, max=64))


__all__ = [
    "ChangePasswordIn",
    "LoginIn",
    "LoginOut",
    "LogoutIn",
    "MfaCodeIn",
    "MfaEnrollOut",
    "MfaLoginIn",
    "PasswordIn",
    "RecoveryCodesOut",
    "RefreshIn",
    "RegisterIn",
    "ResetConfirmIn",
    "ResetRequestIn",
    "SecondFactorIn",
    "TokenIn",
    "TokensOut",
]
