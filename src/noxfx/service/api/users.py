"""/users/me: profile, preferences and risk settings; GDPR export and erasure."""

from __future__ import annotations

from typing import Any

from apiflask import APIBlueprint, EmptySchema

from noxfx.service.auth import current_user, token_auth
from noxfx.service.schemas.auth import SecondFactorIn
from noxfx.service.schemas.users import ExportOut, ProfileOut, ProfileUpdateIn
from noxfx.service.security.permissions import roles_with
from noxfx.service.services import accounts

bp = APIBlueprint("users", __name__, url_prefix="/users", tag="Users")
RATE_LIMIT = "default"
_PROFILE = roles_with("profile")


@bp.get("/me")
@bp.auth_required(token_auth, roles=_PROFILE)
@bp.output(ProfileOut)
@bp.doc(summary="My profile, preferences and risk settings")
def me() -> dict[str, Any]:
    return accounts.profile(current_user())


@bp.patch("/me")
@bp.auth_required(token_auth, roles=_PROFILE)
@bp.input(ProfileUpdateIn, arg_name="body")
@bp.output(ProfileOut)
@bp.doc(summary="Update display name, preferences, risk settings (merged)")
def update_me(body: dict[str, Any]) -> dict[str, Any]:
    return accounts.profile(accounts.update_profile(current_user(), body))


@bp.get("/me/export")
@bp.auth_required(token_auth, roles=_PROFILE)
@bp.output(ExportOut)
@bp.doc(summary="Everything stored about me (GDPR export)")
def export_me() -> dict[str, Any]:
    return accounts.export_data(current_user())


@bp.delete("/me")
@bp.auth_required(token_auth, roles=_PROFILE)
@bp.input(SecondFactorIn, arg_name="body")
@bp.output(EmptySchema, status_code=204)
@bp.doc(summary="Erase my account and data (GDPR); password (+ code with MFA)")
def delete_me(body: dict[str, Any]) -> str:
    accounts.delete_account(current_user(), body["password"], body.get("code"),
                            body.get("recovery_code"))  # fmt: skip
    return ""
