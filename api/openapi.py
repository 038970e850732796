"""The OpenAPI 3 document of the service, written by hand; a test keeps it equal to the app's routes and roles."""

from __future__ import annotations

from typing import Any

from api import health
from api.errors import ErrorBody, GoogleError
from model.categories import CATEGORIES
from moderation import (
    answer_record,
    comment_record,
    coral,
    decisions,
    keys,
    perspective,
    policy_changes,
    policy_document,
    queue,
    service,
)
from moderation.identifiers import COMMENT_ID_PATTERN, IDENTIFIER_PATTERN
from moderation.records import Record, schema_of
from moderation.training import datasets, jobs, registry

API_VERSION = "1"

_ERROR = {"$ref": "#/components/responses/Error"}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _query(name: str, description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema or {"type": "string"},
    }


def _path(name: str, description: str, integer: bool = False) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": {"type": "integer", "minimum": 0} if integer else {"type": "string"},
    }


def _json(schema: dict[str, Any], description: str = "") -> dict[str, Any]:
    return {"description": description or "OK", "content": {"application/json": {"schema": schema}}}


def _op(
    summary: str,
    roles: tuple[str, ...],
    *,
    tag: str,
    responses: dict[str, Any],
    body: dict[str, Any] | None = None,
    parameters: list[dict[str, Any]] | None = None,
    body_required: bool = True,
) -> dict[str, Any]:
    operation: dict[str, Any] = {"summary": summary, "tags": [tag], "x-roles": list(roles)}
    if roles == ("public",):
        operation["security"] = []
    if parameters:
        operation["parameters"] = parameters
    if body is not None:
        operation["requestBody"] = {"required": body_required, "content": {"application/json": {"schema": body}}}
    errors = {"400": _ERROR, "413": _ERROR, "415": _ERROR, "422": _ERROR} if body is not None else {}
    if any(parameter["in"] == "query" for parameter in parameters or ()):
        errors["422"] = _ERROR  # a query parameter out of range or malformed names itself in `fields`
    if roles != ("public",):
        errors.update({"401": _ERROR, "403": _ERROR, "429": _ERROR})
    operation["responses"] = {**responses, **errors, "503": _ERROR}
    return operation


SITE = ("site", "admin")
READERS = ("site", "moderator", "admin")
MODERATORS = ("moderator", "admin")
ADMINS = ("admin",)
PUBLIC = ("public",)

_COMMENT_ID = _path("comment_id", "The site's id of the comment.")
_COMMENT_ID["schema"]["pattern"] = COMMENT_ID_PATTERN
# Ids and names hold no control or format characters (moderation/identifiers.py); a comment id no `/` either.
_NAME = {"type": "string", "pattern": IDENTIFIER_PATTERN}
_ITEM_ID = _path("item_id", "The queue item's id.", integer=True)
_QUEUE_FILTERS = [
    _query("category", "Only items held for this category.", {"type": "string", "enum": list(CATEGORIES)}),
    _query("section", "Only items from this section of the site."),
    _query("article_id", "Only items on this article."),
    _query("appealed", "Only appeals (true) or only first reviews (false).", {"type": "boolean"}),
]

_VERSION = _path("version", "A model version's name, e.g. 20261128-34520698a0.")


def _dataset_upload() -> dict[str, Any]:
    """POST /v1/datasets: the labelled file itself is the body, so its content types are not JSON."""
    operation = _op(
        "Import a labelled file for retraining, sent as the body: CSV (`text/csv`) or JSON Lines "
        "(`application/x-ndjson`), at most MODERATION_MAX_DATASET_MB; 422 names each bad line.",
        ADMINS,
        tag="datasets",
        parameters=[
            _query("name", "The file's name (default `upload`); its extension must match the type.", dict(_NAME))
        ],
        responses={
            "201": _json({"type": "object", "properties": {"dataset": _ref("Dataset")}}, "Imported"),
            "400": _ERROR,
            "409": _ERROR,
            "413": _ERROR,
            "415": _ERROR,
            "422": _ERROR,
        },
    )
    text = {"schema": {"type": "string"}}
    operation["requestBody"] = {
        "required": True,
        "content": {"text/csv": text, "application/x-ndjson": text, "application/jsonl": text},
    }
    return operation


