"""TOTP (RFC 6238) with replay protection, encrypted secrets and recovery codes.

* Codes are checked against the previous, current and next 30 s step; the accepted step is
  remembered (``mfa_last_counter``) and a code of that step or an earlier one is refused, so an
  observed code cannot be replayed.
* The base32 secret is stored encrypted (Fernet, key derived from ``NOX_SECRET_KEY`` with
  HKDF-SHA256). Rotating the secret key therefore requires users to re-enrol MFA.
* Recovery codes are 16 base32 characters (80 bits), shown once, stored as SHA-256 of
  ``user id + code``; each works once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
import uuid
from datetime import UTC, datetime

import pyotp
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

RECOVERY_CODE_COUNT = 10
_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # base32 without look-alikes (0/O, 1/I)
ISSUER = "NOX"


class SecretBox:
    """Encrypts TOTP secrets at rest with a key derived from the service secret key."""

    def __init__(self, secret_key: str) -> None:
        key = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=b"noxfx-mfa", info=b"totp-secret"
        ).derive(secret_key.encode())
        self._fernet = Fernet(base64.urlsafe_b64encode(key))

    def encrypt(self, plain: str) -> str:
        return self._fernet.encrypt(plain.encode()).decode()

    def decrypt(self, token: str) -> str | None:
        """The secret, or None when it was encrypted under another key."""
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken:
            return None


def new_totp_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, email: str) -> str:
    """The ``otpauth://`` URI authenticator apps scan as a QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=ISSUER)


def totp_code(secret: str, at: float | None = None) -> str:
    """The code an authenticator shows at time ``at`` (used by tests and the CLI)."""
    return pyotp.TOTP(secret).at(at if at is not None else time.time())


def match_totp(secret: str, code: str, last_counter: int | None, at: float | None = None) -> int:
    """The time step ``code`` belongs to (±1 step), or -1 if wrong or already used."""
    code = code.strip().replace(" ", "")
    if not (code.isdigit() and len(code) == 6):
        return -1
    totp = pyotp.TOTP(secret)
    now = at if at is not None else time.time()
    current = totp.timecode(datetime.fromtimestamp(now, UTC))
    for step in (current - 1, current, current + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            if last_counter is not None and step <= last_counter:
                return -1
            return step
    return -1


def new_recovery_codes(count: int = RECOVERY_CODE_COUNT) -> list[str]:
    """Fresh recovery codes formatted ``XXXX-XXXX-XXXX-XXXX``."""
    codes = []
    for _ in range(count):
        raw = "".join(secrets.choice(_ALPHABET) for _ in range(16))
        codes.append("-".join(raw[i : i + 4] for i in range(0, 16, 4)))
    return codes


def normalize_recovery_code(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())


def hash_recovery_code(user_id: uuid.UUID, code: str) -> str:
    """SHA-256 of the user id and the normalised code."""
    data = f"{user_id}:{normalize_recovery_code(code)}".encode()
    return hashlib.sha256(data).hexdigest()


__all__ = [
    "RECOVERY_CODE_COUNT",
    "SecretBox",
    "hash_recovery_code",
    "match_totp",
    "new_recovery_codes",
    "new_totp_secret",
    "normalize_recovery_code",
    "provisioning_uri",
    "totp_code",
]
