"""Operations: liveness, readiness (database writable, model loaded), Prometheus metrics, request timing."""

from __future__ import annotations

import time
from typing import Literal

from flask import Blueprint, Flask, Response, g, jsonify, request
from pydantic import Field

from api import openapi_path, services
from api.auth import public
from api.errors import error_response
from api.metrics import render
from moderation import queue
from moderation.errors import Unavailable
from moderation.outbox import outbox_status
from moderation.records import Record

bp = Blueprint("health", __name__)

PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8"


class Liveness(Record):
    """The process answers HTTP."""

    status: Literal["ok"]


class Readiness(Record):
    """The database takes writes and a model is loaded; versions this worker refused to load, if any."""

    status: Literal["ready"]
    checks: dict[str, str]
    model_version: str
    refused_model_versions: dict[str, str] = Field(description="Version: why this worker refused it.")


@bp.get("/healthz")
@public
def healthz() -> Response:
    """Liveness: the process answers HTTP (touches neither the database nor the model)."""
    return jsonify(Liveness(status="ok").model_dump())


@bp.get("/readyz")
@public
def readyz() -> Response:
    """Readiness: the database takes a write lock (then releases it untouched) and a model is loaded."""
    found = services()
    checks: dict[str, str] = {}
    try:
        with found.store.write():
            pass  # BEGIN IMMEDIATE then COMMIT of nothing: proves the file is writable and not locked out
        checks["database"] = "ok"
    except Unavailable as error:
        checks["database"] = error.message
    version = getattr(found.scorer, "version", None)
    checks["model"] = "ok" if version else "no model loaded"
    if any(state != "ok" for state in checks.values()):
        return error_response(503, "unavailable", "Not ready: " + "; ".join(f"{k}: {v}" for k, v in checks.items()))
    # Versions activated but refused by this worker (missing file, failed hash): it keeps the last good one.
    refused = found.models.status()["refused"] if found.models is not None else {}
    ready = Readiness(status="ready", checks=checks, model_version=str(version), refused_model_versions=refused)
    return jsonify(ready.model_dump())


@bp.get("/metrics")
@public
def metrics() -> Response:
    """Prometheus text: requests and latency by route, decisions, queue depth, outbox, model version."""
    found = services()
    text = render(
        found.metrics.collect(),
        queue=queue.depth(found.store),
        outbox_pending=int(outbox_status(found.store, limit=1)["pending"]),
        model_version=str(found.scorer.version),
    )
    return Response(text, mimetype=None, content_type=PROMETHEUS_TEXT)


def _start_timer() -> None:
    g.started = time.perf_counter()


def _observe(response: Response) -> Response:
    started = g.get("started")
    if started is not None:
        route = openapi_path(request.url_rule.rule) if request.url_rule is not None else "unmatched"
        services().metrics.observe_request(route, request.method, response.status_code, time.perf_counter() - started)
    return response


def register_timing(app: Flask) -> None:
    """Time every request (registered before auth, so refused requests are timed too)."""
    app.before_request(_start_timer)
    app.after_request(_observe)