PATHS: dict[str, dict[str, Any]] = {
    "/healthz": {
        "get": _op(
            "Liveness: the process answers.", PUBLIC, tag="operations", responses={"200": _json(_ref("Liveness"))}
        ),
    },
    "/readyz": {
        "get": _op(
            "Readiness: the database is writable and a model is loaded.",
            PUBLIC,
            tag="operations",
            responses={"200": _json(_ref("Readiness"))},
        ),
    },
    "/metrics": {
        "get": _op(
            "Prometheus metrics: requests and latency by route, decisions, queue depth, outbox, model version.",
            PUBLIC,
            tag="operations",
            responses={"200": {"description": "Prometheus text format 0.0.4", "content": {"text/plain": {}}}},
        ),
    },
    "/openapi.json": {
        "get": _op("This document.", PUBLIC, tag="operations", responses={"200": _json({"type": "object"})}),
    },
    "/docs": {
        "get": _op(
            "A page listing the operations.",
            PUBLIC,
            tag="operations",
            responses={"200": {"description": "HTML", "content": {"text/html": {}}}},
        ),
    },
    "/v1/comments": {
        "post": _op(
            "Score, decide and record one comment (idempotent by id).",
            SITE,
            tag="comments",
            body=_ref("CommentIn"),
            responses={
                "201": _json(_ref("SubmissionAnswer"), "Recorded"),
                "200": _json(_ref("SubmissionAnswer"), "Already recorded: the stored answer (replayed: true)"),
                "409": _ERROR,
            },
        ),
    },
    "/v1/comments/batch": {
        "post": _op(
            "Submit up to 100 comments; each is answered on its own (an answer or {id, error}).",
            SITE,
            tag="comments",
            body={
                "oneOf": [
                    {
                        "type": "object",
                        "properties": {"comments": {"type": "array", "items": _ref("CommentIn"), "maxItems": 100}},
                    },
                    {"type": "array", "items": _ref("CommentIn"), "maxItems": 100},
                ]
            },
            responses={"200": _json(_ref("BatchAnswer"))},
        ),
    },
    "/v1/comments/{comment_id}": {
        "get": _op(
            "A comment's current status, open queue item and whole decision history.",
            READERS,
            tag="comments",
            parameters=[_COMMENT_ID],
            responses={"200": _json(_ref("CommentView")), "404": _ERROR},
        ),
    },
    "/v1/comments/{comment_id}/appeal": {
        "post": _op(
            "Appeal a rejected comment with the commenter's message; it goes back to the queue.",
            SITE,
            tag="comments",
            parameters=[_COMMENT_ID],
            body=_ref("AppealIn"),
            body_required=False,
            responses={"201": _json(_ref("QueueItem"), "Queued as an appeal"), "404": _ERROR, "409": _ERROR},
        ),
    },
    "/v1/comments/{comment_id}/reversal": {
        "post": _op(
            "Reverse a comment's current decision with a new moderator decision.",
            MODERATORS,
            tag="comments",
            parameters=[_COMMENT_ID],
            body=_ref("ReversalIn"),
            responses={"201": _json(_ref("ReversalResult")), "404": _ERROR, "409": _ERROR},
        ),
    },
    "/v1/score": {
        "post": _op(
            "Dry run: what submitting this comment would answer; nothing is recorded (ids optional).",
            READERS,
            tag="comments",
            body=_ref("ScoreIn"),
            responses={"200": _json(_ref("SubmissionAnswer"))},
        ),
    },
    "/v1/queue": {
        "get": _op(
            "One page of the review queue, highest priority then oldest.",
            MODERATORS,
            tag="queue",
            parameters=[
                _query("status", "pending (default) or decided.", {"type": "string", "enum": ["pending", "decided"]}),
                *_QUEUE_FILTERS,
                _query("limit", "Items per page (1-200, default 50).", {"type": "integer"}),
                _query("cursor", "next_cursor of the previous page."),
                _query("offset", "Items to skip (prefer cursor).", {"type": "integer"}),
            ],
            responses={
                "200": _json(
                    {
                        "type": "object",
                        "properties": {
                            "items": {"type": "array", "items": _ref("QueueItem")},
                            "next_cursor": {"type": ["string", "null"]},
                            "total": {"type": "integer"},
                        },
                    }
                )
            },
        ),
    },
    "/v1/queue/next": {
        "post": _op(
            "Claim the top item nobody holds and you have not skipped.",
            MODERATORS,
            tag="queue",
            parameters=_QUEUE_FILTERS,
            responses={"200": _json(_ref("QueueItem")), "204": {"description": "Nothing to claim"}},
        ),
    },
    "/v1/queue/{item_id}": {
        "get": _op(
            "One queue item with its comment.",
            MODERATORS,
            tag="queue",
            parameters=[_ITEM_ID],
            responses={"200": _json(_ref("QueueItem")), "404": _ERROR},
        ),
    },
    "/v1/queue/{item_id}/claim": {
        "post": _op(
            "Claim an item for the lease time (MODERATION_LEASE_SECONDS).",
            MODERATORS,
            tag="queue",
            parameters=[_ITEM_ID],
            responses={"200": _json(_ref("QueueItem")), "404": _ERROR, "409": _ERROR},
        ),
    },
    "/v1/queue/{item_id}/release": {
        "post": _op(
            "Give up your claim on an item.",
            MODERATORS,
            tag="queue",
            parameters=[_ITEM_ID],
            responses={"200": _json(_ref("QueueItem")), "404": _ERROR, "409": _ERROR},
        ),
    },
    "/v1/queue/{item_id}/skip": {
        "post": _op(
            "Release an item and stop `next` offering it to you.",
            MODERATORS,
            tag="queue",
            parameters=[_ITEM_ID],
            responses={"200": _json(_ref("QueueItem")), "404": _ERROR, "409": _ERROR},
        ),
    },
    "/v1/queue/{item_id}/decision": {
        "post": _op(
            "Approve or reject a queued comment; 409 if the item changed since `version`.",
            MODERATORS,
            tag="queue",
            parameters=[_ITEM_ID],
            body=_ref("ModeratorDecisionIn"),
            responses={"200": _json(_ref("ModeratorDecisionResult")), "404": _ERROR, "409": _ERROR},
        ),
    },
    "/v1/decisions": {
        "get": _op(
            "The decision log, filtered and paginated; CSV with format=csv or Accept: text/csv.",
            READERS,
            tag="decisions",
            parameters=[
                _query("since", "From this ISO 8601 time (inclusive)."),
                _query("until", "Before this ISO 8601 time (exclusive)."),
                _query("actor", "Key id of the deciding key (moderators) or submitting key (model, rule)."),
                _query(
                    "actor_type",
                    "model, rule or moderator.",
                    {"type": "string", "enum": ["model", "rule", "moderator"]},
                ),
                _query(
                    "status",
                    "approved, queued or rejected.",
                    {"type": "string", "enum": ["approved", "queued", "rejected"]},
                ),
                _query("article_id", "Only decisions on comments of this article."),
                _query("comment_id", "Only one comment's decisions (JSON only)."),
                _query(
                    "order",
                    "desc (default, newest first) or asc (JSON only).",
                    {"type": "string", "enum": ["asc", "desc"]},
                ),
                _query("limit", "Decisions per page (1-1000, default 100; JSON only).", {"type": "integer"}),
                _query("cursor", "next_cursor of the previous page (JSON only)."),
                _query(
                    "format",
                    "json (default) or csv (every match, oldest first, streamed).",
                    {"type": "string", "enum": ["json", "csv"]},
                ),
            ],
            responses={
                "200": {
                    "description": "A page of decisions, or CSV",
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "items": {"type": "array", "items": _ref("LoggedDecision")},
                                    "next_cursor": {"type": ["string", "null"]},
                                },
                            }
                        },
                        "text/csv": {},
                    },
                }
            },
        ),
    },
    "/v1/policy": {
        "get": _op(
            "The policy in force as a full document.", ADMINS, tag="policy", responses={"200": _json(_ref("Policy"))}
        ),
        "put": _op(
            "Replace the policy; recorded with who and when.",
            ADMINS,
            tag="policy",
            body=_ref("Policy"),
            responses={"200": _json(_ref("Policy"))},
        ),
    },
    "/v1/policy/history": {
        "get": _op(
            "Policy changes, newest first, with who put each and when, and what each changed from the one before "
            "(`changes`: each field's dotted path, `before` and `after`, and for term lists `added` and `removed`).",
            ADMINS,
            tag="policy",
            parameters=[
                _query("limit", "Changes per page (1-1000, default 100).", {"type": "integer"}),
                _query("cursor", "next_cursor of the previous page."),
            ],
            responses={"200": _json(_ref("PolicyHistory"))},
        ),
    },
    "/v1/keys": {
        "get": _op("Every API key (never the secret).", ADMINS, tag="keys", responses={"200": _json(_ref("KeyList"))}),
        "post": _op(
            "Create a key; its secret is in this answer only.",
            ADMINS,
            tag="keys",
            body=_ref("KeyIn"),
            responses={"201": _json(_ref("NewKey"))},
        ),
    },
    "/v1/keys/{key_id}": {
        "delete": _op(
            "Revoke a key at once.",
            ADMINS,
            tag="keys",
            parameters=[_path("key_id", "The key's id (the 12 hex characters after the role prefix).")],
            responses={"200": _json(_ref("Key")), "404": _ERROR},
        ),
    },
    "/v1/models": {
        "get": _op(
            "Every model version, newest first: active flag, hold-out metrics, thresholds, training, comparison.",
            ADMINS,
            tag="models",
            responses={
                "200": _json(
                    {
                        "type": "object",
                        "properties": {
                            "items": {"type": "array", "items": _ref("ModelVersion")},
                            "active_version": {"type": ["string", "null"]},
                            "worker": {"type": "object", "description": "What the answering worker serves."},
                        },
                    }
                )
            },
        ),
    },
    "/v1/models/train": {
        "post": _op(
            "Start a retrain in its own process (base corpora, imported files, verdicts); answers at once. "
            "With {rebuild: VERSION}, retrain that version from exactly the inputs it records.",
            ADMINS,
            tag="models",
            body=_ref("RetrainIn"),
            body_required=False,
            responses={
                "202": _json(
                    {"type": "object", "properties": {"job": _ref("Job")}}, "Started; Location is the job's URL"
                ),
                "404": _ERROR,
                "409": _ERROR,
                "422": _ERROR,
            },
        ),
    },
    "/v1/models/activations": {
        "get": _op(
            "Activations, newest first: version, time, kind (initial, promote, force, reactivate, rollback), who, why.",
            ADMINS,
            tag="models",
            parameters=[_query("limit", "How many (1-1000, default 100).", {"type": "integer"})],
            responses={
                "200": _json(
                    {"type": "object", "properties": {"items": {"type": "array", "items": _ref("Activation")}}}
                )
            },
        ),
    },
    "/v1/models/rollback": {
        "post": _op(
            "Re-activate the version that was active before the current one.",
            ADMINS,
            tag="models",
            body=_ref("RollbackIn"),
            body_required=False,
            responses={"200": _json(_ref("ActivationResult")), "409": _ERROR},
        ),
    },
    "/v1/models/{version}": {
        "get": _op(
            "One model version with its metrics, thresholds, training record and comparison.",
            ADMINS,
            tag="models",
            parameters=[_VERSION],
            responses={"200": _json(_ref("ModelVersion")), "404": _ERROR},
        ),
    },
    "/v1/models/{version}/card": {
        "get": _op(
            "One model version's model card (Markdown), from its verified file.",
            ADMINS,
            tag="models",
            parameters=[_VERSION],
            responses={
                "200": {"description": "Markdown", "content": {"text/markdown": {}}},
                "404": _ERROR,
                "409": _ERROR,
            },
        ),
    },
    "/v1/models/{version}/activate": {
        "post": _op(
            "Make a version active; every worker serves it within seconds. 409 when its file is missing or fails "
            "its hash, or when it is worse than the active version (then force with a reason).",
            ADMINS,
            tag="models",
            parameters=[_VERSION],
            body=_ref("ActivationIn"),
            body_required=False,
            responses={"200": _json(_ref("ActivationResult")), "404": _ERROR, "409": _ERROR},
        ),
    },
    "/v1/jobs": {
        "get": _op(
            "Recent training jobs, newest first.",
            ADMINS,
            tag="jobs",
            parameters=[_query("limit", "How many (1-1000, default 50).", {"type": "integer"})],
            responses={
                "200": _json({"type": "object", "properties": {"items": {"type": "array", "items": _ref("Job")}}})
            },
        ),
    },
    "/v1/jobs/{job_id}": {
        "get": _op(
            "One training job: state, stage, percent, elapsed seconds, error or result.",
            ADMINS,
            tag="jobs",
            parameters=[_path("job_id", "The job's id.", integer=True)],
            responses={"200": _json({"type": "object", "properties": {"job": _ref("Job")}}), "404": _ERROR},
        ),
    },
    "/v1/datasets": {
        "get": _op(
            "Imported labelled files, oldest first.",
            ADMINS,
            tag="datasets",
            responses={
                "200": _json({"type": "object", "properties": {"items": {"type": "array", "items": _ref("Dataset")}}})
            },
        ),
        "post": _dataset_upload(),
    },
    "/v1/datasets/{dataset_id}": {
        "get": _op(
            "One imported labelled file.",
            ADMINS,
            tag="datasets",
            parameters=[_path("dataset_id", "The dataset's id.", integer=True)],
            responses={"200": _json({"type": "object", "properties": {"dataset": _ref("Dataset")}}), "404": _ERROR},
        ),
    },
}

