"""The API document: OpenAPI 3 at /openapi.json and a plain HTML page listing the operations at /docs."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, render_template

from api import openapi, services
from api.auth import public

bp = Blueprint("docs", __name__)


@bp.get("/openapi.json")
@public
def openapi_json() -> Response:
    """The OpenAPI 3 document."""
    return jsonify(openapi.document(str(services().scorer.version)))


@bp.get("/docs")
@public
def docs() -> str:
    """A page listing every operation with its roles and parameters (no scripts, no CDN)."""
    return render_template("docs.html", operations=openapi.operations(), info=openapi.document()["info"])
