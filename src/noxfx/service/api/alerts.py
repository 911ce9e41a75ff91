"""/alerts: a user's price alerts, their firings and each channel's delivery state."""

from __future__ import annotations

import uuid
from typing import Any

from apiflask import APIBlueprint

from noxfx.service.alert_models import Alert
from noxfx.service.auth import current_user, token_auth
from noxfx.service.schemas.alerts import (
    AlertCreatedOut,
    AlertIn,
    AlertOut,
    AlertStatusIn,
    FiringOut,
)
from noxfx.service.security.permissions import roles_with
from noxfx.service.services import alerts

bp = APIBlueprint("alerts", __name__, url_prefix="/alerts", tag="Alerts")
RATE_LIMIT = "trading"
_OWN = roles_with("plans:own")


@bp.post("")
@bp.auth_required(token_auth, roles=_OWN)
@bp.input(AlertIn, arg_name="body")
@bp.output(AlertCreatedOut, status_code=201)
@bp.doc(summary="Create an alert (the webhook secret is in this answer only)",
        responses=[404, 422])  # fmt: skip
def create(body: dict[str, Any]) -> dict[str, Any]:
    alert, secret = alerts.create_alert(current_user(), body)
    fields = AlertOut().fields
    return {**{name: getattr(alert, name) for name in fields}, "webhook_secret": secret}


@bp.get("")
@bp.auth_required(token_auth, roles=_OWN)
@bp.output(AlertOut(many=True))
@bp.doc(summary="My alerts, newest first")
def list_alerts() -> list[Alert]:
    return alerts.list_alerts(current_user())


@bp.get("/<uuid:alert_id>")
@bp.auth_required(token_auth, roles=_OWN)
@bp.output(AlertOut)
@bp.doc(summary="One of my alerts", responses=[404])
def get(alert_id: uuid.UUID) -> Alert:
    return alerts.get_alert(current_user(), alert_id)


@bp.patch("/<uuid:alert_id>")
@bp.auth_required(token_auth, roles=_OWN)
@bp.input(AlertStatusIn, arg_name="body")
@bp.output(AlertOut)
@bp.doc(summary="Pause or resume an alert", responses=[404, 422])
def set_status(alert_id: uuid.UUID, body: dict[str, Any]) -> Alert:
    return alerts.set_status(current_user(), alert_id, body["status"])


@bp.delete("/<uuid:alert_id>")
@bp.auth_required(token_auth, roles=_OWN)
@bp.output({}, status_code=204)
@bp.doc(summary="Delete an alert and its history", responses=[404])
def delete(alert_id: uuid.UUID) -> str:
    alerts.delete_alert(current_user(), alert_id)
    return ""


@bp.get("/<uuid:alert_id>/firings")
@bp.auth_required(token_auth, roles=_OWN)
@bp.output(FiringOut(many=True))
@bp.doc(summary="When the alert fired, and each channel's delivery state", responses=[404])
def firings(alert_id: uuid.UUID) -> list[dict[str, Any]]:
    return alerts.firings(current_user(), alert_id)
