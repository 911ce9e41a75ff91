"""Login lockout that an attacker cannot turn against the account's owner.

Two locks, both with exponential backoff (``lockout_base_seconds`` doubling per further
failure, capped at ``lockout_max_seconds``):

* **Per (account, client address)**: from the ``lockout_threshold``-th failed password or second
  factor from one address (since that address's last successful login on the account, the last
  password reset, and at most :data:`WINDOW` back), that address is locked out of that account.
  No answer from a locked address depends on the password. Someone failing from one address
  does not lock the owner out elsewhere. Counted from the ``login_failed`` events of the audit
  log (which carry the address), so every worker sees the same count and no schema change is
  needed.
* **Per account (the cap)**: ``users.failed_logins`` counts failures from every address; from
  :data:`ACCOUNT_CAP_FACTOR` x the threshold on, ``users.locked_until`` locks the account as a
  whole against password-only logins from addresses it has never logged in from, so a
  distributed guesser is slowed too. The owner still gets through: with the correct password
  *and* a correct second factor (an account with MFA: the password alone only yields the MFA
  challenge), or with the correct password from an address that logged in to the account
  successfully in the last :data:`KNOWN_ADDRESS_DAYS` days (still under that address's own
  lock); a success, or a password reset, resets the count.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import has_request_context, request
from sqlalchemy import ColumnElement, and_, func, or_, select

from noxfx.service.db import db, utcnow
from noxfx.service.errors import AccountLocked
from noxfx.service.models import AuditEvent, User
from noxfx.service.runtime import runtime
from noxfx.service.services import audit

#: The account-wide cap is this many times the per-address threshold.
ACCOUNT_CAP_FACTOR = 4
#: Failures older than this do not count towards a per-address lock.
WINDOW = timedelta(hours=24)
#: How long an address that logged in successfully stays "known" (exempt from the cap).
KNOWN_ADDRESS_DAYS = 90
FAILED = "login_failed"
_RESETS = ("password_reset",)


def client_address() -> str | None:
    """This request's client address as the audit log stores it (None outside requests)."""
    if not has_request_context():
        return None
    return (request.remote_addr or "")[:64] or None


def _backoff(over: int) -> int:
    s = runtime().settings
    return int(min(s.lockout_base_seconds * 2 ** min(over, 30), s.lockout_max_seconds))


def _same_address(address: str | None) -> ColumnElement[bool]:
    return AuditEvent.ip.is_(None) if address is None else AuditEvent.ip == address


def address_failures(user: User, now: datetime) -> tuple[int, datetime | None]:
    """How many failures from this address count now, and when the last one was."""
    address = client_address()
    reset_at = db.session.scalar(
        select(func.max(AuditEvent.created_at)).where(
            AuditEvent.user_id == user.id,
            or_(
                and_(AuditEvent.event == "login_succeeded", _same_address(address)),
                AuditEvent.event.in_(_RESETS),
            ),
        )
    )
    since = now - WINDOW if reset_at is None else max(now - WINDOW, reset_at)
    count, last = db.session.execute(
        select(func.count(), func.max(AuditEvent.created_at)).where(
            AuditEvent.user_id == user.id,
            AuditEvent.event == FAILED,
            _same_address(address),
            AuditEvent.created_at > since,
        )
    ).one()
    return int(count), last


def address_locked_until(user: User, now: datetime) -> datetime | None:
    """Until when this address is locked out of ``user`` (None: it is not)."""
    threshold = runtime().settings.lockout_threshold
    count, last = address_failures(user, now)
    if count < threshold or last is None:
        return None
    until: datetime = last + timedelta(seconds=_backoff(count - threshold))
    return until if until > now else None


def account_capped(user: User, now: datetime) -> bool:
    """Whether the account-wide cap is in force."""
    return user.locked_until is not None and user.locked_until > now


def raise_if_address_locked(user: User, now: datetime) -> None:
    until = address_locked_until(user, now)
    if until is not None:
        wait = int((until - now).total_seconds()) + 1
        raise AccountLocked(
            f"Too many failed logins from this address: this account is locked here for "
            f"{wait} more seconds.",
            wait,
        )


def known_address(user: User, now: datetime) -> bool:
    """Whether this address logged in to ``user`` successfully in the last
    :data:`KNOWN_ADDRESS_DAYS` days."""
    found = db.session.scalar(
        select(AuditEvent.id)
        .where(
            AuditEvent.user_id == user.id,
            AuditEvent.event == "login_succeeded",
            _same_address(client_address()),
            AuditEvent.created_at > now - timedelta(days=KNOWN_ADDRESS_DAYS),
        )
        .limit(1)
    )
    return found is not None


def raise_if_account_capped(user: User, now: datetime) -> None:
    """The account-wide cap, for a password-only login (see the module docstring): raised
    before the password is checked, and not for a known address."""
    if account_capped(user, now) and not known_address(user, now):
        assert user.locked_until is not None
        wait = int((user.locked_until - now).total_seconds()) + 1
        raise AccountLocked(
            f"Too many failed logins on this account: password logins are locked for {wait} "
            "more seconds (an account with MFA can still log in with its second factor).",
            wait,
        )


def record_failure(user: User, now: datetime, reason: str) -> None:
    """Count a failed password or second factor (both locks) and commit."""
    s = runtime().settings
    user.failed_logins += 1
    audit.record(FAILED, user.id, reason=reason, failures=user.failed_logins)
    db.session.flush()
    count, _ = address_failures(user, utcnow())
    if count >= s.lockout_threshold:
        seconds = _backoff(count - s.lockout_threshold)
        audit.record("account_locked", user.id, scope="address", seconds=seconds, failures=count)
    cap = s.lockout_threshold * ACCOUNT_CAP_FACTOR
    if user.failed_logins >= cap:
        seconds = _backoff(user.failed_logins - cap)
        user.locked_until = now + timedelta(seconds=seconds)
        audit.record("account_locked", user.id, scope="account", seconds=seconds,
                     failures=user.failed_logins)  # fmt: skip
    db.session.commit()


def record_success(user: User) -> None:
    """A full login: the account-wide count restarts (the caller records the success event,
    which restarts this address's count; the caller commits)."""
    user.failed_logins = 0
    user.locked_until = None


__all__ = [
    "ACCOUNT_CAP_FACTOR",
    "KNOWN_ADDRESS_DAYS",
    "WINDOW",
    "account_capped",
    "address_failures",
    "address_locked_until",
    "client_address",
    "known_address",
    "raise_if_account_capped",
    "raise_if_address_locked",
    "record_failure",
    "record_success",
]
