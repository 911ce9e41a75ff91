"""/auth: register, verify e-mail, login (+ MFA step), refresh, logout, password reset and
change, MFA enrolment. Rate limit: ``auth`` (5/min per route, per user or IP)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from apiflask import APIBlueprint, EmptySchema
from flask import Response

from noxfx.service.auth import current_session_id, current_user, token_auth
from noxfx.service.schemas.auth import (
    ChangePasswordIn,
    LoginIn,
    LoginOut,
    LogoutIn,
    MfaCodeIn,
    MfaEnrollOut,
    MfaLoginIn,
    PasswordIn,
    RecoveryCodesOut,
    RefreshIn,
    RegisterIn,
    ResetConfirmIn,
    ResetRequestIn,
    SecondFactorIn,
    TokenIn,
    TokensOut,
)
from noxfx.service.schemas.common import Message
from noxfx.service.schemas.users import ProfileOut
from noxfx.service.services import accounts, mfa
from noxfx.service.services import auth as sessions

bp = APIBlueprint("auth", __name__, url_prefix="/auth", tag="Auth")
RATE_LIMIT = "auth"


@bp.after_request
def _no_store(response: Response) -> Response:
    """Tokens, secrets and recovery codes must not be kept by any cache (RFC 6749 5.1)."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response


@bp.post("/register")
@bp.input(RegisterIn, arg_name="body")
@bp.output(ProfileOut, status_code=201)
@bp.doc(
    summary="Create an account (sends a verification e-mail; the same answer when the "
    "address already has an account, whose owner is told by e-mail)"
)
def register(body: dict[str, Any]) -> dict[str, Any]:
    return accounts.profile(accounts.register(**body))


@bp.post("/verify-email")
@bp.input(TokenIn, arg_name="body")
@bp.output(ProfileOut)
@bp.doc(summary="Confirm the e-mail address with the e-mailed token", responses=[401])
def verify_email(body: dict[str, Any]) -> dict[str, Any]:
    return accounts.profile(accounts.verify_email(body["token"]))


@bp.post("/verify-email/resend")
@bp.auth_required(token_auth)
@bp.output(Message, status_code=202)
@bp.doc(summary="Send the verification e-mail again", responses=[409])
def resend_verification() -> dict[str, Any]:
    accounts.resend_verification(current_user())
    return {"message": "Verification e-mail sent."}


@bp.post("/login")
@bp.input(LoginIn, arg_name="body")
@bp.output(LoginOut)
@bp.doc(summary="Log in: tokens, or an MFA challenge", responses=[401])
def login(body: dict[str, Any]) -> dict[str, Any]:
    result = sessions.login(body["email"], body["password"])
    if result.mfa_token is not None:
        return {"mfa_required": True, "mfa_token": result.mfa_token}
    assert result.tokens is not None
    return {"mfa_required": False, **asdict(result.tokens)}


@bp.post("/login/mfa")
@bp.input(MfaLoginIn, arg_name="body")
@bp.output(TokensOut)
@bp.doc(summary="Second login step: TOTP code or recovery code", responses=[401])
def login_mfa(body: dict[str, Any]) -> dict[str, Any]:
    pair = sessions.complete_mfa_login(body["mfa_token"], body.get("code"),
                                       body.get("recovery_code"))  # fmt: skip
    return asdict(pair)


@bp.post("/refresh")
@bp.input(RefreshIn, arg_name="body")
@bp.output(TokensOut)
@bp.doc(summary="Rotate the refresh token (reuse revokes the session)", responses=[401])
def refresh(body: dict[str, Any]) -> dict[str, Any]:
    return asdict(sessions.refresh(body["refresh_token"]))


@bp.post("/logout")
@bp.auth_required(token_auth)
@bp.input(LogoutIn, arg_name="body")
@bp.output(EmptySchema, status_code=204)
@bp.doc(summary="End this session (or all sessions)")
def logout(body: dict[str, Any]) -> str:
    sessions.logout(current_user(), current_session_id(), everywhere=body["everywhere"])
    return ""


@bp.post("/password-reset")
@bp.input(ResetRequestIn, arg_name="body")
@bp.output(Message, status_code=202)
@bp.doc(summary="E-mail a password reset link (same answer for unknown addresses)")
def password_reset(body: dict[str, Any]) -> dict[str, Any]:
    accounts.request_password_reset(body["email"])
    return {"message": "If the address has an account, a reset link is on its way."}


@bp.post("/password-reset/confirm")
@bp.input(ResetConfirmIn, arg_name="body")
@bp.output(EmptySchema, status_code=204)
@bp.doc(summary="Set a new password with the e-mailed token (single use, 1 h)",
        responses=[401])  # fmt: skip
def password_reset_confirm(body: dict[str, Any]) -> str:
    accounts.reset_password(body["token"], body["password"])
    return ""


@bp.post("/password")
@bp.auth_required(token_auth)
@bp.input(ChangePasswordIn, arg_name="body")
@bp.output(EmptySchema, status_code=204)
@bp.doc(summary="Change the password (ends every session)")
def change_password(body: dict[str, Any]) -> str:
    accounts.change_password(current_user(), body["current_password"], body["new_password"])
    return ""


@bp.post("/mfa/enroll")
@bp.auth_required(token_auth)
@bp.input(PasswordIn, arg_name="body")
@bp.output(MfaEnrollOut)
@bp.doc(summary="Start TOTP enrolment (confirm with /mfa/activate)", responses=[409])
def mfa_enroll(body: dict[str, Any]) -> dict[str, Any]:
    secret, uri = mfa.enroll(current_user(), body["password"])
    return {"secret": secret, "otpauth_uri": uri}


@bp.post("/mfa/activate")
@bp.auth_required(token_auth)
@bp.input(MfaCodeIn, arg_name="body")
@bp.output(RecoveryCodesOut)
@bp.doc(summary="Turn MFA on with a first code; returns recovery codes", responses=[409])
def mfa_activate(body: dict[str, Any]) -> dict[str, Any]:
    return {"recovery_codes": mfa.activate(current_user(), body["code"])}


@bp.post("/mfa/disable")
@bp.auth_required(token_auth)
@bp.input(SecondFactorIn, arg_name="body")
@bp.output(EmptySchema, status_code=204)
@bp.doc(summary="Turn MFA off (password + code or recovery code)", responses=[409])
def mfa_disable(body: dict[str, Any]) -> str:
    mfa.disable(current_user(), body["password"], body.get("code"), body.get("recovery_code"))
    return ""


@bp.post("/mfa/recovery-codes")
@bp.auth_required(token_auth)
@bp.input(MfaCodeIn, arg_name="body")
@bp.output(RecoveryCodesOut)
@bp.doc(summary="Replace the recovery codes (needs a TOTP code)", responses=[409])
def mfa_recovery_codes(body: dict[str, Any]) -> dict[str, Any]:
    return {"recovery_codes": mfa.regenerate_recovery_codes(current_user(), body["code"])}
