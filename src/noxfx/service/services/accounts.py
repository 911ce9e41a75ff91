"""Accounts: registration, e-mail verification, password reset and change, profile, GDPR export
and erasure.

E-mailed tokens are single-use (an atomic conditional UPDATE marks them used) and expire
(verification ``email_verification_hours``, reset ``password_reset_minutes``). A password reset
or change revokes every session and access token of the account. A reset request, and a
registration, answer the same whether or not the address has an account (the mail tells the
owner).
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update

from noxfx.service.db import db, utcnow
from noxfx.service.errors import AuthenticationFailed, Conflict, ValidationFailed
from noxfx.service.models import ActionToken, AuditEvent, Job, Plan, RefreshToken, User
from noxfx.service.runtime import runtime
from noxfx.service.security.passwords import password_problems
from noxfx.service.security.tokens import hash_token, new_opaque_token
from noxfx.service.services import audit
from noxfx.service.services.auth import find_user_by_email, revoke_all_sessions
from noxfx.service.services.mfa import check_second_factor

VERIFY_EMAIL = "verify_email"
PASSWORD_RESET = "password_reset"


def _check_password(password: str, email: str, field: str = "password") -> None:
    problems = password_problems(password, email)
    if problems:
        raise ValidationFailed(
            "The password does not meet the policy.",
            [{"location": "json", "field": field, "message": p} for p in problems],
        )


def register(email: str, password: str, display_name: str = "") -> User:
    """Create a basic account and e-mail its verification link.

    The answer does not reveal whether the address already has an account: for a taken address
    the password is hashed all the same (the same time spent), nothing is stored, the owner is
    told by e-mail, and the caller gets an unsaved account of the same shape as a new one.
    """
    email = email.strip().lower()
    _check_password(password, email)
    existing = find_user_by_email(email)
    if existing is not None:
        return _registration_of_a_taken_address(existing, password, display_name)
    user = User(email=email, password_hash=runtime().passwords.hash(password),
                display_name=display_name.strip(), preferences={}, risk_settings={})  # fmt: skip
    db.session.add(user)
    db.session.flush()
    audit.record("user_registered", user.id)
    token = _new_action_token(user, VERIFY_EMAIL, runtime().settings.email_verification_hours * 60)
    db.session.commit()
    _mail_verification(user, token)
    return user


def _registration_of_a_taken_address(existing: User, password: str, display_name: str) -> User:
    runtime().passwords.hash(password)  # the time a real registration spends
    audit.record("registration_for_existing_account", existing.id)
    db.session.commit()
    rt = runtime()
    rt.mailer.send(existing.email, "Someone tried to create a NOX account with this address",
                   "Someone (you?) tried to create a NOX account with this e-mail address, which "
                   f"already has one.\n\nLog in: {rt.settings.public_url}/login\nForgot the "
                   f"password? Reset it: {rt.settings.public_url}/reset-password\n\nIf it was "
                   "not you, you can ignore this message: nothing was changed.\n")  # fmt: skip
    return User(id=uuid.uuid4(), email=existing.email, display_name=display_name.strip(),
                role="basic", created_at=utcnow(), email_verified_at=None, mfa_enabled_at=None,
                last_login_at=None, preferences={}, risk_settings={})  # fmt: skip


def _new_action_token(user: User, purpose: str, minutes: int) -> str:
    raw = new_opaque_token()
    db.session.add(ActionToken(user_id=user.id, purpose=purpose, token_hash=hash_token(raw),
                               expires_at=utcnow() + timedelta(minutes=minutes)))  # fmt: skip
    return raw


def _mail_verification(user: User, token: str) -> None:
    rt = runtime()
    link = f"{rt.settings.public_url}/verify-email?token={token}"
    rt.mailer.send(user.email, "Confirm your NOX e-mail address",
                   f"Welcome to NOX.\n\nConfirm your address: {link}\n\nOr send this token to "
                   f"POST /api/v1/auth/verify-email:\n{token}\n\nThe link is valid for "
                   f"{rt.settings.email_verification_hours} hours.\n")  # fmt: skip


def resend_verification(user: User) -> None:
    if user.email_verified:
        raise Conflict("This e-mail address is already verified.")
    token = _new_action_token(user, VERIFY_EMAIL, runtime().settings.email_verification_hours * 60)
    db.session.commit()
    _mail_verification(user, token)


def _consume(raw: str, purpose: str) -> User:
    row = db.session.scalar(select(ActionToken).where(ActionToken.token_hash == hash_token(raw)))
    if row is None or row.purpose != purpose or row.expires_at <= utcnow():
        raise AuthenticationFailed("This link is invalid or has expired; request a new one.")
    spent = db.session.execute(
        update(ActionToken)
        .where(ActionToken.id == row.id)
        .where(ActionToken.used_at.is_(None))
        .values(used_at=utcnow())
    )
    if spent.rowcount != 1:  # type: ignore[attr-defined]
        db.session.rollback()
        raise AuthenticationFailed("This link was already used; request a new one.")
    user = db.session.get(User, row.user_id)
    if user is None or not user.is_active:
        raise AuthenticationFailed("This account is not active.")
    return user


def verify_email(token: str) -> User:
    user = _consume(token, VERIFY_EMAIL)
    if user.email_verified_at is None:
        user.email_verified_at = utcnow()
        audit.record("email_verified", user.id)
    db.session.commit()
    return user


def request_password_reset(email: str) -> None:
    """E-mail a reset link if the account exists (same answer either way)."""
    user = find_user_by_email(email)
    if user is None or not user.is_active:
        return
    db.session.execute(
        update(ActionToken)
        .where(ActionToken.user_id == user.id)
        .where(ActionToken.purpose == PASSWORD_RESET)
        .where(ActionToken.used_at.is_(None))
        .values(used_at=utcnow())
    )  # only the newest link works
    minutes = runtime().settings.password_reset_minutes
    token = _new_action_token(user, PASSWORD_RESET, minutes)
    audit.record("password_reset_requested", user.id)
    db.session.commit()
    link = f"{runtime().settings.public_url}/reset-password?token={token}"
    runtime().mailer.send(user.email, "Reset your NOX password",
                          f"Someone asked to reset the password of this NOX account.\n\n"
                          f"Reset it: {link}\n\nOr send this token with the new password to "
                          f"POST /api/v1/auth/password-reset/confirm:\n{token}\n\nThe link is valid"
                          f" for {minutes} minutes and works once. If it was not you, ignore "
                          f"this message.\n")  # fmt: skip


def reset_password(token: str, new_password: str) -> None:
    user = _consume(token, PASSWORD_RESET)
    _check_password(new_password, user.email)
    _set_password(user, new_password)
    user.failed_logins, user.locked_until = 0, None
    audit.record("password_reset", user.id)
    db.session.commit()


def change_password(user: User, current: str, new: str) -> None:
    if not runtime().passwords.verify(user.password_hash, current):
        raise AuthenticationFailed("The current password is wrong.")
    _check_password(new, user.email, field="new_password")
    _set_password(user, new)
    audit.record("password_changed", user.id)
    db.session.commit()


def _set_password(user: User, password: str) -> None:
    user.password_hash = runtime().passwords.hash(password)
    revoke_all_sessions(user, "password_changed")


def update_profile(user: User, changes: dict[str, Any]) -> User:
    """Apply validated changes: display_name, preferences (merged), risk_settings (merged)."""
    if "display_name" in changes:
        user.display_name = str(changes["display_name"]).strip()
    if "preferences" in changes:
        user.preferences = {**user.preferences, **changes["preferences"]}
    if "risk_settings" in changes:
        user.risk_settings = {**user.risk_settings, **changes["risk_settings"]}
    db.session.commit()
    return user


def export_data(user: User) -> dict[str, Any]:
    """Everything stored about ``user`` (GDPR art. 15/20), secrets excepted."""
    audit.record("data_exported", user.id)
    db.session.commit()
    sessions = db.session.scalars(select(RefreshToken).where(RefreshToken.user_id == user.id))
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.user_id == user.id)
                                .order_by(AuditEvent.id))  # fmt: skip
    plans = db.session.scalars(select(Plan).where(Plan.user_id == user.id))
    jobs = db.session.scalars(select(Job).where(Job.user_id == user.id))
    return {
        "exported_at": utcnow(),
        "profile": profile(user),
        "sessions": [{"family_id": t.family_id, "created_at": t.created_at,
                      "expires_at": t.expires_at, "rotated_at": t.rotated_at,
                      "revoked_at": t.revoked_at, "user_agent": t.user_agent, "ip": t.ip}
                     for t in sessions],
        "audit_log": [{"event": e.event, "created_at": e.created_at, "ip": e.ip,
                       "user_agent": e.user_agent, "details": e.details} for e in events],
        "plans": [{"id": p.id, "symbol": p.symbol, "timeframe": p.timeframe, "status": p.status,
                   "created_at": p.created_at, "data": p.data} for p in plans],
        "jobs": [{"id": j.id, "kind": j.kind, "params": j.params, "status": j.status,
                  "created_at": j.created_at, "result": j.result} for j in jobs],
    }  # fmt: skip


def profile(user: User) -> dict[str, Any]:
    from noxfx.service.security.permissions import permissions_of

    return {
        "id": user.id, "email": user.email, "display_name": user.display_name,
        "role": user.role, "permissions": permissions_of(user.role),
        "email_verified": user.email_verified, "mfa_enabled": user.mfa_enabled,
        "created_at": user.created_at, "last_login_at": user.last_login_at,
        "preferences": user.preferences, "risk_settings": user.risk_settings,
    }  # fmt: skip


def delete_account(user: User, password: str, code: str | None, recovery_code: str | None) -> None:
    """Erase the account (GDPR art. 17): the user row and everything owned by it are deleted.

    Security events are kept for their legitimate purpose but pseudonymised: their ``user_id``
    is cleared (by the foreign key) and their address and user agent are blanked.
    """
    if not runtime().passwords.verify(user.password_hash, password):
        raise AuthenticationFailed("The password is wrong.")
    if user.mfa_enabled and not check_second_factor(user, code, recovery_code):
        db.session.commit()
        raise AuthenticationFailed("An authentication code (or recovery code) is required.")
    user_id = user.id
    db.session.execute(update(AuditEvent).where(AuditEvent.user_id == user_id)
                       .values(ip=None, user_agent=None))  # fmt: skip
    db.session.delete(user)
    audit.record("account_deleted", None, subject=str(uuid.uuid5(uuid.NAMESPACE_OID, str(user_id))))
    db.session.commit()


__all__ = [
    "change_password",
    "delete_account",
    "export_data",
    "profile",
    "register",
    "request_password_reset",
    "resend_verification",
    "reset_password",
    "update_profile",
    "verify_email",
]