_SCORES = {"type": "object", "additionalProperties": {"type": "number"}, "description": "Probability per category."}

SCHEMAS: dict[str, Any] = {}

# Records declared once as pydantic models (moderation/records.py): their schemas come from the models.
# The component a record's schema is filed under, where it is not the record's own name.
COMPONENT_NAMES: dict[str, str] = {"ErrorBody": "Error", "PolicyDocument": "Policy"}
RECORDS: tuple[tuple[type[Record], str], ...] = (
    (comment_record.CommentIn, "validation"),
    (comment_record.ScoreIn, "validation"),  # a dry run needs only the text
    (answer_record.SubmissionAnswer, "serialization"),
    (jobs.Job, "serialization"),
    (datasets.Dataset, "serialization"),
    (keys.Key, "serialization"),
    (queue.QueueItem, "serialization"),
    (queue.ModeratorDecisionIn, "validation"),
    (queue.ReversalIn, "validation"),
    (queue.AppealIn, "validation"),
    (keys.KeyIn, "validation"),
    (registry.ActivationIn, "validation"),
    (registry.RollbackIn, "validation"),
    (jobs.RetrainIn, "validation"),
    (registry.ActivationResult, "serialization"),
    (policy_document.PolicyDocument, "validation"),
    (answer_record.BatchAnswer, "serialization"),
    (queue.ModeratorDecisionResult, "serialization"),
    (queue.ReversalResult, "serialization"),
    (policy_changes.PolicyHistory, "serialization"),
    (keys.KeyList, "serialization"),
    (keys.NewKey, "serialization"),
    (health.Liveness, "serialization"),
    (health.Readiness, "serialization"),
    (decisions.LoggedDecision, "serialization"),
    (service.CommentView, "serialization"),
    (ErrorBody, "serialization"),
    (GoogleError, "serialization"),
    (registry.ModelVersion, "serialization"),
    (registry.Activation, "serialization"),
    (perspective.AnalyzeCommentRequest, "validation"),
    (perspective.AnalyzeCommentResponse, "serialization"),
    (perspective.SuggestCommentScoreRequest, "validation"),
    (perspective.SuggestCommentScoreResponse, "serialization"),
    (coral.ExternalModerationRequest, "validation"),
    (coral.ExternalModerationResponse, "serialization"),
)


