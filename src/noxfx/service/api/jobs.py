"""/jobs: submit and follow background jobs (only one's own: another user's id is a 404)."""

from __future__ import annotations

import uuid
from typing import Any

from apiflask import APIBlueprint

from noxfx.service.api import accepted
from noxfx.service.auth import current_user, token_auth
from noxfx.service.models import Job
from noxfx.service.schemas.jobs import JobIn, JobKindsOut, JobOut, JobsQuery
from noxfx.service.security.permissions import roles_with
from noxfx.service.services import jobs

bp = APIBlueprint("jobs", __name__, url_prefix="/jobs", tag="Jobs")
RATE_LIMIT = "default"
_OWN = roles_with("jobs:own")


@bp.post("")
@bp.auth_required(token_auth, roles=_OWN)
@bp.input(JobIn, arg_name="body")
@bp.output(JobOut, status_code=202)
@bp.doc(summary="Submit a job", responses=[403, 404, 413, 422, 429, 503])
def submit(body: dict[str, Any]) -> tuple[Job, int, dict[str, str]]:
    return accepted(jobs.submit(current_user(), body["kind"], body["params"]))


@bp.get("")
@bp.auth_required(token_auth, roles=_OWN)
@bp.input(JobsQuery, location="query", arg_name="query")
@bp.output(JobOut(many=True))
@bp.doc(summary="My jobs, newest first")
def list_jobs(query: dict[str, Any]) -> list[Job]:
    return jobs.list_jobs(current_user(), query["limit"], query["offset"])


@bp.get("/kinds")
@bp.auth_required(token_auth, roles=_OWN)
@bp.output(JobKindsOut)
@bp.doc(summary="Job kinds I may submit")
def kinds() -> dict[str, Any]:
    return {"kinds": jobs.kinds_for(current_user())}


@bp.get("/<uuid:job_id>")
@bp.auth_required(token_auth, roles=_OWN)
@bp.output(JobOut)
@bp.doc(summary="One of my jobs", responses=[404])
def get_job(job_id: uuid.UUID) -> Job:
    return jobs.get_job(current_user(), job_id)
