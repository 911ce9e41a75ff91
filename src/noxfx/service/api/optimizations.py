"""/optimizations: optimise a strategy as a job (202; follow it at ``GET /jobs/{id}``)."""

from __future__ import annotations

from typing import Any

from apiflask import APIBlueprint

from noxfx.service.api import accepted
from noxfx.service.auth import current_user, token_auth
from noxfx.service.models import Job
from noxfx.service.schemas.backtests import OptimizationIn
from noxfx.service.schemas.jobs import JobOut
from noxfx.service.security.permissions import roles_with
from noxfx.service.services import backtests as _kinds  # noqa: F401  (registers the job kinds)
from noxfx.service.services import jobs

bp = APIBlueprint("optimizations", __name__, url_prefix="/optimizations", tag="Backtests")
RATE_LIMIT = "trading"


@bp.post("")
@bp.auth_required(token_auth, roles=roles_with("backtest:run"))
@bp.input(OptimizationIn, arg_name="body")
@bp.output(JobOut, status_code=202)
@bp.doc(summary="Optimise a strategy's parameters (a job: the result has the trials, the "
        "Deflated Sharpe Ratio of the winner and PBO)",
        responses=[403, 404, 413, 422, 429, 503])  # fmt: skip
def submit(body: dict[str, Any]) -> tuple[Job, int, dict[str, str]]:
    return accepted(jobs.submit(current_user(), "optimize", body))