def _add_record_schemas() -> None:
    for record, mode in RECORDS:
        schema = schema_of(record, mode)
        named = COMPONENT_NAMES.get(record.__name__, record.__name__)
        for name, nested in {**schema.pop("$defs", {}), named: schema}.items():
            if SCHEMAS.get(name, nested) != nested:
                raise ValueError(f"two schemas are named {name}")
            SCHEMAS[name] = nested
    # Which names an attribute map may use, for clients and the fuzzer; the server names any other in its 400.
    names = {"type": "string", "enum": [*perspective.ATTRIBUTES, *perspective.EXPERIMENTAL_ATTRIBUTES]}
    SCHEMAS["AnalyzeCommentRequest"]["properties"]["requestedAttributes"]["propertyNames"] = names
    SCHEMAS["SuggestCommentScoreRequest"]["properties"]["attributeScores"]["propertyNames"] = names


_add_record_schemas()
_GOOGLE_ERROR = {"$ref": "#/components/responses/GoogleError"}


def _perspective_op(summary: str, body: str, answer: str) -> dict[str, Any]:
    """A Perspective-compatible operation: key by header or `?key=`, errors in Google's shape."""
    errors = {status: _GOOGLE_ERROR for status in ("400", "401", "403", "429", "503")}
    return {
        "summary": summary,
        "tags": ["perspective"],
        "x-roles": list(READERS),
        "security": [{"bearer": []}, {"apiKey": []}, {"queryKey": []}],
        "requestBody": {"required": True, "content": {"application/json": {"schema": _ref(body)}}},
        "responses": {"200": _json(_ref(answer)), **errors},
    }


