"""The moderators' web app: server-rendered pages over the same domain functions the JSON API calls.

Queue (`moderation.queue`), decision log (`moderation.decisions`), comment history (`service.get_comment`
through `insights.review_context`), reversals (`queue.reverse_decision`), policy (`policy_changes`,
`insights.preview_policy`), keys (`moderation.keys`), users (`moderation.users`), models (`registry`,
`jobs`) and the dashboard (`insights.dashboard`). The views read forms, call those, and render.
"""

from __future__ import annotations

import hashlib
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Response,
    flash,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from flask.blueprints import BlueprintSetupState
from werkzeug.routing import PathConverter
from werkzeug.wrappers import Response as BaseResponse

from api import services
from api.errors import STATUS_FOR_ERROR, error_response
from api.ratelimit import limiter, retry_after
from api.web import forms
from api.web.render import category_label, day_chart
from api.web.session import (
    CsrfRefused,
    Viewer,
    authorize_page,
    current_viewer,
    open_page,
    page,
    sign_in_with_key,
    sign_in_with_password,
    sign_out,
    viewer,
    wants_fragment,
)
from model.categories import CATEGORIES
from moderation import decisions, insights, keys, perspective, policy_changes, queue, users
from moderation.errors import Conflict, Forbidden, Invalid, ModerationError, NotFound, Unauthorized
from moderation.identifiers import has_control_characters, without_control_characters
from moderation.training import jobs, registry

bp = Blueprint("web", __name__, url_prefix="/web")


class CommentPathConverter(PathConverter):
    """A comment id in a page's path: any characters, even `/` or a line break held by ids stored before the rule."""

    regex = "(?s:[^/].*?)"  # PathConverter's, with `.` matching line breaks too


@bp.record_once
def _register_comment_path(state: BlueprintSetupState) -> None:
    # Runs before the routes below are added to the app: a blueprint defers them in the order they are declared.
    state.app.url_map.converters["comment_path"] = CommentPathConverter


bp.before_request(authorize_page)  # CSRF on every POST, then the page's roles against the signed-in session

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
QUEUE_PAGE = 50
LOG_PAGE = 50
MODERATORS = ("moderator", "admin")

RECENT_JOBS = 10  # retrain jobs listed on the models page

Page = str | Response | BaseResponse | tuple[str, int] | tuple[str, int, dict[str, str]]


# ---------------------------------------------------------------------------
# Shared bits


@lru_cache(maxsize=64)
def _asset_version(filename: str) -> str:
    try:
        return hashlib.sha256((STATIC_DIR / filename).read_bytes()).hexdigest()[:10]
    except OSError:
        return "0"


def asset(filename: str) -> str:
    """The URL of a static file, with its content hash so browsers may cache it for long."""
    return url_for("web.static", filename=filename, v=_asset_version(filename))


def actor_names() -> dict[str, str]:
    """Display names for decision actors: each key's name by key id, each user's name by `user:<name>`."""
    store = services().store
    names = {key.id: key.name for key in keys.list_keys(store)}
    names.update({user.actor: user.name for user in users.list_users(store)})
    return names


def actor_name(actor_type: str | None, actor: str | None, names: dict[str, str]) -> str:
    """Who made a decision, as people read it."""
    if actor_type in ("model", "rule"):
        return str(actor_type)
    if actor is None:
        return "—"
    return names.get(actor, actor)


@bp.context_processor
def _template_globals() -> dict[str, Any]:
    from api.web.session import csrf_token

    return {
        "asset": asset,
        "csrf_token": csrf_token,
        "viewer": current_viewer(),
        "categories": CATEGORIES,
        "reject_reasons": forms.REJECT_REASONS,
        "actor_name": actor_name,
        "queue_count_text": queue_count_text,
    }


def queue_count_text(counts: dict[str, int]) -> str:
    """The queue heading's count: `5 waiting, 1 appeal` (the page shows it, and updates it after each decision)."""
    appeals = counts["appeals"]
    return f"{counts['waiting']} waiting" + (f", {appeals} appeal{'s' if appeals != 1 else ''}" if appeals else "")


