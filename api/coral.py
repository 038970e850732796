"""Coral Talk's external moderation phase: `POST /v1/coral/moderation`, authenticated by Coral's signature."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from api import MAX_BODY_BYTES, services
from api.auth import signed
from api.body import json_body
from moderation import coral
from moderation.errors import Unauthorized
from moderation.records import parse

bp = Blueprint("coral", __name__, url_prefix="/v1/coral")


@bp.post("/moderation")
@signed
def moderation() -> Response | tuple[str, int]:
    """Decide a comment Coral is about to publish: 204 to publish it, 200 to reject or withhold it."""
    found = services()
    raw = request.get_data(cache=True)
    secrets = found.settings.coral_signing_secrets
    if len(raw) > 2 * MAX_BODY_BYTES or not coral.signature_matches(
        raw, request.headers.get(coral.SIGNATURE_HEADER), secrets
    ):
        # Checked before the body is parsed: nothing unsigned is read further or recorded.
        raise Unauthorized(
            "No Coral signing secret is configured (MODERATION_CORAL_SIGNING_SECRETS)."
            if not secrets
            else f"The {coral.SIGNATURE_HEADER} header does not sign this body with a configured secret."
        )
    document = json_body(2 * MAX_BODY_BYTES)
    moderation_request = parse(coral.ExternalModerationRequest, document)
    scorer = found.scorer
    answer, coral_answer = coral.moderate(found.store, scorer, found.settings, moderation_request)
    if coral_answer is None:
        return "", 204
    return jsonify(coral_answer.model_dump(exclude_none=True))
