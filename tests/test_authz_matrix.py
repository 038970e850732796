"""The authorization matrix, generated from the URL map: every route × {no key, bad key, revoked key, site,
moderator, admin} gets the 401 / 403 / 2xx its declared roles promise, and a refused request changes nothing.
A new route fails `test_every_route_is_in_the_matrix` until it gets an example request here.

Also: keys are compared in constant time, and a dump of the database holds no plaintext key, IP or e-mail.
"""

from __future__ import annotations

import hmac
import itertools
import re
import secrets
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.routing import Rule

from api.auth import PUBLIC, SIGNED, by_session, declared_roles
from api.errors import GOOGLE_SHAPED
from moderation import keys, queue, service
from moderation.settings import Settings
from moderation.storage import store as st
from moderation.storage.store import Store
from moderation.training import datasets, jobs, registry
from tests.conftest import WordListScorer
from tests.retrain_fixtures import LaunchedHere, retrain_settings
from tests.test_registry import comparison, make_candidate

CREDENTIALS = ("none", "bad", "revoked", "site", "moderator", "admin")
ROLES = ("site", "moderator", "admin")
IGNORED_METHODS = {"HEAD", "OPTIONS"}


@dataclass
class World:
    """The app under test, one live key per role, a revoked key, and fresh state for each example request."""

    app: Flask
    settings: Settings
    secrets: dict[str, str]
    key_ids: dict[str, str]
    counter: Iterator[int] = field(default_factory=itertools.count)

    @property
    def store(self) -> Store:
        return self.app.extensions["moderation"].store  # type: ignore[no-any-return]

    def comment(self, text: str = "a fair point about the budget") -> str:
        """A freshly submitted comment's id (texts from the TEST scorer's word lists pick its status)."""
        comment_id = f"m{next(self.counter)}"
        payload = {"id": comment_id, "text": text, "article_id": "a", "author_id": f"author-{comment_id}"}
        service.submit_comment(self.store, WordListScorer(), self.settings, payload, self.key_ids["site"])
        return comment_id

    def item(self, claimed_by: str | None = None) -> tuple[int, int]:
        """A fresh queue item (id, version), optionally claimed by a key."""
        found = service.get_comment(self.store, self.comment("what a clown"))["queue_item"]
        item_id, version = int(found["id"]), int(found["version"])
        if claimed_by is not None:
            version = int(queue.claim(self.store, item_id, claimed_by)["version"])
        return item_id, version

    def fresh_key_id(self) -> str:
        return keys.create_key(self.store, "site", "to revoke")[0].id

    def active_version(self) -> str:
        return str(registry.active_version(self.store))

    def candidate(self) -> str:
        """A newly registered version, not worse than the active one, so activating it needs no force."""
        nudge = 0.01 * (1 + next(self.counter))
        return make_candidate(self.settings, self.store, nudge, comparison(self.active_version()))

    def promoted(self) -> str:
        """Activate a fresh candidate, so there is an earlier version to roll back to; the candidate's version."""
        version = self.candidate()
        registry.activate(self.store, self.settings, version, self.key_ids["admin"])
        return version

    def dataset(self) -> int:
        """An imported labelled file's id."""
        number = next(self.counter)
        name = f"matrix-{number}.csv"
        return int(datasets.import_dataset_bytes(self.store, self.settings, labelled_csv(number), name, None)["id"])

    def finished_job(self) -> int:
        """A job that has ended (a queued one would make the next retrain a 409)."""
        job_id = int(jobs.create_job(self.store, jobs.RETRAIN, self.key_ids["admin"])["id"])
        with self.store.write() as db:
            st.update_job(db, job_id, {"state": "failed", "error": "made by the matrix"}, ("queued",))
        return job_id


def labelled_csv(number: int) -> bytes:
    """A small labelled file, different for each number (an identical file is refused as already imported)."""
    return f"text,toxicity,insult\nyou absolute muppet,1,1\nnice piece on parking number {number},0,0\n".encode()


@dataclass(frozen=True)
class Raw:
    """A request body sent as it is, with its content type (for routes that take files, not JSON)."""

    data: bytes
    content_type: str


# For each endpoint: given the world and the calling key's id, a (path, body) that succeeds (2xx) for a role
# the route allows; the body is JSON unless it is Raw.
Example = Callable[[World, str], tuple[str, Any]]


def _new_comment(world: World, _: str) -> tuple[str, Any]:
    return "/v1/comments", {"id": f"new{next(world.counter)}", "text": "hello", "article_id": "a", "author_id": "u"}


def _batch(world: World, _: str) -> tuple[str, Any]:
    return "/v1/comments/batch", {"comments": [_new_comment(world, _)[1]]}