def _safe_next(target: str | None) -> str | None:
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/web/") or target.startswith("//"):
        return None
    if has_control_characters(target):  # it becomes the Location header, where a line break is refused
        return None
    return target


def _flash_error(error: ModerationError) -> None:
    details = "; ".join(f"{field} {message}" for field, message in error.fields.items())
    flash(error.message + (f" ({details})" if details else ""), "error")


# ---------------------------------------------------------------------------
# Errors: an HTML page, or JSON for the pages' own script


@bp.errorhandler(ModerationError)
def _page_error(error: ModerationError) -> Page:
    if isinstance(error, Unauthorized):
        if wants_fragment():
            return error_response(401, error.code, error.message)
        target = request.full_path.rstrip("?") if request.method == "GET" else None
        return redirect(url_for("web.sign_in", next=_safe_next(target)), 303)
    status = (
        400
        if isinstance(error, CsrfRefused)
        else next((STATUS_FOR_ERROR[t] for t in type(error).__mro__ if t in STATUS_FOR_ERROR), 500)
    )
    if wants_fragment():
        return error_response(status, error.code, error.message, error.fields)
    return render_template("web/error.html", error=error, status=status), status


# ---------------------------------------------------------------------------
# Signing in and out, static files


def _landing(signed_in: Viewer | None) -> str:
    """Where a signed-in user starts: admins on the dashboard (nothing claimed for them), moderators on the queue."""
    return url_for("web.dashboard" if signed_in is not None and signed_in.is_admin else "web.queue_page")


@bp.get("/")
@open_page
def index() -> BaseResponse:
    """The landing page when signed in, else the sign-in page."""
    found = current_viewer()
    return redirect(_landing(found) if found else url_for("web.sign_in"))


@bp.get("/static/<path:filename>")
@open_page
def static(filename: str) -> Response:
    """The stylesheet and the script (no CDN, no build step)."""
    return send_from_directory(STATIC_DIR, filename, max_age=86400)


@bp.get("/sign-in")
@open_page
def sign_in() -> Page:
    """Sign in with a moderator or admin API key, or with a user name and password."""
    if (found := current_viewer()) is not None:
        return redirect(_landing(found))
    return render_template("web/sign_in.html", next=_safe_next(request.args.get("next")), error=None)


@bp.post("/sign-in")
@open_page
def sign_in_post() -> Page:
    next_page = _safe_next(request.form.get("next"))
    wait = limiter().wait_for_sign_in(request.remote_addr or "unknown")
    if wait > 0:
        message = f"Too many sign-in attempts from this address; try again in {retry_after(wait)} seconds."
        page = render_template("web/sign_in.html", next=next_page, error=message)
        return page, 429, {"Retry-After": str(retry_after(wait))}
    by_password = request.form.get("method") == "password"
    name = request.form.get("name", "")
    locked = limiter().account_locked_for(name) if by_password else 0.0
    if locked > 0:
        message = (
            f"This account is locked after too many failed sign-ins; try again in {_how_long(retry_after(locked))}."
        )
        page = render_template("web/sign_in.html", next=next_page, error=message)
        return page, 429, {"Retry-After": str(retry_after(locked))}
    try:
        if by_password:
            signed_in = sign_in_with_password(name, request.form.get("password", ""))
        else:
            signed_in = sign_in_with_key(request.form.get("key", ""))
    except (Unauthorized, Forbidden) as error:
        if by_password and isinstance(error, Unauthorized):
            limiter().count_failed_sign_in(name)
        status = 403 if isinstance(error, Forbidden) else 401
        return render_template("web/sign_in.html", next=next_page, error=error.message), status
    return redirect(next_page or _landing(signed_in), 303)


def _how_long(seconds: int) -> str:
    if seconds < 120:
        return f"{seconds} seconds"
    return f"{-(-seconds // 60)} minutes"


