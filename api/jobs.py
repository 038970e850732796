"""Training jobs for admins: their state, stage, percent, elapsed time, and error or result."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from api import services
from api.auth import roles
from api.body import int_arg
from moderation.training import jobs

bp = Blueprint("jobs", __name__, url_prefix="/v1/jobs")


@bp.get("")
@roles("admin")
def list_jobs() -> Response:
    """Recent jobs, newest first."""
    return jsonify(items=jobs.list_jobs(services().store, int_arg("limit", 50, 1, 1000)))


@bp.get("/<rowid:job_id>")
@roles("admin")
def get_job(job_id: int) -> Response:
    """One job: state (queued, running, succeeded, failed), stage, percent, elapsed seconds, error or result."""
    return jsonify(job=jobs.get_job(services().store, job_id))
