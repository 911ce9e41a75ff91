"""Roles and what they may do: the one table of per-endpoint permissions.

Endpoints declare a permission (``@bp.auth_required(auth, roles=roles_with("audit:read"))``);
this module maps it to roles. Public endpoints (instruments, market data, health) declare none.
"""

from __future__ import annotations

from noxfx.service.models import Role

_ALL = frozenset(Role)
_PAID = frozenset({Role.PREMIUM, Role.ANALYST, Role.ADMIN})

#: permission -> roles holding it
PERMISSIONS: dict[str, frozenset[Role]] = {
    "profile": _ALL,            # own profile, preferences, risk settings, export, erasure
    "analysis:read": _ALL,      # analysis reports
    "portfolio:read": _ALL,     # own paper portfolio
    "jobs:own": _ALL,           # submit and read own jobs
    "plans:own": _ALL,          # own trading plans
    "ml:predict": _PAID,        # model predictions
    "backtest:run": frozenset({Role.ANALYST, Role.ADMIN}),
    "users:admin": frozenset({Role.ADMIN}),
    "audit:read": frozenset({Role.ADMIN}),
}  # fmt: skip


def roles_with(permission: str) -> list[str]:
    """Role names holding ``permission`` (KeyError for an unknown permission: a typo fails
    at import time, not at request time)."""
    return sorted(r.value for r in PERMISSIONS[permission])


def permissions_of(role: str) -> list[str]:
    """Permissions held by ``role``."""
    return sorted(p for p, roles in PERMISSIONS.items() if role in {r.value for r in roles})


__all__ = ["PERMISSIONS", "permissions_of", "roles_with"]