PATHS["/v1alpha1/comments:analyze"] = {
    "post": _perspective_op(
        "Perspective API's analyze: scores of the requested attributes (per sentence with spanAnnotations); "
        "nothing is recorded.",
        "AnalyzeCommentRequest",
        "AnalyzeCommentResponse",
    )
}
PATHS["/v1alpha1/comments:suggestscore"] = {
    "post": _perspective_op(
        "Perspective API's suggestscore: keep a suggested score as a labelled example for the next retrain; a "
        "later one with the same clientToken and communityId replaces it.",
        "SuggestCommentScoreRequest",
        "SuggestCommentScoreResponse",
    )
}
PATHS["/v1/coral/moderation"] = {
    "post": {
        "summary": "Coral Talk's external moderation phase, signed by Coral (X-Coral-Signature, no key): 204 to "
        "publish, 200 to reject or withhold for Coral's moderators; decided and recorded as a submission.",
        "tags": ["coral"],
        "x-roles": ["signed"],
        "security": [{"coralSignature": []}],
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": _ref("ExternalModerationRequest")}},
        },
        "responses": {
            "200": _json(_ref("ExternalModerationResponse")),
            "204": {"description": "Publish the comment: our policy approves it."},
            **{status: _ERROR for status in ("400", "401", "409", "413", "415", "422", "503")},
        },
    }
}


