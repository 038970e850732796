"""The moderators' web app: server-rendered pages under /web over the same domain functions as the JSON API.

`register(app)` sets up the signed session cookie, adds the blueprint, sends `/` to the web app, and puts
the security headers on every page (anything under /web, including its error pages, and the /docs page).
"""

from __future__ import annotations

from flask import Flask, Response, redirect, request
from werkzeug.wrappers import Response as BaseResponse

from api.web import session
from api.web.render import register_filters


def _root() -> BaseResponse:
    """`/` is the web app."""
    return redirect("/web/")


def _headers(response: Response) -> Response:
    if request.path in ("/", "/web", "/docs") or request.path.startswith("/web/"):
        session.add_security_headers(response)
    return response


def register(app: Flask) -> None:
    """Add the web app to the application."""
    from api.web import views

    session.configure(app)
    register_filters(app.jinja_env)
    app.register_blueprint(views.bp)
    app.add_url_rule("/", endpoint="web_root", view_func=session.open_page(_root))
    app.after_request(_headers)
