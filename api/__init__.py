"""The HTTP service: the Flask application factory, one blueprint per resource, auth, errors as JSON."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flask import Flask, current_app
from werkzeug.routing import IntegerConverter

from api.metrics import Metrics
from moderation.clock import SystemClock
from moderation.service import Scorer
from moderation.settings import Settings
from moderation.storage.store import Store

if TYPE_CHECKING:  # the registry loads numpy and the model code: only workers need it, at app creation
    from moderation.training.registry import ModelHolder

# Bodies are read whole, so every route has a byte limit; the batch route raises it for its 100 comments.
MAX_BODY_BYTES = 64 * 1024
MAX_BATCH_BODY_BYTES = 1024 * 1024


class RowIdConverter(IntegerConverter):
    """A path segment that is a database row id: a whole number SQLite can hold (else 404)."""

    def __init__(self, map: Any) -> None:  # noqa: A002 (werkzeug's parameter name)
        super().__init__(map, min=0, max=2**63 - 1)


def openapi_path(rule: str) -> str:
    """A Flask rule as an OpenAPI path: `/v1/queue/<rowid:item_id>` becomes `/v1/queue/{item_id}`."""
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)


@dataclass
class Services:
    """What the views work with, built once per process by the factory and kept in `app.extensions`.

    The model comes from `models` (the registry's per-process holder, which hot-swaps to a newly activated
    version within a second) or, in tests, from a fixed scorer. Views read `scorer` once per request.
    """

    settings: Settings
    store: Store
    metrics: Metrics
    models: ModelHolder | None = None
    fixed_scorer: Scorer | None = None

    @property
    def scorer(self) -> Scorer:
        """The scorer for this request: the active model version."""
        if self.models is not None:
            return self.models.current()
        assert self.fixed_scorer is not None
        return self.fixed_scorer


def services() -> Services:
    """The current application's settings, store, scorer and metrics."""
    return current_app.extensions["moderation"]  # type: ignore[no-any-return]


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the application: settings from the environment unless given, the store, the scorer, blueprints."""
    app = Flask(__name__, static_folder=None)
    app.config.from_mapping(
        MAX_CONTENT_LENGTH=MAX_BATCH_BODY_BYTES,
        SETTINGS=None,  # a moderation.settings.Settings; read from the environment when None
        SCORER=None,  # anything with version, thresholds and score(text); loaded from the settings when None
        METRICS_DIR=os.environ.get("MODERATION_METRICS_DIR") or None,  # set by gunicorn.conf.py
        CLOCK=SystemClock(),  # rate limits and session ages read the time here (tests pass a ManualClock)
    )
    if config:
        app.config.update(config)
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.url_map.converters["rowid"] = RowIdConverter

    from moderation.training.registry import ModelHolder

    settings: Settings = app.config["SETTINGS"] or Settings.from_env()
    if settings.behind_proxy:
        from werkzeug.middleware.proxy_fix import ProxyFix

        # Behind `moderation serve --proxy`: nginx replaces X-Forwarded-For/-Proto with what it saw (one hop).
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1)  # type: ignore[method-assign]
    store = Store.from_settings(settings)  # opens its connection lazily, in the process that uses it
    scorer = app.config["SCORER"]
    metrics_dir = app.config["METRICS_DIR"]
    metrics = Metrics(Path(metrics_dir) if metrics_dir else None)
    # Every decision this process records is counted here, once, when its transaction commits.
    store.decision_listeners.append(metrics.count_decision)
    app.extensions["moderation"] = Services(
        settings=settings,
        store=store,
        metrics=metrics,
        # The active registered version (on a new database: MODERATION_MODEL, registered on first start).
        models=ModelHolder(store, settings) if scorer is None else None,
        fixed_scorer=scorer,
    )

    from api import (
        auth,
        comments,
        coral,
        datasets,
        decisions,
        docs,
        errors,
        health,
        jobs,
        keys,
        models,
        perspective,
        policy,
        queue,
        score,
    )
    from api.ratelimit import register as register_rate_limits

    errors.register(app)
    health.register_timing(app)
    auth.register(app)
    register_rate_limits(app)  # after auth: it charges the key auth found, and counts auth failures per address
    for module in (
        comments,
        score,
        perspective,
        coral,
        queue,
        decisions,
        policy,
        keys,
        models,
        jobs,
        datasets,
        health,
        docs,
    ):
        app.register_blueprint(module.bp)

    from api import web  # the moderators' web app: pages under /web (signed session cookie, CSRF)

    web.register(app)
    return app
