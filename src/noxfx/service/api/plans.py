"""/plans: the user's stored trading plans (another user's id is a 404)."""

from __future__ import annotations

import uuid
from typing import Any

from apiflask import APIBlueprint

from noxfx.service.auth import current_user, token_auth
from noxfx.service.models import Plan
from noxfx.service.schemas.common import Paging
from noxfx.service.schemas.plans import PlanIn, PlanOut
from noxfx.service.security.permissions import roles_with
from noxfx.service.services import plans

bp = APIBlueprint("plans", __name__, url_prefix="/plans", tag="Plans")
RATE_LIMIT = "trading"
_OWN = roles_with("plans:own")


@bp.post("")
@bp.auth_required(token_auth, roles=_OWN)
@bp.input(PlanIn, arg_name="body")
@bp.output(PlanOut, status_code=201)
@bp.doc(summary="Generate a trading plan and keep it", responses=[404, 422])
def create(body: dict[str, Any]) -> Plan:
    return plans.create_plan(current_user(), body)


@bp.get("")
@bp.auth_required(token_auth, roles=_OWN)
@bp.input(Paging, location="query", arg_name="query")
@bp.output(PlanOut(many=True))
@bp.doc(summary="My trading plans, newest first")
def list_plans(query: dict[str, Any]) -> list[Plan]:
    return plans.list_plans(current_user(), query["limit"], query["offset"])


@bp.get("/<uuid:plan_id>")
@bp.auth_required(token_auth, roles=_OWN)
@bp.output(PlanOut)
@bp.doc(summary="One of my trading plans", responses=[404])
def get_plan(plan_id: uuid.UUID) -> Plan:
    return plans.get_plan(current_user(), plan_id)
