"""Perspective API's routes, `/v1alpha1/comments:analyze` and `:suggestscore`, for its clients and Coral Talk.

Errors here are in Google's shape (api/errors.py, GOOGLE_SHAPED); the key may come as `?key=`, as Perspective's
clients send it, and is redacted from the access log.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from api import ratelimit, services
from api.auth import accepts_query_key, current_key, roles
from api.body import json_body
from api.errors import GOOGLE_SHAPED
from model.suite.evaluate import scores_function
from moderation import perspective
from moderation.policy_changes import get_policy
from moderation.records import parse

bp = Blueprint("perspective", __name__, url_prefix="/v1alpha1")
GOOGLE_SHAPED.add(bp.name)


@bp.post("/comments:analyze")
@roles("site", "moderator", "admin")
@accepts_query_key
@ratelimit.charged_by_size
def analyze() -> Response:
    """Scores of the requested Perspective attributes (and per sentence with `spanAnnotations`); records nothing."""
    found = services()
    scorer = found.scorer  # one model version for the whole request
    document = json_body()
    request = parse(perspective.AnalyzeCommentRequest, document)
    # Span annotations score every sentence once more: they cost the text's units twice.
    text = {"text": request.comment.text}
    ratelimit.charge_comments([text, text] if request.spanAnnotations else [text])
    policy = get_policy(found.store, scorer)
    return jsonify(perspective.analyze(scores_function(scorer), policy.known_languages, scorer.version, request))


@bp.post("/comments:suggestscore")
@roles("site", "moderator", "admin")
@accepts_query_key
def suggest_score() -> Response:
    """Keep a suggested score (e.g. a Coral moderator's decision) as a labelled example for the next retrain."""
    found = services()
    request = parse(perspective.SuggestCommentScoreRequest, json_body())
    return jsonify(perspective.record_suggestion(found.store, request, current_key().id))