def document(model_version: str | None = None) -> dict[str, Any]:
    """The whole OpenAPI 3 document."""
    description = (
        "Self-hosted comment moderation. Send `Authorization: Bearer <key>` or `X-API-Key: <key>`; "
        "each operation's `x-roles` lists the key roles that may call it. Errors are JSON "
        "`{error, message, fields?}`."
    )
    if model_version:
        description += f" Model version in this worker: {model_version}."
    return {
        "openapi": "3.1.0",
        "info": {"title": "Comment moderation", "version": API_VERSION, "description": description},
        "paths": PATHS,
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
                "queryKey": {"type": "apiKey", "in": "query", "name": "key"},
                "coralSignature": {"type": "apiKey", "in": "header", "name": coral.SIGNATURE_HEADER},
            },
            "responses": {
                "Error": _json(_ref("Error"), "An error"),
                "GoogleError": _json(_ref("GoogleError"), "An error, in Google's shape"),
            },
            "schemas": SCHEMAS,
        },
        "security": [{"bearer": []}, {"apiKey": []}],
    }


def operations() -> list[dict[str, Any]]:
    """Every operation as {method, path, summary, roles, parameters} in document order, for the docs page."""
    found = []
    for path, methods in PATHS.items():
        for method, operation in methods.items():
            found.append(
                {
                    "method": method.upper(),
                    "path": path,
                    "summary": operation["summary"],
                    "roles": operation["x-roles"],
                    "tag": operation["tags"][0],
                    "parameters": operation.get("parameters", []),
                    "body": "requestBody" in operation,
                    "responses": sorted(operation["responses"]),
                }
            )
    return found