def _decide(world: World, key_id: str) -> tuple[str, Any]:
    item_id, version = world.item(claimed_by=key_id)
    return f"/v1/queue/{item_id}/decision", {"action": "approve", "version": version}


EXAMPLES: dict[str, Example] = {
    "comments.submit": _new_comment,
    "comments.submit_batch": _batch,
    "comments.get": lambda w, _: (f"/v1/comments/{w.comment()}", None),
    "comments.appeal": lambda w, _: (f"/v1/comments/{w.comment('i will kill')}/appeal", {"message": "context"}),
    "comments.reverse": lambda w, _: (f"/v1/comments/{w.comment('i will kill')}/reversal", {"action": "approve"}),
    "score.score": lambda w, _: ("/v1/score", {"text": "would this pass?"}),
    "queue.list_items": lambda w, _: ("/v1/queue", None),
    "queue.get_item": lambda w, _: (f"/v1/queue/{w.item()[0]}", None),
    "queue.claim": lambda w, _: (f"/v1/queue/{w.item()[0]}/claim", None),
    "queue.release": lambda w, k: (f"/v1/queue/{w.item(claimed_by=k)[0]}/release", None),
    "queue.skip": lambda w, k: (f"/v1/queue/{w.item(claimed_by=k)[0]}/skip", None),
    "queue.decide": _decide,
    "queue.claim_next": lambda w, _: (w.item() and "/v1/queue/next", None),
    "decisions.list_decisions": lambda w, _: ("/v1/decisions", None),
    "policy.get_policy": lambda w, _: ("/v1/policy", None),
    "policy.put_policy": lambda w, _: ("/v1/policy", {"new_author_reviews": 0}),
    "policy.history": lambda w, _: ("/v1/policy/history", None),
    "keys.list_keys": lambda w, _: ("/v1/keys", None),
    "keys.create_key": lambda w, _: ("/v1/keys", {"role": "site", "name": "made in the matrix"}),
    "keys.revoke_key": lambda w, _: (f"/v1/keys/{w.fresh_key_id()}", None),
    "models.list_models": lambda w, _: ("/v1/models", None),
    "models.list_activations": lambda w, _: ("/v1/models/activations", None),
    "jobs.list_jobs": lambda w, _: ("/v1/jobs", None),
    "datasets.list_datasets": lambda w, _: ("/v1/datasets", None),
    "datasets.import_dataset": lambda w, _: (
        "/v1/datasets?name=ours.csv",
        Raw(labelled_csv(next(w.counter)), "text/csv"),
    ),
    "datasets.get_dataset": lambda w, _: (f"/v1/datasets/{w.dataset()}", None),
    "jobs.get_job": lambda w, _: (f"/v1/jobs/{w.finished_job()}", None),
    "models.get_model": lambda w, _: (f"/v1/models/{w.active_version()}", None),
    "models.model_card": lambda w, _: (f"/v1/models/{w.active_version()}/card", None),
    "models.activate": lambda w, _: (f"/v1/models/{w.candidate()}/activate", None),
    "models.rollback": lambda w, _: (w.promoted() and "/v1/models/rollback", {"reason": "matrix"}),
    # The job's process is not started (see the world fixture); an imported file gives it something to learn.
    "models.train": lambda w, _: (w.dataset() and "/v1/models/train", None),
    "perspective.analyze": lambda w, _: (
        "/v1alpha1/comments:analyze",
        {"comment": {"text": "would this pass?"}, "requestedAttributes": {"TOXICITY": {}}},
    ),
    "perspective.suggest_score": lambda w, _: (
        "/v1alpha1/comments:suggestscore",
        {"comment": {"text": "you absolute muppet"}, "attributeScores": {"TOXICITY": {"summaryScore": {"value": 1}}}},
    ),
}