@bp.post("/sign-out")
@open_page
def sign_out_post() -> BaseResponse:
    """End the session."""
    sign_out()
    flash("You are signed out.", "ok")
    return redirect(url_for("web.sign_in"), 303)


# ---------------------------------------------------------------------------
# The queue


def _queue_filters(source: Any) -> dict[str, Any]:
    appealed = source.get("appealed", "")
    return {
        "category": source.get("category") or None,
        "section": (source.get("section") or "").strip() or None,
        "article_id": (source.get("article_id") or "").strip() or None,
        "appealed": True if appealed == "yes" else False if appealed == "no" else None,
    }


def _filter_args(filters: dict[str, Any]) -> dict[str, Any]:
    args: dict[str, Any] = {name: value for name, value in filters.items() if name != "appealed" and value}
    if filters.get("appealed") is not None:
        args["appealed"] = "yes" if filters["appealed"] else "no"
    return args


def _detail(item: dict[str, Any] | None, notice: str | None = None, mine: bool = False) -> dict[str, Any] | None:
    if item is None:
        return None
    return {
        "item": item,
        "context": insights.review_context(services().store, item["comment_id"]),
        "notice": notice,
        "mine": mine,
    }


def _render_item(detail: dict[str, Any] | None, filters: dict[str, Any], status: int = 200) -> tuple[str, int]:
    return (
        render_template(
            "web/_item.html", detail=detail, filters=filters, filter_args=_filter_args(filters), names=actor_names()
        ),
        status,
    )


@bp.get("/queue")
@page(*MODERATORS)
def queue_page() -> Page:
    """Queued comments by priority, filters, bulk decisions, and the opened item beside them."""
    store = services().store
    filters = _queue_filters(request.args)
    listing = queue.list_queue(
        store, status="pending", limit=QUEUE_PAGE, cursor=request.args.get("cursor") or None, **filters
    )
    item_id = request.args.get("item", type=int)
    opened = None
    if item_id is not None:
        try:
            opened = queue.get_item(store, item_id)
        except NotFound:
            flash(f"There is no queue item {item_id}.", "error")
    if opened is None:
        # The top item this moderator may work: not one they skipped, nor one another moderator holds.
        opened = queue.first_offered(store, viewer().actor, **filters)
    detail = _detail(opened, mine=bool(opened and opened["claimed_by"] == viewer().actor))
    return render_template(
        "web/queue.html",
        listing=listing,
        filters=filters,
        filter_args=_filter_args(filters),
        detail=detail,
        names=actor_names(),
        counts=queue.count_pending(store, **filters),
    )


@bp.post("/queue/<rowid:item_id>/open")
@page(*MODERATORS)
def open_item(item_id: int) -> Page:
    """Open an item: claim it (giving back the one opened before) and answer with its detail."""
    found = services()
    actor = viewer().actor
    previous = request.form.get("previous", type=int)
    if previous is not None and previous != item_id:
        try:
            item = queue.get_item(found.store, previous)
            if item["state"] == "pending" and item["claimed_by"] == actor:
                queue.release(found.store, previous, actor)
        except (Conflict, NotFound):
            pass  # decided or gone meanwhile: nothing to give back
    filters = _queue_filters(request.form)
    try:
        item = queue.claim(found.store, item_id, actor, lease_seconds=found.settings.lease_seconds)
        return _render_item(_detail(item, mine=True), filters)
    except Conflict as error:
        return _render_item(_detail(queue.get_item(found.store, item_id), notice=error.message), filters)


def _next_item(filters: dict[str, Any]) -> dict[str, Any] | None:
    found = services()
    return queue.claim_next(found.store, viewer().actor, lease_seconds=found.settings.lease_seconds, **filters)


