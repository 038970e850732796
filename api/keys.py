"""API keys for admins: list, create (the secret is shown once), revoke."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from api import services
from api.auth import roles
from api.body import json_object, required_text
from moderation import keys

bp = Blueprint("keys", __name__, url_prefix="/v1/keys")


@bp.get("")
@roles("admin")
def list_keys() -> Response:
    """Every key (never the secret or its hash), oldest first."""
    return jsonify(items=[key.as_dict() for key in keys.list_keys(services().store)])


@bp.post("")
@roles("admin")
def create_key() -> tuple[Response, int]:
    """Create a key `{role, name?}`; the answer holds its secret, which cannot be shown again."""
    document = json_object()
    key, secret = keys.create_key(services().store, required_text(document, "role"), document.get("name"))
    return jsonify(key=key.as_dict(), secret=secret), 201


@bp.delete("/<key_id>")
@roles("admin")
def revoke_key(key_id: str) -> Response:
    """Revoke a key at once; requests with it answer 401 from now on."""
    return jsonify(keys.revoke_key(services().store, key_id).as_dict())