@pytest.fixture
def world(settings: Settings, tiny_model_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    """The app serving the registry's versions (the tiny model), with auth-failure throttling off (this test
    makes hundreds of refused requests on purpose) and retrain jobs recorded but their processes not started."""
    from api import create_app

    quiet = retrain_settings(replace(settings, auth_failure_limit=0), tiny_model_path)
    monkeypatch.setattr(jobs, "launch", LaunchedHere())
    app = create_app({"TESTING": True, "SETTINGS": quiet})
    store = app.extensions["moderation"].store
    made = {role: keys.create_key(store, role, f"matrix {role}") for role in ROLES}
    revoked, revoked_secret = keys.create_key(store, "admin", "revoked admin")
    keys.revoke_key(store, revoked.id)
    found = World(
        app=app,
        settings=quiet,
        secrets={
            **{role: secret for role, (_, secret) in made.items()},
            "revoked": revoked_secret,
            # Shaped like a real admin key, with a real key id, but not its secret.
            "bad": f"mod_adm_{made['admin'][0].id}_{secrets.token_urlsafe(32)}",
        },
        key_ids={role: key.id for role, (key, _) in made.items()},
    )
    yield found
    store.close()


def operations(app: Flask) -> list[tuple[Rule, str]]:
    return sorted(
        ((rule, method) for rule in app.url_map.iter_rules() for method in (rule.methods or set()) - IGNORED_METHODS),
        key=lambda pair: (pair[0].rule, pair[1]),
    )


def placeholder_path(rule: Rule) -> str:
    """The rule with every variable filled with a harmless value (an id nothing has)."""
    return re.sub(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>", lambda m: "424242" if m.group(1) == "rowid" else "x0", rule.rule)


def state(store: Store) -> tuple[int, ...]:
    """A fingerprint of everything a request could change."""
    with store.read() as db:
        return tuple(
            db.execute(sql).fetchone()[0]
            for sql in (
                "SELECT count(*) FROM comments",
                "SELECT count(*) FROM decisions",
                "SELECT coalesce(sum(version), 0) FROM queue_items",
                "SELECT count(*) FROM queue_skips",
                "SELECT count(*) FROM api_keys WHERE revoked_at IS NULL",
                "SELECT count(*) FROM policy_changes",
                "SELECT count(*) FROM outbox",
                "SELECT count(*) FROM labels",
                "SELECT count(*) FROM jobs",
                "SELECT count(*) FROM model_activations",
                "SELECT count(*) FROM perspective_feedback",
            )
        )


def test_every_route_is_in_the_matrix(world: World) -> None:
    missing = []
    for rule, method in operations(world.app):
        view = world.app.view_functions[rule.endpoint]
        allowed = declared_roles(view)
        assert allowed is not None, f"{method} {rule.rule} declares no roles"
        if allowed is PUBLIC or allowed is SIGNED or by_session(view):
            continue  # signed routes: tests/test_coral.py
        if rule.endpoint not in EXAMPLES:
            missing.append(f"{method} {rule.rule} ({rule.endpoint})")
    assert not missing, "add an example request for: " + ", ".join(missing)


def _send(client: FlaskClient, method: str, path: str, body: Any, secret: str | None) -> Any:
    headers = {"Authorization": f"Bearer {secret}"} if secret else {}
    if isinstance(body, Raw):
        return client.open(path, method=method, data=body.data, content_type=body.content_type, headers=headers)
    return client.open(path, method=method, json=body, headers=headers)


def test_api_routes_answer_401_403_or_2xx_as_their_roles_say(world: World) -> None:
    client = world.app.test_client()
    checked = 0
    for rule, method in operations(world.app):
        view = world.app.view_functions[rule.endpoint]
        allowed = declared_roles(view)
        if by_session(view) or allowed is SIGNED:
            continue
        google = rule.endpoint.partition(".")[0] in GOOGLE_SHAPED
        example = EXAMPLES.get(rule.endpoint)  # public routes need none
        for credential in CREDENTIALS:
            secret = world.secrets.get(credential)
            where = f"{method} {rule.rule} as {credential}"
            if allowed is PUBLIC:
                response = _send(client, method, placeholder_path(rule), None, secret)
                assert response.status_code == 200, where
                continue
            may = credential in ROLES and credential in allowed
            if may and example is not None:
                path, body = example(world, world.key_ids[credential])
            else:
                path, body = placeholder_path(rule), {}
            before = state(world.store)
            response = _send(client, method, path, body, secret)
            status = response.status_code
            error = response.get_json().get("error") if status >= 400 else None
            if credential in ("none", "bad", "revoked") and google:
                assert status == 401 and error["status"] == "UNAUTHENTICATED", where
            elif credential in ("none", "bad", "revoked"):
                assert status == 401 and error == "unauthorized", where
                assert response.headers["WWW-Authenticate"].startswith("Bearer"), where
            elif not may and google:
                assert status == 403 and error["status"] == "PERMISSION_DENIED", where
            elif not may:
                assert status == 403 and error == "forbidden", where
            else:
                assert 200 <= status < 300, f"{where}: {status} {response.get_data(as_text=True)[:300]}"
            if status in (401, 403):
                assert state(world.store) == before, f"{where} changed the database"
            checked += 1
    assert checked >= 6 * 30


def _csrf(client: FlaskClient) -> str:
    with client.session_transaction(path="/web/") as session:
        return str(session.get("csrf_token", ""))


def _web_client(world: World, credential: str) -> FlaskClient:
    """A browser: signed in with the credential's key when it is one the web app takes, else not at all."""
    client = world.app.test_client()
    client.get("/web/sign-in")
    if credential in ("moderator", "admin", "revoked-moderator"):
        key = world.secrets[credential] if credential != "revoked-moderator" else world.secrets["moderator"]
        response = client.post("/web/sign-in", data={"key": key, "csrf_token": _csrf(client)})
        assert response.status_code == 303, credential
    elif credential in ("site", "bad", "revoked"):
        response = client.post("/web/sign-in", data={"key": world.secrets[credential], "csrf_token": _csrf(client)})
        assert response.status_code in (401, 403), credential
    return client


def test_web_pages_follow_the_signed_in_role_and_ignore_api_keys(world: World) -> None:
    web_ops = [pair for pair in operations(world.app) if by_session(world.app.view_functions[pair[0].endpoint])]
    assert web_ops, "no web pages?"
    clients = {credential: _web_client(world, credential) for credential in CREDENTIALS}
    for rule, method in web_ops:
        allowed = declared_roles(world.app.view_functions[rule.endpoint])
        if allowed is PUBLIC:
            continue
        path = placeholder_path(rule)
        for credential, client in clients.items():
            where = f"{method} {rule.rule} as {credential}"
            headers = {"Authorization": f"Bearer {world.secrets[credential]}"} if credential in world.secrets else {}
            data = {"csrf_token": _csrf(client)} if method == "POST" else None
            before = state(world.store)
            response = client.open(path, method=method, data=data, headers=headers)
            status = response.status_code
            signed_in = credential in ("moderator", "admin")
            if not signed_in:
                # An API key header is no session: a page sends the browser to sign in, a form is refused.
                assert status in (303, 400, 401), f"{where}: {status}"
                assert state(world.store) == before, f"{where} changed the database"
            elif credential not in allowed:
                assert status == 403, f"{where}: {status}"
                assert state(world.store) == before, f"{where} changed the database"
            else:
                assert status not in (401, 403) and status < 500, f"{where}: {status}"
                if method == "GET" and "<" not in rule.rule:
                    assert status == 200, f"{where}: {status}"


def test_a_revoked_key_ends_its_web_session(world: World) -> None:
    client = _web_client(world, "revoked-moderator")
    assert client.get("/web/queue").status_code == 200
    keys.revoke_key(world.store, world.key_ids["moderator"])
    response = client.get("/web/queue")
    assert response.status_code == 303 and "/web/sign-in" in response.headers["Location"]


def test_keys_are_compared_in_constant_time(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    compared: list[tuple[str, str]] = []
    original = hmac.compare_digest

    def spy(a: str, b: str) -> bool:
        compared.append((a, b))
        return original(a, b)

    monkeypatch.setattr(keys.hmac, "compare_digest", spy)
    client = world.app.test_client()
    assert _send(client, "GET", "/v1/decisions", None, world.secrets["bad"]).status_code == 401
    assert _send(client, "GET", "/v1/decisions", None, world.secrets["site"]).status_code == 200
    # Both the wrong and the right secret went through compare_digest, as hashes of equal length.
    assert len(compared) == 2 and all(len(a) == len(b) == 64 for a, b in compared)


def test_a_dump_of_the_database_holds_no_plaintext_key_ip_or_email(world: World, tmp_path: Path) -> None:
    client = world.app.test_client()
    ip, email = "203.0.113.77", "reader.secret@example.org"
    made = client.post("/v1/keys", json={"role": "site"}, headers={"Authorization": f"Bearer {world.secrets['admin']}"})
    new_secret = made.get_json()["secret"]
    comment = {"id": "pii-1", "text": "hello", "article_id": "a", "author_id": "u", "ip": ip, "email": email}
    assert _send(client, "POST", "/v1/comments", comment, new_secret).status_code == 201
    ipv6 = "2001:db8::1234"
    assert _send(client, "POST", "/v1/comments", {**comment, "id": "pii-2", "ip": ipv6}, new_secret).status_code == 201
    db_path = world.settings.db_path
    with sqlite3.connect(db_path) as db:
        dump = "\n".join(db.iterdump())
    files = b"".join(p.read_bytes() for p in db_path.parent.glob(db_path.name + "*") if not p.name.endswith(".secret"))
    for secret in [*world.secrets.values(), new_secret, ip, ipv6, email, email.split("@")[0]]:
        # The key id is not secret (it is the row id); what follows it is.
        needle = secret.split("_", 3)[3] if secret.startswith("mod_") else secret
        assert needle not in dump, needle
        assert needle.encode() not in files, needle
    with sqlite3.connect(db_path) as db:
        assert db.execute("SELECT ip_hash, email_hash FROM comments WHERE id = 'pii-1'").fetchone() != (None, None)