def _after_decision(item_id: int, message: str, filters: dict[str, Any]) -> Page:
    if wants_fragment():
        body, status = _render_item(_detail(_next_item(filters), mine=True), filters)
        response = Response(body, status)
        response.headers["X-Done-Item"] = str(item_id)
        response.headers["X-Queue-Count"] = queue_count_text(queue.count_pending(services().store, **filters))
        # The message names the comment, whose id may hold a line break (stored before ids were checked).
        response.headers["X-Done-Message"] = without_control_characters(message).encode("ascii", "replace").decode()
        return response
    flash(message, "ok")
    return redirect(url_for("web.queue_page", **_filter_args(filters)), 303)


@bp.post("/queue/<rowid:item_id>/decide")
@page(*MODERATORS)
def decide_item(item_id: int) -> Page:
    """Approve or reject the item (a rejection needs a reason); then the next item."""
    found = services()
    action = request.form.get("action", "")
    reason = forms.decision_reason(action, request.form.get("reason_choice"), request.form.get("reason_text"))
    version = request.form.get("version", type=int)
    if version is None:
        raise Invalid("The form lost the item's version; reload the page.", fields={"version": "is required"})
    result = queue.decide_item(found.store, item_id, viewer().actor, action, version=version, reason=reason)
    done = "Approved" if action == "approve" else "Rejected"
    return _after_decision(item_id, f"{done} comment {result['comment']['id']}.", _queue_filters(request.form))


@bp.post("/queue/<rowid:item_id>/skip")
@page(*MODERATORS)
def skip_item(item_id: int) -> Page:
    """Give the item back and do not offer it to me again; then the next item."""
    item = queue.skip(services().store, item_id, viewer().actor)
    return _after_decision(item_id, f"Skipped comment {item['comment_id']}.", _queue_filters(request.form))


@bp.post("/queue/bulk")
@page(*MODERATORS)
def bulk_decide() -> BaseResponse:
    """Approve or reject every selected item (each its own decision, like one at a time)."""
    found = services()
    filters = _queue_filters(request.form)
    try:
        selected = forms.item_versions(request.form.getlist("item"))
        action = request.form.get("bulk_action", "")
        if action not in queue.MODERATOR_ACTIONS:
            raise Invalid("Choose approve or reject.", fields={"bulk_action": "must be approve or reject"})
        reason = forms.decision_reason(
            action, request.form.get("bulk_reason_choice"), request.form.get("bulk_reason_text")
        )
    except Invalid as error:
        _flash_error(error)
        return redirect(url_for("web.queue_page", **_filter_args(filters)), 303)
    done, missed = 0, 0
    for item_id, version in selected:
        try:
            queue.decide_item(found.store, item_id, viewer().actor, action, version=version, reason=reason)
        except (Conflict, NotFound):
            missed += 1  # decided, claimed or changed by someone else since the list was loaded
            continue
        done += 1
    verb = "Approved" if action == "approve" else "Rejected"
    flash(f"{verb} {done} comment{'s' if done != 1 else ''}.", "ok")
    if missed:
        flash(
            f"{missed} changed since the list was loaded (decided or claimed by someone else); left as they are.",
            "error",
        )
    return redirect(url_for("web.queue_page", **_filter_args(filters)), 303)


# ---------------------------------------------------------------------------
# The decision log and a comment's history


def _day(raw: str | None, field: str, errors: dict[str, str], shift: int = 0) -> str | None:
    text = (raw or "").strip()
    if not text:
        return None
    try:
        return (date.fromisoformat(text) + timedelta(days=shift)).isoformat()
    except ValueError:
        errors[field] = "must be a date like 2026-03-01"
        return None


def _log_filters() -> tuple[dict[str, Any], dict[str, str]]:
    errors: dict[str, str] = {}
    filters = {
        "since": _day(request.args.get("since"), "since", errors),
        # The form's "until" day is included: the domain's `until` is exclusive, so the next day's start.
        "until": _day(request.args.get("until"), "until", errors, shift=1),
        "actor": request.args.get("actor") or None,
        "actor_type": request.args.get("actor_type") or None,
        "status": request.args.get("status") or None,
        "article_id": (request.args.get("article_id") or "").strip() or None,
    }
    return filters, errors


