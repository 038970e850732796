"""The moderation policy: read and replace it (admins), and its history of who changed what when."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from api import services
from api.auth import current_key, roles
from api.body import int_arg, json_object, text_arg
from moderation import policy_changes
from moderation.policy_document import policy_to_document

bp = Blueprint("policy", __name__, url_prefix="/v1/policy")


@bp.get("")
@roles("admin")
def get_policy() -> Response:
    """The policy in force as a full document (the model's thresholds filled in where the admin set none)."""
    found = services()
    return jsonify(policy_changes.policy_document(found.store, found.scorer))


@bp.put("")
@roles("admin")
def put_policy() -> Response:
    """Replace the policy; the change is recorded with the admin's key id and the time."""
    found = services()
    policy = policy_changes.put_policy(found.store, found.scorer, json_object(), current_key().id)
    return jsonify(policy_to_document(policy))


@bp.get("/history")
@roles("admin")
def history() -> Response:
    """Policy changes, newest first, with who put each and when; `cursor` pages back in time."""
    return jsonify(policy_changes.policy_history(services().store, int_arg("limit", 100, 1, 1000), text_arg("cursor")))
