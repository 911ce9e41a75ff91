"""Login, MFA login, refresh-token rotation with reuse detection, logout, lockout.

Lockout: per (account, client address) with backoff, plus an account-wide cap that a correct
password and second factor get through (see :mod:`noxfx.service.services.lockout`).
Unknown e-mails spend the time of a hash verification, and wrong e-mail and wrong password give
the same answer, so the login does not reveal which accounts exist (the lock message does, once
an account is under attack: a deliberate trade-off for a clear ``Retry-After``).

Refresh: see :mod:`noxfx.service.models`. The rotation is an atomic conditional UPDATE, so two
concurrent uses of one token cannot both succeed: the loser is treated as a reuse.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import has_request_context, request
from sqlalchemy import delete, event, select, update
from sqlalchemy.exc import IntegrityError

from noxfx.service.db import db, utcnow
from noxfx.service.errors import AuthenticationFailed
from noxfx.service.models import ActionToken, RefreshToken, User
from noxfx.service.runtime import runtime
from noxfx.service.security.tokens import MfaClaims, TokenError, hash_token, new_opaque_token
from noxfx.service.services import audit, lockout
from noxfx.service.services.mfa import check_second_factor
from noxfx.service.services.revocation import revoke_all_sessions, revoke_family

_BAD_LOGIN = "Invalid e-mail or password."


@dataclass(frozen=True, slots=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    refresh_expires_in: int
    token_type: str = "Bearer"


@dataclass(frozen=True, slots=True)
class LoginResult:
    """Either tokens, or (for MFA accounts) the token for the second step."""

    tokens: TokenPair | None = None
    mfa_token: str | None = None

    @property
    def mfa_required(self) -> bool:
        return self.mfa_token is not None


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == email.strip().lower()))


def login(email: str, password: str) -> LoginResult:
    """Check the password; tokens, or an MFA challenge when the account has MFA."""
    rt = runtime()
    user = find_user_by_email(email)
    if user is None or not user.is_active:
        rt.passwords.burn(password)
        audit.record("login_failed", user.id if user else None, reason="unknown or disabled")
        db.session.commit()
        raise AuthenticationFailed(_BAD_LOGIN)
    now = utcnow()
    lockout.raise_if_address_locked(user, now)
    if not user.mfa_enabled:  # with MFA, the cap still lets password + second factor through
        lockout.raise_if_account_capped(user, now)
    if not rt.passwords.verify(user.password_hash, password):
        lockout.record_failure(user, now, "wrong password")
        raise AuthenticationFailed(_BAD_LOGIN)
    if rt.passwords.needs_rehash(user.password_hash):
        user.password_hash = rt.passwords.hash(password)
    if user.mfa_enabled:
        db.session.commit()
        token = rt.tokens.issue_mfa(user.id, rt.settings.mfa_token_minutes, user.token_version)
        return LoginResult(mfa_token=token)
    return LoginResult(tokens=_succeeded(user, now, mfa=False))


def complete_mfa_login(mfa_token: str, code: str | None, recovery_code: str | None) -> TokenPair:
    """Second login step: the MFA token plus a TOTP code or a recovery code.

    The MFA token works once: on success its ``jti`` is recorded (a row with a unique hash in
    ``action_tokens``, in the same transaction as the second-factor check), so two requests
    with one token cannot both log in. A wrong code does not spend it.
    """
    try:
        claims = runtime().tokens.verify_mfa(mfa_token)
    except TokenError as exc:
        raise AuthenticationFailed(f"{exc.reason} Start again at POST /auth/login.") from exc
    user = db.session.get(User, claims.user_id)
    if user is None or not user.is_active or not user.mfa_enabled:
        raise AuthenticationFailed("Start again at POST /auth/login.")
    if claims.token_version != user.token_version:
        raise AuthenticationFailed("This MFA token is no longer valid; start again at "
                                   "POST /auth/login.")  # fmt: skip
    if _mfa_token_spent(claims.jti):
        raise AuthenticationFailed(_MFA_TOKEN_USED)
    now = utcnow()
    lockout.raise_if_address_locked(user, now)  # the account-wide cap does not apply here
    if not check_second_factor(user, code, recovery_code):
        lockout.record_failure(user, now, "wrong second factor")
        raise AuthenticationFailed("The authentication code is wrong or was already used.")
    if not _spend_mfa_token(user, claims):
        raise AuthenticationFailed(_MFA_TOKEN_USED)
    return _succeeded(user, now, mfa=True)


_MFA_TOKEN_USED = "This MFA token was already used; start again at POST /auth/login."
MFA_CHALLENGE = "mfa_challenge"


def _mfa_jti_hash(jti: str) -> str:
    return hash_token(f"mfa-jti:{jti}")


def _mfa_token_spent(jti: str) -> bool:
    found = db.session.scalar(
        select(ActionToken.id).where(ActionToken.token_hash == _mfa_jti_hash(jti))
    )
    return found is not None


def _spend_mfa_token(user: User, claims: MfaClaims) -> bool:
    """Record the MFA token's ``jti`` as used; False (and the transaction rolled back) if a
    concurrent request recorded it first (the unique ``token_hash`` decides)."""
    row = ActionToken(user_id=user.id, purpose=MFA_CHALLENGE, token_hash=_mfa_jti_hash(claims.jti),
                      expires_at=claims.expires_at, used_at=utcnow())  # fmt: skip
    db.session.add(row)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        return False
    db.session.execute(  # spent challenges of this user that have expired are no longer needed
        delete(ActionToken)
        .where(ActionToken.user_id == user.id)
        .where(ActionToken.purpose == MFA_CHALLENGE)
        .where(ActionToken.expires_at < utcnow())
    )
    return True


def _succeeded(user: User, now: datetime, *, mfa: bool) -> TokenPair:
    lockout.record_success(user)
    user.last_login_at = now
    pair = start_session(user)
    audit.record("login_succeeded", user.id, mfa=mfa)
    db.session.commit()
    return pair


def start_session(user: User) -> TokenPair:
    """A new login session (refresh family) with its first token pair (caller commits)."""
    return _issue(user, uuid.uuid4())


def _issue(user: User, family_id: uuid.UUID) -> TokenPair:
    rt = runtime()
    s = rt.settings
    raw = new_opaque_token()
    ua = request.user_agent.string[:256] if has_request_context() else None
    ip = (request.remote_addr or "")[:64] if has_request_context() else None
    db.session.add(RefreshToken(
        user_id=user.id, family_id=family_id, token_hash=hash_token(raw),
        expires_at=utcnow() + timedelta(days=s.refresh_token_days), user_agent=ua, ip=ip,
    ))  # fmt: skip
    access = rt.tokens.issue_access(user.id, family_id, user.token_version, user.role)
    return TokenPair(
        access_token=access,
        refresh_token=raw,
        expires_in=s.access_token_minutes * 60,
        refresh_expires_in=s.refresh_token_days * 86400,
    )


def refresh(raw_token: str) -> TokenPair:
    """Rotate a refresh token: the old one stops working, a new pair is returned.

    A token that was already rotated is a reuse (stolen, or replayed): the whole family is
    revoked, so both the thief and the owner must log in again.
    """
    row = db.session.scalar(
        select(RefreshToken).where(RefreshToken.token_hash == hash_token(raw_token))
    )
    if row is None:
        raise AuthenticationFailed("Unknown refresh token; log in again.")
    now = utcnow()
    if row.revoked_at is not None:
        raise AuthenticationFailed("This session was revoked; log in again.")
    if row.rotated_at is not None:
        _reuse(row)
    if row.expires_at <= now:
        raise AuthenticationFailed("The refresh token has expired; log in again.")
    user = row.user
    if not user.is_active:
        raise AuthenticationFailed("This account is disabled.")
    claimed = db.session.execute(
        update(RefreshToken)
        .where(RefreshToken.id == row.id)
        .where(RefreshToken.rotated_at.is_(None))
        .where(RefreshToken.revoked_at.is_(None))
        .values(rotated_at=now)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]  # lost a race with another use
        db.session.rollback()
        _reuse(row)
    pair = _issue(user, row.family_id)
    db.session.commit()
    return pair


def _reuse(row: RefreshToken) -> None:
    revoke_family(row.family_id, "reuse")
    audit.record("refresh_token_reuse", row.user_id, family_id=str(row.family_id))
    db.session.commit()
    raise AuthenticationFailed(
        "This refresh token was already used. Every session of this login has been revoked "
        "as a precaution; log in again."
    )


@event.listens_for(User.role, "set", active_history=True)
def _role_changed(target: User, value: str, oldvalue: object, _initiator: object) -> None:
    """A role change (admin API, CLI, anywhere) voids the access tokens issued for the old
    role: they carry it, and would otherwise keep its permissions until they expire."""
    if isinstance(oldvalue, str) and value != oldvalue:
        target.token_version = (target.token_version or 0) + 1


def logout(user: User, session_id: uuid.UUID, *, everywhere: bool = False) -> None:
    """End this login session (or all of them)."""
    if everywhere:
        revoke_all_sessions(user, "logout_all")
    else:
        revoke_family(session_id, "logout")
    audit.record("logout", user.id, everywhere=everywhere)
    db.session.commit()


__all__ = [
    "LoginResult",
    "TokenPair",
    "complete_mfa_login",
    "find_user_by_email",
    "login",
    "logout",
    "refresh",
    "revoke_all_sessions",
    "revoke_family",
    "start_session",
]
