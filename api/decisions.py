"""The decision log: filter by time, actor, status, article; paginate; export as streamed CSV."""

from __future__ import annotations

from itertools import chain
from typing import Any

from flask import Blueprint, Response, jsonify, request

from api import services
from api.auth import roles
from api.body import choice_arg, int_arg, text_arg
from moderation import decisions
from moderation.errors import Invalid

bp = Blueprint("decisions", __name__, url_prefix="/v1/decisions")


def _wants_csv() -> bool:
    format_ = request.args.get("format")
    if format_ not in (None, "json", "csv"):
        raise Invalid("Bad format.", fields={"format": "must be json or csv"})
    if format_:
        return format_ == "csv"
    return request.accept_mimetypes.best_match(["application/json", "text/csv"]) == "text/csv"


@bp.get("")
@roles("site", "moderator", "admin")
def list_decisions() -> Response:
    """Decisions newest first (or `order=asc`), paginated by `cursor`; all of them as CSV with `format=csv`."""
    store = services().store
    filters: dict[str, Any] = {
        "since": text_arg("since"),
        "until": text_arg("until"),
        "actor": text_arg("actor"),
        "actor_type": choice_arg("actor_type"),
        "status": choice_arg("status"),
        "article_id": text_arg("article_id"),
    }
    # Read even when the CSV export ignores them, so a bad value is a 422 in either format.
    limit = int_arg("limit", 100, 1, decisions.MAX_PAGE)
    order = choice_arg("order") or "desc"
    if not _wants_csv():
        return jsonify(
            decisions.list_decisions(
                store,
                **filters,
                comment_id=text_arg("comment_id"),
                limit=limit,
                cursor=text_arg("cursor"),
                order=order,
            )
        )
    rows = decisions.iter_decisions(store, **filters)
    first = next(rows, None)  # runs the first query now, so bad filters answer 422 before streaming starts
    lines = decisions.decisions_csv(rows if first is None else chain([first], rows))
    response = Response(lines, mimetype="text/csv")
    response.headers["Content-Disposition"] = 'attachment; filename="decisions.csv"'
    return response
