"""Dry-run scoring: what submitting a comment would answer, recording nothing."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from api import ratelimit, services
from api.auth import roles
from api.body import json_body
from moderation import service
from moderation.policy_changes import get_policy

bp = Blueprint("score", __name__, url_prefix="/v1/score")


@bp.post("")
@roles("site", "moderator", "admin")
@ratelimit.charged_by_size
def score() -> Response:
    """Score and decide a comment under the policy in force, as its author's first; nothing is stored."""
    found = services()
    scorer = found.scorer  # one model version for the whole request
    document = json_body()
    ratelimit.charge_comments([document])
    return jsonify(service.dry_run(scorer, get_policy(found.store, scorer), document))
