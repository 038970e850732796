"""The moderators' web app through Flask's test client: sign-in rules, the session cookie, CSRF, security
headers, labels on every control, and each page driving the same domain functions as the JSON API."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from email.utils import parsedate_to_datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from moderation import users
from moderation.clock import ManualClock
from moderation.settings import Settings
from tests.conftest import WordListScorer

Auth = Callable[[str], dict[str, str]]
TOKEN = re.compile(r'name="csrf-token" content="([^"]+)"')


# ---------------------------------------------------------------------------
# Helpers


def token(client: FlaskClient, path: str = "/web/sign-in") -> str:
    """The CSRF token of this client's session (read from a page's meta tag)."""
    page = client.get(path)
    found = TOKEN.search(page.get_data(as_text=True))
    assert found, page.get_data(as_text=True)[:500]
    return found.group(1)


def sign_in(client: FlaskClient, secret: str) -> None:
    response = client.post("/web/sign-in", data={"method": "key", "key": secret, "csrf_token": token(client)})
    assert response.status_code == 303, response.get_data(as_text=True)[:300]


def post(client: FlaskClient, path: str, data: dict[str, Any] | None = None, fetch: bool = False, **kwargs: Any) -> Any:
    headers = {"X-Requested-With": "fetch"} if fetch else {}
    return client.post(
        path, data={**(data or {}), "csrf_token": token(client, "/web/queue")}, headers=headers, **kwargs
    )


COMMENTS = [
    ("c1", "you stupid clown", "toxicity"),
    ("c2", "what an idiot move by the council", "toxicity"),
    ("c3", "win at the casino today", "spam"),
    ("c4", "this clown again", "insult"),
]


def seed(client: FlaskClient, auth: Auth) -> None:
    """Four queued comments (the word-list TEST scorer sends these words to review), one a reply."""
    for index, (comment_id, text, _) in enumerate(COMMENTS):
        body = {
            "id": comment_id,
            "text": text,
            "article_id": "budget",
            "article_title": "The budget",
            "article_url": "/articles/budget",
            "section": "news",
            "author_id": f"reader-{index % 2}",
            "author_name": f"Reader {index % 2}",
        }
        if comment_id == "c2":
            body["parent_id"] = "c1"
        response = client.post("/v1/comments", json=body, headers=auth("site"))
        assert response.status_code == 201 and response.get_json()["status"] == "queued", response.get_json()


def db_rows(settings: Settings, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    with sqlite3.connect(settings.db_path) as db:
        return list(db.execute(sql, params))


def queue_items(client: FlaskClient) -> dict[str, tuple[int, int]]:
    """comment id -> (item id, version) as the queue page lists them."""
    page = client.get("/web/queue").get_data(as_text=True)
    found = {}
    for item_id, version in re.findall(r'name="item" value="(\d+):(\d+)"', page):
        comment = re.search(rf'<label for="sel-{item_id}" class="visually-hidden">Select comment ([^<]+)</label>', page)
        assert comment
        found[comment.group(1)] = (int(item_id), int(version))
    return found


class Controls(HTMLParser):
    """Collects form controls, labels and inline code, to check every control is labelled."""

    def __init__(self) -> None:
        super().__init__()
        self.label_for: set[str] = set()
        self.controls: list[dict[str, str | None]] = []
        self.inline: list[str] = []
        self.in_label = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if "style" in found:
            self.inline.append(f"style attribute on <{tag}>")
        if tag == "style":
            self.inline.append("<style> element")
        if tag == "script" and not (found.get("src") or "").startswith("/web/static/"):
            self.inline.append("<script> without a /web/static src")
        if any(name.startswith("on") for name in found):
            self.inline.append(f"event handler attribute on <{tag}>")
        if tag == "label":
            self.in_label += 1
            if found.get("for"):
                self.label_for.add(str(found["for"]))
        if tag in ("input", "select", "textarea"):
            if found.get("type") in ("hidden", "submit", "button"):
                return
            self.controls.append({**found, "_wrapped": "yes" if self.in_label else None})

    def handle_endtag(self, tag: str) -> None:
        if tag == "label":
            self.in_label -= 1

    def unlabelled(self) -> list[str]:
        return [
            str(c.get("name") or c.get("id"))
            for c in self.controls
            if not (c.get("id") in self.label_for or c.get("aria-label") or c.get("_wrapped"))
        ]


# ---------------------------------------------------------------------------
# Signing in


def test_root_and_web_index_lead_to_sign_in(client: FlaskClient) -> None:
    assert client.get("/").headers["Location"].endswith("/web/")
    assert client.get("/web/").headers["Location"].endswith("/web/sign-in")


def test_signed_out_pages_redirect_to_sign_in_and_scripts_get_401(client: FlaskClient) -> None:
    response = client.get("/web/queue?category=spam")
    assert response.status_code == 303
    assert "/web/sign-in?next=" in response.headers["Location"]
    fetched = client.post("/web/queue/1/open", headers={"X-Requested-With": "fetch", "X-CSRF-Token": token(client)})
    assert fetched.status_code == 401 and fetched.get_json()["error"] == "unauthorized"


def test_moderator_key_signs_in_with_a_hardened_session_cookie(client: FlaskClient, api_keys: dict[str, str]) -> None:
    response = client.post(
        "/web/sign-in", data={"method": "key", "key": api_keys["moderator"], "csrf_token": token(client)}
    )
    assert response.status_code == 303 and response.headers["Location"].endswith("/web/queue")
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("moderation_session=")
    for flag in ("HttpOnly", "SameSite=Lax", "Path=/web"):
        assert flag in cookie
    assert "Secure" not in cookie  # plain http here
    assert api_keys["moderator"] not in cookie  # the session names the key id, never the secret
    assert client.get("/web/queue").status_code == 200


def test_the_cookie_is_secure_over_https_or_when_set(app: Flask, api_keys: dict[str, str], settings: Settings) -> None:
    client = app.test_client()
    page = client.get("/web/sign-in", base_url="https://localhost")
    csrf = TOKEN.search(page.get_data(as_text=True))
    assert csrf
    response = client.post(
        "/web/sign-in",
        data={"method": "key", "key": api_keys["admin"], "csrf_token": csrf.group(1)},
        base_url="https://localhost",
    )
    assert "Secure" in response.headers["Set-Cookie"]

    from dataclasses import replace

    from api import create_app

    behind_proxy = create_app(
        {"TESTING": True, "SETTINGS": replace(settings, secure_cookies=True), "SCORER": WordListScorer()}
    )
    assert "Secure" in behind_proxy.test_client().get("/web/sign-in").headers["Set-Cookie"]


def test_a_site_key_cannot_sign_in(client: FlaskClient, api_keys: dict[str, str]) -> None:
    response = client.post("/web/sign-in", data={"method": "key", "key": api_keys["site"], "csrf_token": token(client)})
    assert response.status_code == 403
    assert "site key cannot sign in" in response.get_data(as_text=True)
    assert client.get("/web/queue").status_code == 303


def test_unknown_key_and_wrong_password_are_refused(client: FlaskClient) -> None:
    csrf = token(client)
    assert (
        client.post("/web/sign-in", data={"method": "key", "key": "mod_mod_nope", "csrf_token": csrf}).status_code
        == 401
    )
    response = client.post(
        "/web/sign-in", data={"method": "password", "name": "nobody", "password": "x" * 12, "csrf_token": csrf}
    )
    assert response.status_code == 401 and "Unknown user name or wrong password" in response.get_data(as_text=True)


def test_sign_in_attempts_are_throttled_per_address(
    app: Flask, api_keys: dict[str, str], settings: Settings, clock: ManualClock
) -> None:
    allowance = settings.auth_failure_limit
    client = app.test_client()
    csrf = token(client)
    for n in range(allowance):  # a new name each time: the address is throttled, not the accounts
        guess = {"method": "password", "name": f"admin{n}", "password": "not-the-password", "csrf_token": csrf}
        assert client.post("/web/sign-in", data=guess).status_code == 401
    throttled = client.post("/web/sign-in", data=guess)
    assert throttled.status_code == 429 and throttled.headers["Retry-After"] == str(60 // allowance)
    assert "Too many sign-in attempts" in throttled.get_data(as_text=True)
    # Even the right key waits: a throttled address learns nothing from its attempts.
    right = {"method": "key", "key": api_keys["moderator"], "csrf_token": csrf}
    assert client.post("/web/sign-in", data=right).status_code == 429
    assert client.get("/web/queue").status_code == 303
    # Another address, and the API's keys, are not held back.
    other = app.test_client()
    assert (
        other.post(
            "/web/sign-in", data={**right, "csrf_token": token(other)}, environ_base={"REMOTE_ADDR": "192.0.2.9"}
        ).status_code
        == 303
    )
    assert client.get("/v1/queue", headers={"Authorization": f"Bearer {api_keys['moderator']}"}).status_code == 200
    # The allowance refills: one attempt each 60 / allowance seconds.
    clock.advance(60 / allowance - 0.01)
    assert client.post("/web/sign-in", data=right).status_code == 429
    clock.advance(0.01)
    assert client.post("/web/sign-in", data=right).status_code == 303


def test_failed_sign_ins_lock_the_account_from_every_address(
    client: FlaskClient, api_keys: dict[str, str], settings: Settings, clock: ManualClock
) -> None:
    users.create_user(
        client.application.extensions["moderation"].store, "mia", "correct horse battery", "moderator", None
    )
    limit = settings.account_failure_limit
    for n in range(limit):  # from as many addresses as guesses
        guess = {"method": "password", "name": "Mia", "password": f"wrong guess {n}", "csrf_token": token(client)}
        answer = client.post("/web/sign-in", data=guess, environ_base={"REMOTE_ADDR": f"198.51.100.{n}"})
        assert answer.status_code == 401
    right = {"method": "password", "name": "mia", "password": "correct horse battery"}
    locked = client.post(
        "/web/sign-in", data={**right, "csrf_token": token(client)}, environ_base={"REMOTE_ADDR": "203.0.113.1"}
    )
    wait = 3600 // limit
    assert locked.status_code == 429 and locked.headers["Retry-After"] == str(wait)
    assert (
        f"This account is locked after too many failed sign-ins; try again in {wait // 60} minutes"
        in locked.get_data(as_text=True)
    )
    # Other accounts, and key sign-ins, are not locked with it.
    sign_in(client, api_keys["moderator"])
    post(client, "/web/sign-out")
    # After the wait its owner gets in, from a new address, with the right password.
    clock.advance(wait)
    answer = client.post(
        "/web/sign-in", data={**right, "csrf_token": token(client)}, environ_base={"REMOTE_ADDR": "203.0.113.2"}
    )
    assert answer.status_code == 303
    assert client.get("/web/queue").status_code == 200


def test_a_session_ends_when_idle_and_at_its_lifetime_however_busy(
    client: FlaskClient, api_keys: dict[str, str], settings: Settings, clock: ManualClock
) -> None:
    idle, lifetime = settings.session_idle_minutes * 60, settings.session_hours * 3600
    signed_in_at = clock.now
    sign_in(client, api_keys["moderator"])
    kept = client.get_cookie("moderation_session", path="/web")
    assert kept is not None
    clock.advance(idle - 1)
    assert client.get("/web/queue").status_code == 200  # used in time: the idle wait starts again
    clock.advance(idle - 1)
    assert client.get("/web/queue").status_code == 200
    # A copy of the cookie as it was at sign-in has been idle since then.
    copy = client.application.test_client()
    copy.set_cookie("moderation_session", kept.value, path="/web")
    assert copy.get("/web/queue").status_code == 303
    # Used within every idle period, it still ends at its lifetime from sign-in, and its cookie expires then.
    while clock.now + idle - 1 < signed_in_at + lifetime:
        clock.advance(idle - 1)
        response = client.get("/web/queue")
        assert response.status_code == 200
        expires = parsedate_to_datetime(response.headers["Set-Cookie"].split("Expires=")[1].split(";")[0])
        assert expires.timestamp() == min(clock.now + idle, signed_in_at + lifetime)
    clock.advance(idle - 1)
    assert client.get("/web/queue").status_code == 303
    sign_in(client, api_keys["moderator"])  # a new sign-in starts a new lifetime
    assert client.get("/web/queue").status_code == 200


def test_sign_in_ignores_a_next_page_off_the_site(client: FlaskClient, api_keys: dict[str, str]) -> None:
    response = client.post(
        "/web/sign-in",
        data={"method": "key", "key": api_keys["admin"], "csrf_token": token(client), "next": "https://evil.example/"},
    )
    assert response.headers["Location"].endswith("/web/dashboard")  # an admin's landing page


def test_admins_land_on_the_dashboard_and_moderators_on_the_queue(
    client: FlaskClient, api_keys: dict[str, str]
) -> None:
    for role, landing in (("admin", "/web/dashboard"), ("moderator", "/web/queue")):
        browser = client.application.test_client()
        response = browser.post(
            "/web/sign-in", data={"method": "key", "key": api_keys[role], "csrf_token": token(browser)}
        )
        assert response.status_code == 303 and response.headers["Location"].endswith(landing), role
        assert browser.get("/web/").headers["Location"].endswith(landing), role
        assert browser.get("/web/sign-in").headers["Location"].endswith(landing), role
    # Where the user was going wins.
    browser = client.application.test_client()
    data = {"method": "key", "key": api_keys["admin"], "csrf_token": token(browser), "next": "/web/queue"}
    assert browser.post("/web/sign-in", data=data).headers["Location"].endswith("/web/queue")


def test_an_admins_queue_page_claims_nothing_until_an_item_is_opened(
    client: FlaskClient, auth: Auth, api_keys: dict[str, str], settings: Settings
) -> None:
    seed(client, auth)
    sign_in(client, api_keys["admin"])
    page = client.get("/web/queue").get_data(as_text=True)
    assert 'data-claim-on-load="no"' in page and 'id="item-detail"' in page
    assert db_rows(settings, "SELECT count(*) FROM queue_items WHERE claimed_by IS NOT NULL") == [(0,)]
    moderator = client.application.test_client()
    sign_in(moderator, api_keys["moderator"])
    assert 'data-claim-on-load="yes"' in moderator.get("/web/queue").get_data(as_text=True)


def test_a_skipped_item_is_not_opened_again_for_that_moderator(
    client: FlaskClient, auth: Auth, api_keys: dict[str, str]
) -> None:
    seed(client, auth)
    sign_in(client, api_keys["moderator"])

    def opened() -> str:
        found = re.search(r'id="item-detail"[^>]*data-item-id="(\d+)"', client.get("/web/queue").get_data(as_text=True))
        return found.group(1) if found else ""

    first = opened()
    assert first
    assert post(client, f"/web/queue/{first}/open").status_code == 200
    assert post(client, f"/web/queue/{first}/skip", fetch=True).status_code == 200
    second = opened()
    assert second and second != first  # reloading the queue does not hand the skipped item back
    # Another moderator still gets it.
    other = client.application.test_client()
    sign_in(other, api_keys["moderator2"])
    found = re.search(r'id="item-detail"[^>]*data-item-id="(\d+)"', other.get("/web/queue").get_data(as_text=True))
    assert found and found.group(1) == first


def test_the_queue_count_follows_each_decision(client: FlaskClient, auth: Auth, api_keys: dict[str, str]) -> None:
    seed(client, auth)
    sign_in(client, api_keys["moderator"])
    page = client.get("/web/queue").get_data(as_text=True)
    assert '<span class="count" id="queue-count">4 waiting</span>' in page
    items = queue_items(client)
    item_id, _ = items["c1"]
    version = int(
        post(client, f"/web/queue/{item_id}/open").get_data(as_text=True).split('data-version="')[1].split('"')[0]
    )
    decided = post(client, f"/web/queue/{item_id}/decide", {"action": "approve", "version": version}, fetch=True)
    assert decided.headers["X-Queue-Count"] == "3 waiting"
    skipped_id = decided.get_data(as_text=True).split('data-item-id="')[1].split('"')[0]
    skipped = post(client, f"/web/queue/{skipped_id}/skip", fetch=True)
    assert skipped.headers["X-Queue-Count"] == "3 waiting"  # skipping leaves it waiting


def test_forms_without_the_csrf_token_are_refused(
    client: FlaskClient, api_keys: dict[str, str], auth: Auth, settings: Settings
) -> None:
    token(client)
    refused = client.post("/web/sign-in", data={"method": "key", "key": api_keys["moderator"]})
    assert refused.status_code == 400 and "security token" in refused.get_data(as_text=True)
    sign_in(client, api_keys["moderator"])
    seed(client, auth)
    item_id, version = queue_items(client)["c1"]
    for data in ({}, {"csrf_token": "forged"}):
        response = client.post(f"/web/queue/{item_id}/decide", data={**data, "action": "approve", "version": version})
        assert response.status_code == 400
    assert db_rows(settings, "SELECT count(*) FROM decisions WHERE actor_type = 'moderator'") == [(0,)]
    # The pages' script sends it as a header instead.
    response = client.post(
        f"/web/queue/{item_id}/decide",
        data={"action": "approve", "version": version},
        headers={"X-CSRF-Token": token(client, "/web/queue"), "X-Requested-With": "fetch"},
    )
    assert response.status_code == 200


def test_sign_out_ends_the_session(client: FlaskClient, api_keys: dict[str, str]) -> None:
    sign_in(client, api_keys["moderator"])
    assert post(client, "/web/sign-out").status_code == 303
    assert client.get("/web/queue").status_code == 303


def test_a_copy_of_the_cookie_stops_working_after_sign_out(app: Flask, api_keys: dict[str, str]) -> None:
    browser, copy = app.test_client(), app.test_client()
    sign_in(browser, api_keys["moderator"])
    cookie = browser.get_cookie("moderation_session", path="/web")
    assert cookie is not None
    copy.set_cookie("moderation_session", cookie.value, path="/web")
    assert copy.get("/web/queue").status_code == 200
    assert post(browser, "/web/sign-out").status_code == 303
    refused = copy.get("/web/queue")
    assert refused.status_code == 303 and "/web/sign-in" in refused.headers["Location"]
    # Signing in again starts a new session that works.
    sign_in(browser, api_keys["moderator"])
    assert browser.get("/web/queue").status_code == 200


def test_revoking_the_key_signs_its_session_out(client: FlaskClient, api_keys: dict[str, str], auth: Auth) -> None:
    sign_in(client, api_keys["moderator"])
    key_id = api_keys["moderator"].split("_")[2]
    assert client.delete(f"/v1/keys/{key_id}", headers=auth("admin")).status_code == 200
    assert client.get("/web/queue").status_code == 303


def test_moderators_may_not_open_admin_pages(client: FlaskClient, api_keys: dict[str, str]) -> None:
    sign_in(client, api_keys["moderator"])
    for path in ("/web/admin/policy", "/web/admin/keys", "/web/admin/models"):
        assert client.get(path).status_code == 403, path
    assert post(client, "/web/admin/keys", {"role": "admin"}).status_code == 403


def test_the_api_does_not_accept_the_session(client: FlaskClient, api_keys: dict[str, str]) -> None:
    sign_in(client, api_keys["admin"])
    assert client.get("/v1/queue").status_code == 401


# ---------------------------------------------------------------------------
# Users with passwords


def test_admin_makes_a_user_who_signs_in_with_a_password(
    client: FlaskClient, app: Flask, api_keys: dict[str, str], auth: Auth, settings: Settings
) -> None:
    sign_in(client, api_keys["admin"])
    short = post(
        client, "/web/admin/users", {"name": "mia", "role": "moderator", "password": "short", "password_again": "short"}
    )
    assert short.status_code == 303
    assert "at least 12 characters" in client.get("/web/admin/keys").get_data(as_text=True)
    password = "correct horse battery"
    made = post(
        client,
        "/web/admin/users",
        {"name": "Mia", "role": "moderator", "password": password, "password_again": password},
    )
    assert made.status_code == 303
    [(stored,)] = db_rows(settings, "SELECT password_hash FROM users WHERE name = 'mia'")
    assert stored.startswith("scrypt:32768:8:1$") and password not in stored

    seed(client, auth)
    user = app.test_client()
    csrf = token(user)
    assert (
        user.post(
            "/web/sign-in",
            data={"method": "password", "name": "mia", "password": "wrong password!", "csrf_token": csrf},
        ).status_code
        == 401
    )
    assert (
        user.post(
            "/web/sign-in", data={"method": "password", "name": "MIA", "password": password, "csrf_token": csrf}
        ).status_code
        == 303
    )
    assert "mia" in user.get("/web/queue").get_data(as_text=True)
    item_id, version = queue_items(user)["c3"]
    decided = post(user, f"/web/queue/{item_id}/decide", {"action": "approve", "version": version}, fetch=True)
    assert decided.status_code == 200
    assert db_rows(settings, "SELECT actor FROM decisions WHERE comment_id = 'c3' AND actor_type = 'moderator'") == [
        ("user:mia",)
    ]

    # A new password ends the sessions made with the old one; disabling ends every session.
    assert post(client, "/web/admin/users/mia/password", {"password": "another long password"}).status_code == 303
    assert user.get("/web/queue").status_code == 303
    again = app.test_client()
    assert (
        again.post(
            "/web/sign-in",
            data={"method": "password", "name": "mia", "password": "another long password", "csrf_token": token(again)},
        ).status_code
        == 303
    )
    assert post(client, "/web/admin/users/mia/disable").status_code == 303
    assert again.get("/web/queue").status_code == 303


# ---------------------------------------------------------------------------
# Pages: headers, no inline code, labels


ALL_PAGES = [
    "/web/queue",
    "/web/queue?category=spam&appealed=no",
    "/web/decisions",
    "/web/decisions?status=queued&since=2020-01-01",
    "/web/comments/c2",
    "/web/dashboard",
    "/web/admin/policy",
    "/web/admin/keys",
    "/web/admin/models",
]


def test_every_page_has_security_headers_no_inline_code_and_labels(
    client: FlaskClient, api_keys: dict[str, str], auth: Auth
) -> None:
    seed(client, auth)
    pages = [client.get("/web/sign-in")]
    sign_in(client, api_keys["admin"])
    post(client, "/web/admin/users", {"name": "ada", "role": "admin", "password": "p" * 12, "password_again": "p" * 12})
    for path, response in [("/web/sign-in", pages[0])] + [(path, client.get(path)) for path in ALL_PAGES]:
        assert response.status_code == 200, path
        assert "default-src 'self'" in response.headers["Content-Security-Policy"], path
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["Cache-Control"] == "no-store"
        html = response.get_data(as_text=True)
        assert "https://" not in html and "http://" not in html, path  # no CDN, nothing from elsewhere
        parser = Controls()
        parser.feed(html)
        assert parser.inline == [], (path, parser.inline)
        assert parser.unlabelled() == [], (path, parser.unlabelled())
    # Error pages under /web and the static files get the headers too.
    assert client.get("/web/nowhere").headers["X-Frame-Options"] == "DENY"
    css = client.get("/web/static/web.css")
    assert css.status_code == 200 and css.headers["X-Content-Type-Options"] == "nosniff"
    assert "max-age" in css.headers["Cache-Control"]


# ---------------------------------------------------------------------------
# The queue


def test_queue_page_shows_evidence_parent_and_author_history(
    client: FlaskClient, api_keys: dict[str, str], auth: Auth
) -> None:
    seed(client, auth)
    sign_in(client, api_keys["moderator"])
    item_id, _ = queue_items(client)["c2"]
    html = client.get(f"/web/queue?item={item_id}").get_data(as_text=True)
    assert '<mark class="hl hl-toxicity" title="toxicity">idiot</mark>' in html
    assert '<sup class="hl-tag">' in html and "toxicity" in html  # the category in words, not colour alone
    assert 'class="bar"' in html and "tick-review" in html  # score bars with the thresholds
    assert "toxicity 0.70 ≥ review threshold 0.50" in html  # the reasons
    assert 'href="/articles/budget"' in html and "Section: news" in html  # the article
    assert "In reply to" in html and "you stupid clown" in html  # the parent comment
    assert re.search(r"<dt>Comments</dt><dd>\d+</dd>", html)  # the author's history


def test_open_claims_and_decisions_record_like_the_api(
    client: FlaskClient, api_keys: dict[str, str], auth: Auth, settings: Settings
) -> None:
    seed(client, auth)
    sign_in(client, api_keys["moderator"])
    key_id = api_keys["moderator"].split("_")[2]
    items = queue_items(client)
    first, _ = items["c1"]
    second, _ = items["c2"]

    opened = post(client, f"/web/queue/{first}/open", {}, fetch=True)
    assert opened.status_code == 200 and "Claimed by you" in opened.get_data(as_text=True)
    assert db_rows(settings, "SELECT claimed_by FROM queue_items WHERE id = ?", (first,)) == [(key_id,)]
    # Opening another gives the first back.
    post(client, f"/web/queue/{second}/open", {"previous": first}, fetch=True)
    assert db_rows(settings, "SELECT claimed_by FROM queue_items WHERE id = ?", (first,)) == [(None,)]
    # Someone else's claim is shown, not taken.
    other = client.post(f"/v1/queue/{first}/claim", headers=auth("moderator2"))
    assert other.status_code == 200
    held = post(client, f"/web/queue/{first}/open", {}, fetch=True)
    assert "claimed by another moderator" in held.get_data(as_text=True)
    client.post(f"/v1/queue/{first}/release", headers=auth("moderator2"))

    version = client.get(f"/v1/queue/{second}", headers=auth("moderator")).get_json()["version"]
    no_reason = post(client, f"/web/queue/{second}/decide", {"action": "reject", "version": version}, fetch=True)
    assert no_reason.status_code == 422 and "reason_choice" in no_reason.get_json()["fields"]
    rejected = post(
        client,
        f"/web/queue/{second}/decide",
        {"action": "reject", "version": version, "reason_choice": "insult", "reason_text": "name-calling"},
        fetch=True,
    )
    assert rejected.status_code == 200 and rejected.headers["X-Done-Item"] == str(second)
    assert 'id="item-detail"' in rejected.get_data(as_text=True)  # the next item, without a reload
    rows = db_rows(
        settings, "SELECT actor, kind, action, note FROM decisions WHERE comment_id = 'c2' AND actor_type = 'moderator'"
    )
    assert rows == [(key_id, "review", "reject", "Insult or personal attack: name-calling")]
    events = db_rows(settings, "SELECT event_type, body FROM outbox")
    assert [e for e, body in events if '"c2"' in body] == ["comment.decided"]
    # A stale version is a conflict, as in the API.
    stale = post(client, f"/web/queue/{second}/decide", {"action": "approve", "version": version}, fetch=True)
    assert stale.status_code == 409

    skipped = post(client, f"/web/queue/{first}/skip", {}, fetch=True)
    assert skipped.status_code == 200
    assert db_rows(settings, "SELECT moderator FROM queue_skips WHERE item_id = ?", (first,)) == [(key_id,)]
    # Without the script, a decision redirects back to the queue with a message.
    item, version = queue_items(client)["c3"]
    plain = post(client, f"/web/queue/{item}/decide", {"action": "approve", "version": version, "category": "spam"})
    assert plain.status_code == 303 and "category=spam" in plain.headers["Location"]
    assert "Approved comment c3" in client.get(plain.headers["Location"]).get_data(as_text=True)


def test_bulk_reject(client: FlaskClient, api_keys: dict[str, str], auth: Auth, settings: Settings) -> None:
    seed(client, auth)
    sign_in(client, api_keys["moderator"])
    items = queue_items(client)
    chosen = [f"{items[c][0]}:{items[c][1]}" for c in ("c1", "c4")]
    missing_reason = post(client, "/web/queue/bulk", {"item": chosen, "bulk_action": "reject"})
    assert missing_reason.status_code == 303
    assert "needs a reason" in client.get("/web/queue").get_data(as_text=True)
    done = post(client, "/web/queue/bulk", {"item": chosen, "bulk_action": "reject", "bulk_reason_choice": "spam"})
    assert done.status_code == 303
    assert "Rejected 2 comments." in client.get(done.headers["Location"]).get_data(as_text=True)
    assert db_rows(
        settings, "SELECT comment_id, action FROM decisions WHERE actor_type = 'moderator' ORDER BY comment_id"
    ) == [("c1", "reject"), ("c4", "reject")]
    # The same selection again: both changed meanwhile, so nothing more is recorded.
    post(client, "/web/queue/bulk", {"item": chosen, "bulk_action": "approve"})
    assert "2 changed since the list was loaded" in client.get("/web/queue").get_data(as_text=True)
    assert db_rows(settings, "SELECT count(*) FROM decisions WHERE actor_type = 'moderator'") == [(2,)]


# ---------------------------------------------------------------------------
# Decision log, reversal, dashboard


def test_decision_log_filters_links_and_reversal(
    client: FlaskClient, api_keys: dict[str, str], auth: Auth, settings: Settings
) -> None:
    seed(client, auth)
    sign_in(client, api_keys["moderator"])
    item, version = queue_items(client)["c3"]
    post(client, f"/web/queue/{item}/decide", {"action": "reject", "version": version, "reason_choice": "spam"})

    log = client.get("/web/decisions?status=rejected").get_data(as_text=True)
    assert 'href="/web/comments/c3"' in log and 'href="/web/comments/c1"' not in log
    assert client.get("/web/decisions?since=yesterday").status_code == 422
    csv_text = client.get("/web/decisions.csv?status=rejected").get_data(as_text=True)
    assert csv_text.splitlines()[0].startswith("id,at,comment_id") and ",c3," in csv_text

    page = client.get("/web/comments/c3").get_data(as_text=True)
    assert "Approve instead" in page
    latest = re.search(r'name="expected_decision_id" value="(\d+)"', page)
    assert latest
    reversed_ = post(
        client,
        "/web/comments/c3/reverse",
        {"action": "approve", "expected_decision_id": latest.group(1), "reason_text": "ok after all"},
    )
    assert reversed_.status_code == 303
    rows = db_rows(settings, "SELECT kind, action, supersedes FROM decisions WHERE comment_id = 'c3' ORDER BY id")
    assert [row[:2] for row in rows] == [("submission", "review"), ("review", "reject"), ("reversal", "approve")]
    assert rows[2][2] == int(latest.group(1))  # a new decision after the old one; nothing edited
    assert "is now approved" in client.get("/web/comments/c3").get_data(as_text=True)
    again = post(client, "/web/comments/c3/reverse", {"action": "approve", "expected_decision_id": latest.group(1)})
    assert again.status_code == 303
    assert "has a newer decision" in client.get("/web/comments/c3").get_data(as_text=True)


def test_dashboard_shows_depth_chart_overturns_and_model(
    client: FlaskClient, api_keys: dict[str, str], auth: Auth
) -> None:
    seed(client, auth)
    # An automatic rejection, appealed and overturned.
    assert (
        client.post(
            "/v1/comments",
            json={"id": "r1", "text": "you moron", "article_id": "a", "author_id": "x"},
            headers=auth("site"),
        ).get_json()["status"]
        == "rejected"
    )
    client.post("/v1/comments/r1/appeal", json={"message": "quoting"}, headers=auth("site"))
    sign_in(client, api_keys["moderator"])
    items = queue_items(client)
    item, version = items["r1"]
    post(client, f"/web/queue/{item}/decide", {"action": "approve", "version": version})
    item, version = items["c3"]
    post(client, f"/web/queue/{item}/decide", {"action": "reject", "version": version, "reason_choice": "spam"})

    html = client.get("/web/dashboard").get_data(as_text=True)
    assert re.search(r"Waiting for review</p><p class=\"tile-value\">3<", html)
    assert '<svg class="chart"' in html and "test moderator" in html  # the moderator's own series
    assert "1 of 1" in html  # the one automatic decision (rejecting r1) was overturned on appeal
    assert "test-wordlist-1" in html


# ---------------------------------------------------------------------------
# Admin pages


def test_policy_editor_previews_and_saves(client: FlaskClient, api_keys: dict[str, str], auth: Auth) -> None:
    seed(client, auth)
    sign_in(client, api_keys["admin"])
    page = client.get("/web/admin/policy").get_data(as_text=True)
    assert 'name="t.toxicity.review" type="number"' in page and 'value="0.5"' in page
    assert '<span id="preview-total">4</span>' in page

    form = {
        "t.toxicity.review": "0.5",
        "t.toxicity.reject": "0.9",
        "recent_rejections": "2",
        "recent_rejection_days": "30",
        "known_languages": "en",
        "max_links": "2",
    }
    before = post(client, "/web/admin/policy/preview", form).get_data(as_text=True)
    after = post(client, "/web/admin/policy/preview", {**form, "t.toxicity.reject": "0.6"}).get_data(as_text=True)
    share = re.compile(r'data-preview="reject">([\d.]+) %')
    assert share.search(before) and share.search(after)
    assert float(share.search(after).group(1)) > float(share.search(before).group(1))  # type: ignore[union-attr]
    bad = post(client, "/web/admin/policy/preview", {**form, "t.toxicity.review": "0.95"}).get_data(as_text=True)
    assert "thresholds.toxicity.review" in bad

    refused = post(client, "/web/admin/policy", {**form, "t.toxicity.review": "0.95"})
    assert refused.status_code == 422 and 'aria-invalid="true"' in refused.get_data(as_text=True)
    saved = post(
        client,
        "/web/admin/policy",
        {
            **form,
            "t.insult.review": "0.4",
            "watched_terms": "refund\nrebate",
            "s0.name": "sport",
            "s0.spam.review": "0.3",
            "shadow_mode": "on",
            "sentence_holds": "off",
        },
    )
    assert saved.status_code == 303
    policy = client.get("/v1/policy", headers=auth("admin")).get_json()
    assert policy["thresholds"]["insult"]["review"] == 0.4
    assert policy["thresholds"]["toxicity"] == {"reject": 0.9, "review": 0.5}
    assert policy["sections"] == {"sport": {"spam": {"review": 0.3}}}
    assert policy["watched_terms"] == ["refund", "rebate"] and policy["shadow_mode"] is True
    assert policy["sentence_holds"] == "off"
    assert '<option value="off" selected>' in client.get("/web/admin/policy").get_data(as_text=True)
    stored = client.get("/v1/policy/history", headers=auth("admin")).get_json()["items"][0]
    assert "toxicity" not in stored["document"].get("thresholds", {})  # model defaults stay defaults
    assert stored["actor_key_id"] == api_keys["admin"].split("_")[2]


def test_keys_page_shows_a_new_key_once_and_revokes(client: FlaskClient, api_keys: dict[str, str], auth: Auth) -> None:
    sign_in(client, api_keys["admin"])
    made = post(client, "/web/admin/keys", {"role": "site", "name": "news site"})
    assert made.status_code == 200 and made.headers["Cache-Control"] == "no-store"
    secret = re.search(r'id="new-secret" class="secret-value" readonly value="([^"]+)"', made.get_data(as_text=True))
    assert secret and secret.group(1).startswith("mod_site_")
    assert client.post("/v1/score", json={"text": "hello"}, headers={"X-API-Key": secret.group(1)}).status_code == 200
    assert secret.group(1) not in client.get("/web/admin/keys").get_data(as_text=True)
    key_id = secret.group(1).split("_")[2]
    assert post(client, f"/web/admin/keys/{key_id}/revoke").status_code == 303
    assert client.post("/v1/score", json={"text": "hello"}, headers={"X-API-Key": secret.group(1)}).status_code == 401


def app_with_model_registry(tmp_path: Path, tiny_model_path: Path) -> Flask:
    """An app that serves a registered model version (not the word-list scorer), for the models pages."""
    from api import create_app

    settings = Settings.from_env(
        {
            "MODERATION_DB": str(tmp_path / "m.db"),
            "MODERATION_MODEL": str(tiny_model_path),
            "MODERATION_SECRET_KEY": "s",
        }
    )
    return create_app({"TESTING": True, "SETTINGS": settings})


def test_models_page_lists_versions_and_refuses_bad_activation(tmp_path: Path, tiny_model_path: Path) -> None:
    from moderation import keys

    app = app_with_model_registry(tmp_path, tiny_model_path)
    store = app.extensions["moderation"].store
    _, secret = keys.create_key(store, "admin", "ada")
    client = app.test_client()
    sign_in(client, secret)
    html = client.get("/web/admin/models").get_data(as_text=True)
    version = app.extensions["moderation"].scorer.version
    assert f"<code>{version}</code>" in html and "active</span>" in html and "ROC AUC" in html
    assert post(client, "/web/admin/models/rollback", {}).status_code == 303
    assert "no earlier model version" in client.get("/web/admin/models").get_data(as_text=True)
    dashboard = client.get("/web/dashboard").get_data(as_text=True)
    assert version in dashboard
    store.close()


def test_models_page_counts_suggested_scores_per_community(tmp_path: Path, tiny_model_path: Path) -> None:
    from moderation import keys

    app = app_with_model_registry(tmp_path, tiny_model_path)
    store = app.extensions["moderation"].store
    _, admin = keys.create_key(store, "admin", "ada")
    _, site = keys.create_key(store, "site", "coral")
    client = app.test_client()
    sign_in(client, admin)
    assert 'id="suggested-scores"' not in client.get("/web/admin/models").get_data(as_text=True)  # none yet
    for token, value in (("comment:1", 0), ("comment:1", 1), ("comment:2", 0)):
        body = {
            "comment": {"text": f"text of {token}"},
            "attributeScores": {"TOXICITY": {"summaryScore": {"value": value}}},
            "communityId": "Coral:https://news.example",
            "clientToken": token,
        }
        assert client.post(f"/v1alpha1/comments:suggestscore?key={site}", json=body).status_code == 200
    html = client.get("/web/admin/models").get_data(as_text=True)
    row = re.search(r'<table class="log" id="suggested-scores">.*?</table>', html, re.S)
    assert row is not None
    cells = re.findall(r"<t[hd][^>]*>([^<]*)</t[hd]>", row.group(0))
    assert cells[4:7] == ["Coral:https://news.example", "2", "1"]  # two examples, one says abusive
    store.close()


def test_models_page_shows_retrain_jobs_with_elapsed_time_and_refreshes_them(
    tmp_path: Path, tiny_model_path: Path
) -> None:
    from moderation import keys
    from moderation.training import jobs

    app = app_with_model_registry(tmp_path, tiny_model_path)
    store = app.extensions["moderation"].store
    _, admin = keys.create_key(store, "admin", "ada")
    _, moderator = keys.create_key(store, "moderator", "mo")
    client = app.test_client()
    sign_in(client, admin)
    job = jobs.create_job(store, jobs.RETRAIN, "key:ada")  # as start_retrain records it, minus its checks
    page = client.get("/web/admin/models").get_data(as_text=True)
    assert 'id="jobs" data-refresh-url="/web/admin/jobs"' in page
    assert page.count('id="jobs-title"') == 1 and ">Start a retrain</button>" in page
    fragment = client.get("/web/admin/jobs")
    html = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and "<html" not in html
    assert 'data-job-state="queued"' in html and '<th scope="col">Elapsed</th>' in html
    assert f"<td>{job['id']}</td>" in html
    other = app.test_client()
    sign_in(other, moderator)
    assert other.get("/web/admin/jobs").status_code == 403
    store.close()


def test_readme_shows_the_web_app_and_its_screenshots() -> None:
    from tests.conftest import REPO

    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "\n## Moderators' web app\n" in readme
    shown = re.findall(r"\]\((docs/screenshots/[\w-]+\.png)\)", readme)
    assert len(shown) >= 8
    for path in shown:
        assert (REPO / path).is_file(), f"{path} is missing: run the browser tests with MODERATION_UPDATE_SCREENSHOTS=1"


def test_what_sites_send_is_escaped_and_only_web_links_are_linked(
    client: FlaskClient, api_keys: dict[str, str], auth: Auth
) -> None:
    body = {
        "id": "x<1>",
        "text": 'stupid <script>alert("x")</script> & <b>bold</b>',
        "article_id": "a",
        "article_title": "<i>title</i>",
        "article_url": "javascript:alert(1)",
        "author_id": "evil",
        "author_name": '"><img src=x>',
    }
    assert client.post("/v1/comments", json=body, headers=auth("site")).status_code == 201
    sign_in(client, api_keys["moderator"])
    for path in ("/web/queue", "/web/comments/x%3C1%3E", "/web/decisions"):
        html = client.get(path).get_data(as_text=True)
        assert "<script>alert" not in html and "<b>bold" not in html and "<img src=x>" not in html, path
        assert "javascript:" not in html, path
    assert "&lt;script&gt;alert" in client.get("/web/comments/x%3C1%3E").get_data(as_text=True)


def test_policy_history_shows_what_each_change_changed(
    client: FlaskClient, auth: Auth, api_keys: dict[str, str]
) -> None:
    client.put("/v1/policy", json={"watched_terms": ["refund"]}, headers=auth("admin"))
    client.put("/v1/policy", json={"watched_terms": ["crypto"], "max_links": 4}, headers=auth("admin"))
    sign_in(client, api_keys["admin"])
    page = client.get("/web/admin/policy").get_data(as_text=True)
    history = page[page.index('<ul class="history">') :]
    newest = history[: history.index("</ul>", history.index('<ul class="diff">')) + 5]
    assert "<code>max_links</code>:" in newest and "set to <ins>4</ins>" in newest
    assert "added <ins>crypto</ins>; removed <del>refund</del>" in " ".join(newest.split())


def test_models_page_compares_side_by_side_says_why_unmeasured_and_holds_retrain_while_a_job_runs(
    tmp_path: Path, tiny_model_path: Path
) -> None:
    from model import artifact
    from moderation import keys
    from moderation.training import jobs, registry
    from tests.test_registry import comparison

    app = app_with_model_registry(tmp_path, tiny_model_path)
    found = app.extensions["moderation"]
    store, settings = found.store, found.settings
    _, secret = keys.create_key(store, "admin", "ada")
    client = app.test_client()
    sign_in(client, secret)
    shipped = found.scorer.version
    # A retrain whose verdicts all trained it: nothing held out, no metrics (a weight nudged: another model).
    base = artifact.load(settings.model_path)
    base.model.weights = base.model.weights.copy()
    base.model.weights[0, 0] += 0.25
    manifest = {
        **base.manifest,
        "version": None,
        "rows": {"train": 5, "holdout": 0},
        "metrics": {"holdout": {"categories": {}}},
        "comparison": comparison(shipped, worse=["insult"]),
    }
    temporary = registry.models_dir(settings) / "unmeasured.tmp"
    saved = artifact.save(base.model, manifest, temporary)
    final = registry.models_dir(settings) / f"{saved['version']}.model"
    temporary.replace(final)
    version = registry.register_file(store, settings, final, source="retrain", actor="test")["version"]

    html = client.get("/web/admin/models").get_data(as_text=True)
    card = html[html.index(f"<code>{version}</code>") :]
    card = card[: card.index("</section>")]
    assert "Hold-out metrics: not measured, because its hold-out had no rows" in card
    assert '<table class="log">' not in card  # no empty metrics table
    print(card[card.find("comparison") :][:3000])
    row = re.search(r'<tr data-verdict="worse">(.*?)</tr>', card, re.S)
    assert row is not None
    cells = [" ".join(c.split()) for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row.group(1), re.S)]
    assert cells[:4] == ["insult", "0.700", "0.900", "-0.200"] and cells[4].startswith("worse")
    assert 'id="retrain-button">' in html  # enabled: no job
    job = jobs.create_job(store, jobs.RETRAIN, "ada")
    busy = client.get("/web/admin/models").get_data(as_text=True)
    assert 'id="retrain-button" disabled' in busy and f"Job {job['id']} is queued" in busy
    store.close()