@bp.get("/decisions")
@page(*MODERATORS)
def decisions_page() -> Page:
    """Every decision, newest first, filtered by time, actor, status and article."""
    filters, errors = _log_filters()
    page_of: dict[str, Any] = {"items": [], "next_cursor": None}
    if not errors:
        try:
            page_of = decisions.list_decisions(
                services().store, **filters, limit=LOG_PAGE, cursor=request.args.get("cursor") or None
            )
        except Invalid as error:
            errors = dict(error.fields) or {"filters": error.message}
    names = actor_names()
    args = {name: value for name, value in request.args.items() if name != "cursor" and value}
    return render_template(
        "web/decisions.html",
        page_of=page_of,
        errors=errors,
        args=args,
        names=names,
        actor_choices=sorted(names.items(), key=lambda pair: pair[1].lower()),
        statuses=decisions.STATUSES,
        actor_types=decisions.ACTOR_TYPES,
    ), (422 if errors else 200)


@bp.get("/decisions.csv")
@page(*MODERATORS)
def decisions_csv() -> Response:
    """The filtered decision log as CSV (the same export as `GET /v1/decisions?format=csv`)."""
    filters, errors = _log_filters()
    if errors:
        raise Invalid("Bad decision filters.", fields=errors)
    rows = list(decisions.iter_decisions(services().store, **filters))
    response = Response(decisions.decisions_csv(rows), mimetype="text/csv")
    response.headers["Content-Disposition"] = 'attachment; filename="decisions.csv"'
    return response


@bp.get("/comments/<comment_path:comment_id>")
@page(*MODERATORS)
def comment_page(comment_id: str) -> Page:
    """A comment's full history, with its evidence, its parent, its author, and a reversal form."""
    context = insights.review_context(services().store, comment_id)
    return render_template("web/comment.html", context=context, names=actor_names())


@bp.post("/comments/<comment_path:comment_id>/reverse")
@page(*MODERATORS)
def reverse(comment_id: str) -> BaseResponse:
    """Reverse the comment's current decision: a new decision is recorded, the old one stays."""
    found = services()
    action = request.form.get("action", "")
    try:
        reason = forms.decision_reason(action, request.form.get("reason_choice"), request.form.get("reason_text"))
        result = queue.reverse_decision(
            found.store,
            comment_id,
            viewer().actor,
            action,
            reason=reason,
            expected_decision_id=request.form.get("expected_decision_id", type=int),
        )
    except (Invalid, Conflict) as error:
        _flash_error(error)
    else:
        flash(f"Comment {comment_id} is now {result['comment']['status']} (decision {result['decision']['id']}).", "ok")
    return redirect(url_for("web.comment_page", comment_id=comment_id), 303)


# ---------------------------------------------------------------------------
# The dashboard


def _active_model() -> dict[str, Any]:
    found = services()
    scorer = found.scorer
    entry: dict[str, Any] = {"version": scorer.version, "thresholds": scorer.thresholds, "metrics": None}
    if found.models is not None:
        for version in insights.model_versions(found.store, found.settings):
            if version["active"]:
                entry.update(version)
                break
    return entry


@bp.get("/dashboard")
@page(*MODERATORS)
def dashboard() -> Page:
    """Queue depth and age, decisions per day by actor, overturned automatic decisions, live precision, model."""
    data = insights.dashboard(services().store)
    names = actor_names()
    labels = [
        actor_name(entry["actor_type"], entry["actor"], names) if entry["actor"] else entry["actor_type"]
        for entry in data["per_day"]
    ]
    chart = day_chart(data["days"], data["per_day"], labels)
    return render_template("web/dashboard.html", data=data, chart=chart, series_labels=labels, model=_active_model())


# ---------------------------------------------------------------------------
# Admin: policy


