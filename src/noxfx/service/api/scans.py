"""/scans: plans for several pairs, ranked by expected value (202; follow ``GET /jobs/{id}``)."""

from __future__ import annotations

from typing import Any

from apiflask import APIBlueprint

from noxfx.service.api import accepted
from noxfx.service.auth import current_user, token_auth
from noxfx.service.models import Job
from noxfx.service.schemas.jobs import JobOut
from noxfx.service.schemas.scans import ScanIn
from noxfx.service.security.permissions import roles_with
from noxfx.service.services import jobs
from noxfx.service.services import scans as _kinds  # noqa: F401  (registers the job kind)

bp = APIBlueprint("scans", __name__, url_prefix="/scans", tag="Plans")
RATE_LIMIT = "trading"


@bp.post("")
@bp.auth_required(token_auth, roles=roles_with("plans:own"))
@bp.input(ScanIn, arg_name="body")
@bp.output(JobOut, status_code=202)
@bp.doc(summary="Scan pairs: each one's plan, ranked by expected value after costs (a job)",
        responses=[403, 404, 413, 422, 429, 503])  # fmt: skip
def submit(body: dict[str, Any]) -> tuple[Job, int, dict[str, str]]:
    return accepted(jobs.submit(current_user(), "scan", body))
