"""API keys for admins: list, create (the secret is shown once), revoke."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from api import services
from api.auth import roles
from api.body import json_object
from moderation import keys
from moderation.records import parse

bp = Blueprint("keys", __name__, url_prefix="/v1/keys")


@bp.get("")
@roles("admin")
def list_keys() -> Response:
    """Every key (never the secret or its hash), oldest first."""
    return jsonify(keys.KeyList(items=keys.list_keys(services().store)).model_dump())


@bp.post("")
@roles("admin")
def create_key() -> tuple[Response, int]:
    """Create a key `{role, name?}`; the answer holds its secret, which cannot be shown again."""
    asked = parse(keys.KeyIn, json_object(), "Bad key.")
    key, secret = keys.create_key(services().store, asked.role, asked.name)
    return jsonify(keys.NewKey(key=key, secret=secret).model_dump()), 201


@bp.delete("/<key_id>")
@roles("admin")
def revoke_key(key_id: str) -> Response:
    """Revoke a key at once; requests with it answer 401 from now on."""
    return jsonify(keys.revoke_key(services().store, key_id).as_dict())