def _policy_page(values: Any, errors: dict[str, str], section_names: list[str], status: int = 200) -> Page:
    found = services()
    current = policy_changes.policy_document(found.store, found.scorer)
    # The policy in force was accepted under the rules of its day: read it as stored, so it always opens here.
    preview = insights.preview_policy(found.store, found.scorer, current, as_stored=True) if not errors else None
    return render_template(
        "web/policy.html",
        values=values,
        errors=errors,
        section_names=section_names,
        preview=preview,
        preview_errors=None,
        history=policy_changes.policy_history(found.store, 10)["items"],
        model_thresholds=found.scorer.thresholds,
        names=actor_names(),
    ), status


@bp.get("/admin/policy")
@page("admin")
def policy_page() -> Page:
    """The policy editor, filled with the policy in force, and the preview over recorded decisions."""
    found = services()
    current = policy_changes.policy_document(found.store, found.scorer)
    values: dict[str, Any] = dict(forms.threshold_inputs(current))
    values.update(
        blocked_terms="\n".join(current["blocked_terms"]),  # type: ignore[arg-type]
        watched_terms="\n".join(current["watched_terms"]),  # type: ignore[arg-type]
        max_links="" if current["max_links"] is None else str(current["max_links"]),
        new_author_reviews=str(current["new_author_reviews"]),
        recent_rejections=str(current["recent_rejections"]),
        recent_rejection_days=str(current["recent_rejection_days"]),
        known_languages=", ".join(current["known_languages"]),  # type: ignore[arg-type]
        shadow_mode="on" if current["shadow_mode"] else "",
        sentence_holds=str(current["sentence_holds"]),
    )
    for index, name in enumerate(sorted(current["sections"])):  # type: ignore[call-overload]
        values[f"s{index}.name"] = name
    return _policy_page(values, {}, sorted(current["sections"]))  # type: ignore[call-overload]


def _form_sections() -> list[str]:
    names = []
    for index in range(forms.MAX_SECTIONS):
        name = request.form.get(f"s{index}.name")
        if name is None:
            break
        names.append(name)
    return [name for name in names if name.strip()]


@bp.post("/admin/policy")
@page("admin")
def save_policy() -> Page:
    """Put the edited policy (validated by the domain; every change is kept with who made it)."""
    found = services()
    try:
        document = forms.policy_document_from_form(request.form, found.scorer.thresholds)
        policy_changes.put_policy(found.store, found.scorer, document, viewer().actor)
    except Invalid as error:
        flash(error.message, "error")
        return _policy_page(request.form, dict(error.fields), _form_sections(), 422)
    flash("The policy is saved and in force.", "ok")
    return redirect(url_for("web.policy_page"), 303)


@bp.post("/admin/policy/preview")
@page("admin")
def preview_policy() -> Page:
    """The preview of the edited (unsaved) policy beside the one in force, as an HTML fragment."""
    found = services()
    try:
        document = forms.policy_document_from_form(request.form, found.scorer.thresholds)
        preview = insights.preview_policy(found.store, found.scorer, document)
        errors = None
    except Invalid as error:
        preview, errors = None, dict(error.fields)
    return render_template("web/_preview.html", preview=preview, preview_errors=errors)


# ---------------------------------------------------------------------------
# Admin: API keys and users


def _access_page(new_secret: str | None = None, new_key: keys.Key | None = None) -> Page:
    store = services().store
    return render_template(
        "web/access.html",
        keys=keys.list_keys(store),
        users=users.list_users(store),
        new_secret=new_secret,
        new_key=new_key,
        roles=keys.ROLES,
        user_roles=users.USER_ROLES,
        min_password=users.MIN_PASSWORD_CHARS,
    )


@bp.get("/admin/keys")
@page("admin")
def access_page() -> Page:
    """API keys (create, shown once; revoke) and users (create, new password, disable)."""
    return _access_page()


@bp.post("/admin/keys")
@page("admin")
def create_key() -> Page:
    try:
        key, secret = keys.create_key(
            services().store, request.form.get("role", ""), (request.form.get("name") or "").strip() or None
        )
    except Invalid as error:
        _flash_error(error)
        return redirect(url_for("web.access_page"), 303)
    # The secret is in this one answer only (never in a cookie or a redirect); no-store keeps it out of caches.
    return _access_page(new_secret=secret, new_key=key)


