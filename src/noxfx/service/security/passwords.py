"""Password hashing (argon2id) and the password policy.

Policy: at least :data:`MIN_LENGTH` real characters (whitespace and control characters do not
count: twelve spaces or NULs are not a password), at most :data:`MAX_LENGTH`, not one of the
bundled common passwords (``resources/common_passwords.txt``, compared lower-cased), and not the
account's e-mail address or its local part. Length beats composition rules (NIST SP 800-63B).
"""

from __future__ import annotations

import unicodedata
from functools import cache
from importlib import resources

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_LENGTH = 12
MAX_LENGTH = 256


@cache
def common_passwords() -> frozenset[str]:
    """The bundled list of common passwords (lower-case)."""
    text = (resources.files("noxfx.service.resources") / "common_passwords.txt").read_text()
    return frozenset(
        line.strip().lower() for line in text.splitlines() if line.strip() and line[0] != "#"
    )


def real_length(password: str) -> int:
    """How many characters of ``password`` count towards the minimum: not whitespace, not
    control, format, surrogate or unassigned code points (Unicode categories C* and Z*)."""
    return sum(1 for ch in password if not ch.isspace() and unicodedata.category(ch)[0] not in "CZ")


def password_problems(password: str, email: str | None = None) -> list[str]:
    """Why ``password`` is not acceptable (empty list: it is)."""
    problems = []
    real = real_length(password)
    if real < MIN_LENGTH:
        problems.append(
            f"Use at least {MIN_LENGTH} characters other than spaces and control characters "
            f"(this one has {real})."
        )
    if len(password) > MAX_LENGTH:
        problems.append(f"Use at most {MAX_LENGTH} characters.")
    lowered = password.strip().lower()
    if lowered in common_passwords():
        problems.append("This password is on the list of commonly used passwords; choose another.")
    if email:
        local = email.split("@", 1)[0].lower()
        if lowered in (email.lower(), local):
            problems.append("Do not use your e-mail address as the password.")
    return problems


class PasswordHashing:
    """argon2id hashing with configurable cost (tests use a cheaper, still real, setting)."""

    def __init__(self, time_cost: int = 3, memory_kib: int = 65536, parallelism: int = 4) -> None:
        self._hasher = PasswordHasher(
            time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism
        )
        self._dummy = self._hasher.hash("not a real password, used to even out timing")

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, stored_hash: str, password: str) -> bool:
        """True when ``password`` matches; never raises on a wrong or malformed hash."""
        try:
            return self._hasher.verify(stored_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored_hash: str) -> bool:
        try:
            return self._hasher.check_needs_rehash(stored_hash)
        except InvalidHashError:
            return True

    def burn(self, password: str) -> None:
        """Spend the time of one verification (for unknown accounts: no timing oracle)."""
        self.verify(self._dummy, password)


__all__ = ["MAX_LENGTH", "MIN_LENGTH", "PasswordHashing", "common_passwords", "password_problems",
           "real_length"]  # fmt: skip
