"""TOTP MFA: enrol (pending secret), activate with a code (returns recovery codes), disable,
regenerate recovery codes, and the second-factor check used by login and erasure.

A TOTP code is accepted once: the last-used time step is advanced by one conditional UPDATE
(:func:`claim_totp_step`), so parallel requests with one code cannot all pass. Activating MFA
ends every session of the account (log in again, with the second factor).
"""

from __future__ import annotations

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm.attributes import set_committed_value

from noxfx.service.db import db, utcnow
from noxfx.service.errors import AuthenticationFailed, Conflict
from noxfx.service.models import RecoveryCode, User
from noxfx.service.runtime import runtime
from noxfx.service.security.mfa import (
    hash_recovery_code,
    match_totp,
    new_recovery_codes,
    new_totp_secret,
    provisioning_uri,
)
from noxfx.service.services import audit
from noxfx.service.services.revocation import revoke_all_sessions


def _require_password(user: User, password: str) -> None:
    if not runtime().passwords.verify(user.password_hash, password):
        raise AuthenticationFailed("The password is wrong.")


def enroll(user: User, password: str) -> tuple[str, str]:
    """Start enrolment: a new secret (pending until :func:`activate`) and its otpauth URI."""
    _require_password(user, password)
    if user.mfa_enabled:
        raise Conflict("MFA is already enabled; disable it first to enrol a new device.")
    secret = new_totp_secret()
    user.mfa_secret_encrypted = runtime().secret_box.encrypt(secret)
    user.mfa_last_counter = None
    audit.record("mfa_enrolled", user.id)
    db.session.commit()
    return secret, provisioning_uri(secret, user.email)


def _secret(user: User) -> str | None:
    if not user.mfa_secret_encrypted:
        return None
    return runtime().secret_box.decrypt(user.mfa_secret_encrypted)


def activate(user: User, code: str) -> list[str]:
    """Turn MFA on with a first valid code; returns the recovery codes (shown once)."""
    if user.mfa_enabled:
        raise Conflict("MFA is already enabled.")
    secret = _secret(user)
    if secret is None:
        raise Conflict("Start with POST /api/v1/auth/mfa/enroll.")
    step = match_totp(secret, code, user.mfa_last_counter)
    if step < 0 or not claim_totp_step(user, step):
        raise AuthenticationFailed("The authentication code is wrong; check the device clock.")
    user.mfa_enabled_at = utcnow()
    codes = _replace_recovery_codes(user)
    # sessions (and tokens) opened with the password alone must not outlive the switch to MFA
    revoke_all_sessions(user, "mfa_enabled")
    audit.record("mfa_enabled", user.id)
    db.session.commit()
    return codes


def _replace_recovery_codes(user: User) -> list[str]:
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = new_recovery_codes()
    db.session.add_all(RecoveryCode(user_id=user.id, code_hash=hash_recovery_code(user.id, c))
                       for c in codes)  # fmt: skip
    return codes


def check_second_factor(user: User, code: str | None, recovery_code: str | None) -> bool:
    """True for a fresh TOTP code or an unused recovery code (which is then spent)."""
    if code:
        secret = _secret(user)
        step = match_totp(secret, code, user.mfa_last_counter) if secret else -1
        return step >= 0 and claim_totp_step(user, step)
    if recovery_code:
        digest = hash_recovery_code(user.id, recovery_code)
        row_id = db.session.scalar(
            select(RecoveryCode.id)
            .where(RecoveryCode.user_id == user.id)
            .where(RecoveryCode.code_hash == digest)
            .where(RecoveryCode.used_at.is_(None))
        )
        if row_id is None:
            return False
        spent = db.session.execute(
            update(RecoveryCode)
            .where(RecoveryCode.id == row_id)
            .where(RecoveryCode.used_at.is_(None))
            .values(used_at=utcnow())
        )
        if spent.rowcount != 1:  # type: ignore[attr-defined]
            return False
        audit.record("recovery_code_used", user.id, remaining=remaining_recovery_codes(user))
        return True
    return False


def claim_totp_step(user: User, step: int) -> bool:
    """Advance ``user``'s last-used TOTP step to ``step`` if it is still below it, atomically.

    One conditional UPDATE (the row lock on PostgreSQL, the write lock on SQLite): of several
    concurrent requests presenting the same code, exactly one sees a changed row; the others
    lose, so a code cannot be replayed in parallel. The caller commits.
    """
    result = db.session.execute(
        update(User)
        .where(User.id == user.id)
        .where(or_(User.mfa_last_counter.is_(None), User.mfa_last_counter < step))
        .values(mfa_last_counter=step)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return False
    set_committed_value(user, "mfa_last_counter", step)
    return True


def remaining_recovery_codes(user: User) -> int:
    rows = db.session.scalars(
        select(RecoveryCode.id)
        .where(RecoveryCode.user_id == user.id)
        .where(RecoveryCode.used_at.is_(None))
    )
    return len(list(rows))


def disable(user: User, password: str, code: str | None, recovery_code: str | None) -> None:
    """Turn MFA off (password and a second factor required)."""
    _require_password(user, password)
    if not user.mfa_enabled:
        raise Conflict("MFA is not enabled.")
    if not check_second_factor(user, code, recovery_code):
        db.session.commit()  # keep a spent replay counter
        raise AuthenticationFailed("The authentication code is wrong or was already used.")
    user.mfa_secret_encrypted = None
    user.mfa_enabled_at = None
    user.mfa_last_counter = None
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    audit.record("mfa_disabled", user.id)
    db.session.commit()


def regenerate_recovery_codes(user: User, code: str) -> list[str]:
    """New recovery codes (the old ones stop working); needs a TOTP code."""
    if not user.mfa_enabled:
        raise Conflict("MFA is not enabled.")
    if not check_second_factor(user, code, None):
        raise AuthenticationFailed("The authentication code is wrong or was already used.")
    codes = _replace_recovery_codes(user)
    audit.record("recovery_codes_regenerated", user.id)
    db.session.commit()
    return codes


__all__ = ["activate", "check_second_factor", "disable", "enroll", "regenerate_recovery_codes",
           "remaining_recovery_codes"]  # fmt: skip
