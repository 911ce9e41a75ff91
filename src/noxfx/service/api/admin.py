"""/admin: users, roles and the audit log (admin role only)."""

from __future__ import annotations

import uuid
from typing import Any

from apiflask import APIBlueprint

from noxfx.service.auth import current_user, token_auth
from noxfx.service.models import AuditEvent, User
from noxfx.service.schemas.users import (
    AdminUserOut,
    AdminUserPatch,
    AuditEventOut,
    AuditQuery,
    RoleOut,
    UsersQuery,
)
from noxfx.service.security.permissions import permissions_of, roles_with
from noxfx.service.services import admin, audit

bp = APIBlueprint("admin", __name__, url_prefix="/admin", tag="Admin")
RATE_LIMIT = "default"
_USERS = roles_with("users:admin")


def _out(user: User) -> dict[str, Any]:
    from noxfx.service.services.accounts import profile

    return {
        **profile(user),
        "is_active": user.is_active,
        "failed_logins": user.failed_logins,
        "locked_until": user.locked_until,
        "permissions": permissions_of(user.role),
    }


@bp.get("/users")
@bp.auth_required(token_auth, roles=_USERS)
@bp.input(UsersQuery, location="query", arg_name="query")
@bp.output(AdminUserOut(many=True))
@bp.doc(summary="Users (filter by e-mail part and role)")
def list_users(query: dict[str, Any]) -> list[dict[str, Any]]:
    users = admin.list_users(query.get("q"), query.get("role"), query["limit"], query["offset"])
    return [_out(u) for u in users]


@bp.get("/users/<uuid:user_id>")
@bp.auth_required(token_auth, roles=_USERS)
@bp.output(AdminUserOut)
@bp.doc(summary="One user", responses=[404])
def get_user(user_id: uuid.UUID) -> dict[str, Any]:
    return _out(admin.get_user(user_id))


@bp.patch("/users/<uuid:user_id>")
@bp.auth_required(token_auth, roles=_USERS)
@bp.input(AdminUserPatch, arg_name="body")
@bp.output(AdminUserOut)
@bp.doc(summary="Change a user's role or disable/enable it", responses=[404, 409])
def update_user(user_id: uuid.UUID, body: dict[str, Any]) -> dict[str, Any]:
    return _out(admin.update_user(current_user(), user_id, body))


@bp.get("/roles")
@bp.auth_required(token_auth, roles=_USERS)
@bp.output(RoleOut(many=True))
@bp.doc(summary="Roles and their permissions")
def roles() -> list[dict[str, Any]]:
    return admin.roles()


@bp.get("/audit")
@bp.auth_required(token_auth, roles=roles_with("audit:read"))
@bp.input(AuditQuery, location="query", arg_name="query")
@bp.output(AuditEventOut(many=True))
@bp.doc(summary="Security events, newest first")
def audit_log(query: dict[str, Any]) -> list[AuditEvent]:
    return audit.events(user_id=query.get("user_id"), event=query.get("event"),
                        limit=query["limit"], offset=query["offset"])  # fmt: skip
