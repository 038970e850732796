"""Model versions for admins: list and inspect them, start a retrain, activate (behind the gate), roll back."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, url_for

from api import services
from api.auth import current_key, roles
from api.body import int_arg, optional_json_object
from moderation import perspective
from moderation.records import parse
from moderation.training import jobs, registry

bp = Blueprint("models", __name__, url_prefix="/v1/models")

MARKDOWN = "text/markdown; charset=utf-8"


def _serving() -> dict[str, Any]:
    """What this worker serves, and the versions it refused (missing file, failed hash)."""
    found = services()
    if found.models is not None:
        return found.models.status()
    return {"serving": found.scorer.version, "refused": {}}


def _refreshed() -> str:
    """Switch this worker to the active version now (the others follow within a second); the version served."""
    found = services()
    if found.models is not None:
        found.models.refresh()
    return str(found.scorer.version)


@bp.get("")
@roles("admin")
def list_models() -> Response:
    """Every registered version, newest first: active flag, hold-out metrics, thresholds, training, comparison."""
    found = services()
    versions = registry.list_versions(found.store)
    return jsonify(
        items=[registry.with_evaluation(found.settings, entry) for entry in versions],
        active_version=next((entry["version"] for entry in versions if entry["active"]), None),
        worker=_serving(),
        # Scores suggested through Perspective's comments:suggestscore, per community: the next retrain learns them.
        suggested_scores=perspective.feedback_counts(found.store),
    )


@bp.get("/activations")
@roles("admin")
def list_activations() -> Response:
    """Activations, newest first: which version, when, how (initial, promote, force, rollback...), by whom, why."""
    return jsonify(items=registry.activations(services().store, int_arg("limit", 100, 1, 1000)))


@bp.get("/<version>")
@roles("admin")
def get_model(version: str) -> Response:
    """One version with its metrics, thresholds, training record and comparison with the then active version."""
    found = services()
    return jsonify(registry.with_evaluation(found.settings, registry.get_version(found.store, version)))


@bp.get("/<version>/card")
@roles("admin")
def model_card(version: str) -> Response:
    """One version's model card as Markdown, from its verified file."""
    found = services()
    return Response(registry.model_card(found.store, found.settings, version), content_type=MARKDOWN)


@bp.post("/train")
@roles("admin")
def train() -> tuple[Response, int, dict[str, str]]:
    """Start a retrain in its own process; 202 with the job at once (409 while one runs, 422 if nothing to learn).

    `{"rebuild": VERSION}` retrains a version from exactly the inputs it records; the job's result says whether
    the rebuilt model is identical."""
    found = services()
    rebuild = parse(jobs.RetrainIn, optional_json_object(), "Bad request body.").rebuild
    job = jobs.start_retrain(found.store, found.settings, current_key().id, rebuild=rebuild)
    return jsonify(job=job), 202, {"Location": url_for("jobs.get_job", job_id=job["id"])}


@bp.post("/<version>/activate")
@roles("admin")
def activate(version: str) -> Response:
    """Make a version active `{force?, reason?}`: its file must verify, and a worse one needs force and a reason."""
    found = services()
    asked = parse(registry.ActivationIn, optional_json_object(), "Bad request body.")
    force, reason = asked.force, asked.reason
    record = registry.activate(found.store, found.settings, version, current_key().id, force=force, reason=reason)
    answer = {"activation": record, "model_version": _refreshed()}
    return jsonify(registry.ActivationResult.model_validate(answer).model_dump())


@bp.post("/rollback")
@roles("admin")
def rollback() -> Response:
    """Re-activate the version that was active before the current one `{reason?}`."""
    found = services()
    reason = parse(registry.RollbackIn, optional_json_object(), "Bad request body.").reason
    record = registry.rollback(found.store, found.settings, current_key().id, reason)
    answer = {"activation": record, "model_version": _refreshed()}
    return jsonify(registry.ActivationResult.model_validate(answer).model_dump())