@bp.post("/admin/keys/<key_id>/revoke")
@page("admin")
def revoke_key(key_id: str) -> BaseResponse:
    key = keys.revoke_key(services().store, key_id)
    flash(f"Key {key.name} ({key.id}) is revoked.", "ok")
    return redirect(url_for("web.access_page"), 303)


@bp.post("/admin/users")
@page("admin")
def create_user() -> BaseResponse:
    password = request.form.get("password", "")
    try:
        if password != request.form.get("password_again", ""):
            raise Invalid("The two passwords differ.", fields={"password_again": "must repeat the password"})
        user = users.create_user(
            services().store, request.form.get("name", ""), password, request.form.get("role", ""), viewer().actor
        )
    except (Invalid, Conflict) as error:
        _flash_error(error)
    else:
        flash(f"User {user.name} ({user.role}) can sign in now.", "ok")
    return redirect(url_for("web.access_page"), 303)


@bp.post("/admin/users/<name>/password")
@page("admin")
def set_password(name: str) -> BaseResponse:
    try:
        user = users.set_password(services().store, name, request.form.get("password", ""))
    except Invalid as error:
        _flash_error(error)
    else:
        flash(f"User {user.name} has a new password; their other sessions are signed out.", "ok")
    return redirect(url_for("web.access_page"), 303)


@bp.post("/admin/users/<name>/disable")
@page("admin")
def disable_user(name: str) -> BaseResponse:
    user = users.disable_user(services().store, name)
    flash(f"User {user.name} is disabled and signed out.", "ok")
    return redirect(url_for("web.access_page"), 303)


# ---------------------------------------------------------------------------
# Admin: model versions


@bp.get("/admin/models")
@page("admin")
def models_page() -> Page:
    """Model versions (data, metrics, thresholds, which is active), activate and roll back, retrain."""
    found = services()
    return render_template(
        "web/models.html",
        versions=insights.model_versions(found.store, found.settings) if found.models is not None else [],
        activations=registry.activations(found.store, 10),
        jobs=jobs.list_jobs(found.store, RECENT_JOBS),
        suggested_scores=perspective.feedback_counts(found.store),
        holder=found.models.status() if found.models is not None else None,
        serving=found.scorer.version,
        names=actor_names(),
        category_label=category_label,
    )


@bp.get("/admin/jobs")
@page("admin")
def jobs_fragment() -> Page:
    """The retrain jobs table alone, for the models page to refresh while a job runs."""
    return render_template("web/_jobs.html", jobs=jobs.list_jobs(services().store, RECENT_JOBS))


@bp.post("/admin/models/<version>/activate")
@page("admin")
def activate_model(version: str) -> BaseResponse:
    found = services()
    try:
        record = registry.activate(
            found.store,
            found.settings,
            version,
            viewer().actor,
            force=request.form.get("force") == "on",
            reason=request.form.get("reason") or None,
        )
    except (Invalid, Conflict, NotFound) as error:
        _flash_error(error)
    else:
        flash(f"Model version {record['version']} is active ({record['kind']}); workers switch within a second.", "ok")
    return redirect(url_for("web.models_page"), 303)


@bp.post("/admin/models/rollback")
@page("admin")
def rollback_model() -> BaseResponse:
    found = services()
    try:
        record = registry.rollback(found.store, found.settings, viewer().actor, request.form.get("reason") or None)
    except (Invalid, Conflict) as error:
        _flash_error(error)
    else:
        flash(f"Rolled back to model version {record['version']}.", "ok")
    return redirect(url_for("web.models_page"), 303)


@bp.post("/admin/models/retrain")
@page("admin")
def retrain() -> BaseResponse:
    found = services()
    try:
        job = jobs.start_retrain(found.store, found.settings, viewer().actor)
    except ModerationError as error:
        _flash_error(error)
    else:
        flash(f"Retrain job {job['id']} started; its progress shows below.", "ok")
    return redirect(url_for("web.models_page"), 303)
