"""The moderators' web app in a real browser: Debian's chromium driven by Playwright against gunicorn with a
temporary database and a loopback webhook receiver. Screenshots of each page go to test-output/screenshots/
(and to docs/screenshots/ with MODERATION_UPDATE_SCREENSHOTS=1, for the README).

Never `playwright install`: the browser is /usr/bin/chromium from apt (`.ci/run` installs it). Without it
these tests fail in CI (CI=true) and are skipped elsewhere with the reason.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from model.categories import CATEGORIES
from moderation import keys
from moderation.outbox import SIGNATURE_HEADER, verify_signature
from moderation.storage.store import Store
from tests.conftest import REPO, SHIPPED_MODEL, LiveServer, start_server
from tests.test_e2e_service import Webhooks

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = REPO / "test-output" / "screenshots"
DOCS_SCREENSHOTS = REPO / "docs" / "screenshots"
WEBHOOK_SECRET = "browser-webhook-secret"
TIMEOUT_MS = 10_000

COMMENTS = [
    ("b-1", "You are an idiot and a moron, nobody wants your stupid opinion", "budget", None),
    ("b-2", "The minister made a fair point about the border talks in geneva", "budget", None),
    ("b-3", "check out my channel and subscribe http://spam.example/9 free money", "budget", None),
    ("b-4", "this is fucking nonsense from the mayor, you pathetic loser", "budget", "b-2"),
    ("b-5", "i will find you and hurt you", "ceasefire", None),
    ("b-6", "thanks for the careful analysis of the election in tbilisi", "ceasefire", None),
    ("b-7", "all immigrants are vermin", "ceasefire", None),
    ("b-8", "you clown, read the report before commenting", "ceasefire", None),
]


def _require_chromium() -> None:
    if CHROMIUM.exists():
        return
    message = f"{CHROMIUM} is missing: install it with `apt-get install chromium` (.ci/run does)"
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    _require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def webhooks() -> Iterator[Webhooks]:
    site = Webhooks()
    yield site
    site.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, webhooks: Webhooks) -> Iterator[LiveServer]:
    """gunicorn (2 workers) on the shipped model, a fresh database with a key per role, and eight queued comments."""
    directory = tmp_path_factory.mktemp("browser")
    db = directory / "moderation.db"
    store = Store(db)
    made = {role: keys.create_key(store, role, f"browser {role}")[1] for role in keys.ROLES}
    made["moderator"] = keys.create_key(store, "moderator", "Mia")[1]
    store.close()
    live = start_server(
        directory,
        {
            "MODERATION_DB": str(db),
            "MODERATION_SECRET_KEY": "browser-pii-secret",
            "MODERATION_MODEL": str(SHIPPED_MODEL),  # the shipped model: realistic scores in the screenshots
            "MODERATION_WEBHOOK_URL": webhooks.url,
            "MODERATION_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "WEB_CONCURRENCY": "2",
        },
    )
    live.keys = made
    # Nothing is rejected automatically and every author's first comments are reviewed: all eight wait.
    no_rejects = {category: {"reject": None} for category in CATEGORIES}
    status, _ = live.json("PUT", "/v1/policy", {"thresholds": no_rejects, "new_author_reviews": 5}, key="admin")
    assert status == 200
    for comment_id, text, article, parent in COMMENTS:
        body = {
            "id": comment_id,
            "text": text,
            "article_id": article,
            "article_title": "The budget vote" if article == "budget" else "Ceasefire talks",
            "article_url": f"/articles/{article}",
            "section": "politics" if article == "budget" else "world",
            "author_id": f"reader-{comment_id[-1]}",
            "author_name": f"Reader {comment_id[-1]}",
            "parent_id": parent,
        }
        status, answer = live.json("POST", "/v1/comments", body, key="site")
        assert status == 201 and answer["status"] == "queued", answer
    yield live
    live.stop()


def shot(page: Any, name: str, full_page: bool = False) -> None:
    """Save a screenshot under test-output/screenshots (and docs/screenshots when asked to update them)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    if os.environ.get("MODERATION_UPDATE_SCREENSHOTS") == "1":
        DOCS_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, DOCS_SCREENSHOTS / path.name)


def rows(server: LiveServer, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    with sqlite3.connect(server.db_path) as db:
        return list(db.execute(sql, params))


def new_page(browser: Any, server: LiveServer, width: int = 1280, height: int = 860) -> Any:
    context = browser.new_context(base_url=server.base_url, viewport={"width": width, "height": height})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    return page


def sign_in(page: Any, secret: str) -> None:
    page.goto("/web/sign-in")
    page.get_by_label("Moderator or admin key").fill(secret)
    page.get_by_role("button", name="Sign in with key").click()


def current_item(page: Any) -> str:
    return str(page.locator("#item-detail").get_attribute("data-item-id"))


def wait_for_other_item(page: Any, before: str) -> str:
    page.wait_for_function(
        "before => { const a = document.querySelector('#item-detail');"
        " return a && a.dataset.itemId !== before && a.dataset.mine === 'yes'; }",
        arg=before,
    )
    return current_item(page)


def test_a_site_key_is_refused_and_a_form_without_csrf_token_is_refused(browser: Any, server: LiveServer) -> None:
    from playwright.sync_api import expect

    page = new_page(browser, server)
    page.goto("/web/sign-in")
    shot(page, "sign-in")
    sign_in(page, server.keys["site"])
    expect(page.locator("#sign-in-error")).to_contain_text("site key cannot sign in")
    page.goto("/web/queue")
    expect(page).to_have_url(f"{server.base_url}/web/sign-in?next=/web/queue")

    sign_in(page, server.keys["moderator"])
    expect(page.get_by_role("heading", name="Queue")).to_be_visible()
    before = rows(server, "SELECT count(*) FROM decisions WHERE actor_type = 'moderator'")
    # A form built in the page without the token, as another site's page would post it.
    with page.expect_response(lambda response: response.url.endswith("/web/queue/bulk")) as posted:
        page.evaluate(
            """() => {
                const form = document.createElement('form');
                form.method = 'post';
                form.action = '/web/queue/bulk';
                for (const [name, value] of [['item', '1:1'], ['bulk_action', 'approve']]) {
                    const input = document.createElement('input');
                    input.type = 'hidden'; input.name = name; input.value = value;
                    form.appendChild(input);
                }
                document.body.appendChild(form);
                form.submit();
            }"""
        )
    assert posted.value.status == 400
    expect(page.locator("main")).to_contain_text("security token")
    assert rows(server, "SELECT count(*) FROM decisions WHERE actor_type = 'moderator'") == before
    page.context.close()


def test_moderator_works_the_queue_with_mouse_and_keyboard(
    browser: Any, server: LiveServer, webhooks: Webhooks
) -> None:
    from playwright.sync_api import expect

    page = new_page(browser, server)
    key_id = server.keys["moderator"].split("_")[2]
    sign_in(page, server.keys["moderator"])
    expect(page.locator("#item-detail[data-mine='yes']")).to_be_visible()  # opening the top item claimed it
    first = current_item(page)
    assert rows(server, "SELECT claimed_by FROM queue_items WHERE id = ?", (int(first),)) == [(key_id,)]
    expect(page.locator(".comment-text mark.hl").first).to_be_visible()  # spans highlighted
    shot(page, "queue")
    approve_box = page.locator("#approve-button").bounding_box()

    # Mouse: approve; the next item appears in place, without a reload, and the buttons do not move.
    page.evaluate("window.__sameDocument = true")
    page.get_by_role("button", name="Approve").click()
    second = wait_for_other_item(page, first)
    expect(page.locator(f".item[data-item-id='{first}']")).to_have_class("item done")
    assert page.evaluate("window.__sameDocument") is True
    assert page.locator("#approve-button").bounding_box() == approve_box
    # Mouse: reject with a reason from the list and a note.
    page.get_by_label("Reason for rejecting").select_option("insult")
    page.get_by_label("Note (optional; kept in the log, sent to the site)").fill("name-calling")
    page.get_by_role("button", name="Reject").click()
    third = wait_for_other_item(page, second)

    # Keyboard: j and k move (each opened item is claimed), a approves, r then a reason and Enter rejects,
    # s skips, ? shows the keys.
    page.locator("body").click(position={"x": 5, "y": 300})
    page.keyboard.press("j")
    fourth = wait_for_other_item(page, third)
    page.keyboard.press("k")
    assert wait_for_other_item(page, fourth) == third
    assert rows(server, "SELECT claimed_by FROM queue_items WHERE id = ?", (int(fourth),)) == [(None,)]
    page.keyboard.press("a")
    after_a = wait_for_other_item(page, third)
    page.keyboard.press("r")
    expect(page.get_by_label("Reason for rejecting")).to_be_focused()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    after_r = wait_for_other_item(page, after_a)
    page.keyboard.press("s")
    wait_for_other_item(page, after_r)
    page.keyboard.press("?")
    expect(page.get_by_role("dialog", name="Keyboard")).to_be_visible()
    shot(page, "queue-keys")
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog", name="Keyboard")).to_be_hidden()

    decided = rows(
        server,
        "SELECT q.id, d.action, d.note FROM decisions d JOIN queue_items q ON q.decision_id = d.id"
        " WHERE d.actor = ? ORDER BY d.id",
        (key_id,),
    )
    assert [(str(item), action) for item, action, _ in decided] == [
        (first, "approve"),
        (second, "reject"),
        (third, "approve"),
        (after_a, "reject"),
    ]
    assert decided[1][2] == "Insult or personal attack: name-calling"
    assert decided[3][2] == "Insult or personal attack"  # the first reason in the list, chosen by keyboard
    assert rows(server, "SELECT item_id FROM queue_skips WHERE moderator = ?", (key_id,)) == [(int(after_r),)]

    # Bulk: select two waiting comments and reject them with one reason.
    page.goto("/web/queue")
    boxes = page.locator(".item .select:not([disabled])")
    boxes.nth(0).check()
    boxes.nth(1).check()
    page.get_by_label("Action").select_option("reject")
    page.get_by_label("Reason", exact=True).select_option("spam")
    page.get_by_role("button", name="Apply to selected").click()
    expect(page.locator(".flash-ok")).to_contain_text("Rejected 2 comments.")
    assert rows(server, "SELECT count(*) FROM decisions WHERE actor = ? AND action = 'reject'", (key_id,)) == [(4,)]

    # The site hears about every moderator decision, signed.
    events = webhooks.wait_for(6)
    assert sorted(event["comment_id"] for event in events if event["decision"]["actor"] == key_id) == sorted(
        row[0] for row in rows(server, "SELECT comment_id FROM decisions WHERE actor = ?", (key_id,))
    )
    for headers, body in webhooks.received:
        assert verify_signature(WEBHOOK_SECRET, body, headers.get(SIGNATURE_HEADER)), headers

    # The other pages.
    page.get_by_role("link", name="Decisions").click()
    expect(page.get_by_role("heading", name="Decisions")).to_be_visible()
    shot(page, "decisions")
    page.locator("table.log tbody a").first.click()
    expect(page.get_by_role("heading", name="History")).to_be_visible()
    shot(page, "comment", full_page=True)
    page.get_by_role("link", name="Dashboard").click()
    expect(page.locator("svg.chart")).to_be_visible()
    shot(page, "dashboard", full_page=True)

    # Phone width: one column, nothing cut off sideways.
    phone = new_page(browser, server, width=390, height=844)
    sign_in(phone, server.keys["moderator"])
    expect(phone.locator("#item-detail")).to_be_visible()
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    shot(phone, "queue-phone")
    phone.context.close()

    # Sign out: the pages send you back to sign in.
    page.get_by_role("button", name="Sign out").click()
    expect(page.locator(".flash-ok")).to_contain_text("signed out")
    page.goto("/web/dashboard")
    expect(page.get_by_role("heading", name="Sign in", exact=True)).to_be_visible()
    page.context.close()


def test_admin_edits_a_threshold_and_sees_the_preview_change(browser: Any, server: LiveServer) -> None:
    from playwright.sync_api import expect

    page = new_page(browser, server, height=1000)
    sign_in(page, server.keys["admin"])
    page.get_by_role("link", name="Policy").click()
    rejected = page.locator("[data-preview='reject']")
    before = rejected.inner_text()
    assert before.startswith("0.0 %")  # the policy in force rejects nothing automatically
    page.get_by_label("insult review threshold", exact=True).fill("0.02")
    page.get_by_label("insult reject threshold", exact=True).fill("0.05")
    expect(rejected).not_to_have_text(before)
    assert float(rejected.inner_text().split(" %")[0]) > 0
    shot(page, "policy")
    page.get_by_role("button", name="Save the policy").click()
    expect(page.locator(".flash-ok")).to_contain_text("saved")
    status, policy = server.json("GET", "/v1/policy", key="admin")
    assert status == 200 and policy["thresholds"]["insult"] == {"reject": 0.05, "review": 0.02}

    page.get_by_role("link", name="Keys & users").click()
    page.get_by_label("Name", exact=True).fill("second moderator")
    page.get_by_role("button", name="Create key").click()
    secret = page.get_by_label("Key", exact=True).input_value()
    assert secret.startswith("mod_mod_")
    shot(page, "keys")
    # A moderator with a user name and password, who then signs in with them in another browser.
    page.get_by_label("User name", exact=True).fill("nora")
    page.get_by_label("Password (at least 12 characters)", exact=True).fill("correct horse battery")
    page.get_by_label("Password again", exact=True).fill("correct horse battery")
    page.get_by_role("button", name="Create user").click()
    expect(page.locator(".flash-ok")).to_contain_text("nora")
    other = new_page(browser, server)
    other.goto("/web/sign-in")
    other.get_by_label("User name", exact=True).fill("nora")
    other.get_by_label("Password", exact=True).fill("wrong password here")
    other.get_by_role("button", name="Sign in", exact=True).click()
    expect(other.locator("main")).to_contain_text("Unknown user name or wrong password")
    other.get_by_label("User name", exact=True).fill("nora")
    other.get_by_label("Password", exact=True).fill("correct horse battery")
    other.get_by_role("button", name="Sign in", exact=True).click()
    expect(other.get_by_role("heading", name="Queue")).to_be_visible()
    other.context.close()
    page.get_by_role("link", name="Models").click()
    expect(page.locator(".version.active")).to_be_visible()
    shot(page, "models")
    page.context.close()


# WCAG 2.1 contrast (1.4.3, AA) of every rendered text on the page: the text colour (or an SVG text's fill),
# with any transparency, over the backgrounds of its ancestors composited on white. Disabled controls and text
# hidden for screen readers only are exempt, as WCAG says.
LOW_CONTRAST_JS = """
() => {
  const parse = (value) => {
    const m = /rgba?\\(([^)]+)\\)/.exec(value || '');
    if (!m) return null;
    const p = m[1].split(/[ ,/]+/).filter(Boolean).map(Number);
    return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1};
  };
  const over = (top, bottom) => ({
    r: top.r * top.a + bottom.r * (1 - top.a), g: top.g * top.a + bottom.g * (1 - top.a),
    b: top.b * top.a + bottom.b * (1 - top.a), a: 1,
  });
  const channel = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
  const luminance = (c) => 0.2126 * channel(c.r) + 0.7152 * channel(c.g) + 0.0722 * channel(c.b);
  const found = [];
  const seen = new Set();
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const element = walker.currentNode.parentElement;
    if (!walker.currentNode.textContent.trim() || !element || seen.has(element)) continue;
    seen.add(element);
    const style = getComputedStyle(element);
    const box = element.getBoundingClientRect();
    if (style.visibility !== 'visible' || box.width <= 1 || box.height <= 1) continue;
    if (element.closest(':disabled, [aria-disabled="true"], .visually-hidden')) continue;
    const chain = [];
    let opacity = 1;
    for (let e = element; e; e = e.parentElement) {
      chain.unshift(e);
      opacity *= Number(getComputedStyle(e).opacity);
    }
    let background = {r: 255, g: 255, b: 255, a: 1};
    for (const e of chain) {
      const colour = parse(getComputedStyle(e).backgroundColor);
      if (colour && colour.a > 0) background = over(colour, background);
    }
    const text = parse(element instanceof SVGElement ? style.fill : style.color);
    if (!text) continue;
    const shown = over({...text, a: text.a * opacity}, background);
    const [light, dark] = [luminance(shown), luminance(background)].sort((x, y) => y - x);
    const ratio = (light + 0.05) / (dark + 0.05);
    const size = parseFloat(style.fontSize);
    const large = size >= 24 || (Number(style.fontWeight) >= 700 && size >= 18.66);
    if (ratio < (large ? 3 : 4.5)) {
      found.push(`${element.tagName.toLowerCase()}.${element.className} "${element.textContent.trim().slice(0, 30)}"`
        + ` ${style.color} on rgb(${Math.round(background.r)}, ${Math.round(background.g)},`
        + ` ${Math.round(background.b)}): ${ratio.toFixed(2)}`);
    }
  }
  return found;
}
"""


def test_every_page_meets_wcag_aa_contrast(browser: Any, server: LiveServer) -> None:
    from playwright.sync_api import expect

    no_rejects = {category: {"reject": None} for category in CATEGORIES}
    assert server.json("PUT", "/v1/policy", {"thresholds": no_rejects}, key="admin")[0] == 200
    body = {"id": "contrast-1", "text": "You idiot, I will hurt you, you stupid moron", "article_id": "budget"}
    status, answer = server.json("POST", "/v1/comments", {**body, "author_id": "reader-c"}, key="site")
    assert status == 201 and answer["status"] == "queued" and answer["spans"], answer
    item_id = server.json("GET", "/v1/comments/contrast-1", key="site")[1]["queue_item"]["id"]
    page = new_page(browser, server)
    page.goto("/web/sign-in")
    checked = {"sign-in": page.evaluate(LOW_CONTRAST_JS)}
    sign_in(page, server.keys["admin"])
    page.goto(f"/web/queue?item={item_id}")
    expect(page.locator("#item-detail mark").first).to_be_visible()  # highlighted spans, score bars, reasons
    checked["queue"] = page.evaluate(LOW_CONTRAST_JS)
    page.keyboard.press("?")
    checked["queue keys help"] = page.evaluate(LOW_CONTRAST_JS)
    page.keyboard.press("Escape")
    for name, path in [
        ("decisions", "/web/decisions"),
        ("comment", "/web/comments/contrast-1"),
        ("dashboard", "/web/dashboard"),
        ("policy", "/web/admin/policy"),
        ("keys", "/web/admin/keys"),
        ("models", "/web/admin/models"),
    ]:
        page.goto(path)
        expect(page.locator("main h1")).to_be_visible()
        checked[name] = page.evaluate(LOW_CONTRAST_JS)
    # The check itself can fail: grey #999 text on white is 2.85:1.
    page.evaluate(
        "() => { const p = document.createElement('p'); p.textContent = 'too faint';"
        " p.style.color = '#999999'; document.querySelector('main').append(p); }"
    )
    assert any('"too faint"' in found for found in page.evaluate(LOW_CONTRAST_JS))
    page.context.close()
    failing = {name: found for name, found in checked.items() if found}
    assert not failing, failing


def test_keyboard_focus_is_always_visible(browser: Any, server: LiveServer) -> None:
    page = new_page(browser, server)
    sign_in(page, server.keys["admin"])
    for path in ("/web/queue", "/web/admin/policy"):
        page.goto(path)
        focused: list[str] = []
        for _ in range(25):
            page.keyboard.press("Tab")
            found = page.evaluate(
                "() => { const e = document.activeElement; if (!e || e === document.body) return null;"
                " const s = getComputedStyle(e);"
                " const label = (e.textContent || e.name || '').trim().slice(0, 20);"
                " return [e.tagName + (e.id ? '#' + e.id : '') + ' ' + label, s.outlineStyle,"
                " parseFloat(s.outlineWidth)]; }"
            )
            if found is None:
                continue
            name, style, width = found
            assert style != "none" and width >= 2, f"{path}: focus on {name} is not visible ({style} {width}px)"
            focused.append(name)
        assert len(set(focused)) >= 10, focused  # the walk really moved through the page's controls
    page.context.close()


def test_models_page_follows_a_retrain_job_without_a_reload(browser: Any, server: LiveServer) -> None:
    from playwright.sync_api import expect

    from moderation.storage import store as st
    from moderation.training import jobs

    store = Store(server.db_path)
    job = jobs.create_job(store, jobs.RETRAIN, "browser test")  # a queued job, as start_retrain records one
    page = new_page(browser, server)
    sign_in(page, server.keys["admin"])
    page.goto(server.base_url + "/web/admin/models")
    row = page.locator(f'#jobs tr[data-job-state]:has(td:text-is("{job["id"]}"))')
    expect(row).to_have_attribute("data-job-state", "queued")
    page.evaluate("window.__sameDocument = true")  # gone if the page reloads
    with store.write() as db:
        started = st.iso(st.utcnow())
        st.update_job(db, job["id"], {"state": "running", "started_at": started, "stage": "featurize"}, ("queued",))
        st.update_job(db, job["id"], {"percent": 40.0, "heartbeat_at": started}, ("running",))
    expect(row).to_have_attribute("data-job-state", "running", timeout=10_000)
    expect(row).to_contain_text("featurize")
    expect(row).to_contain_text("40 %")
    expect(page.locator("#retrain-button")).to_be_disabled()  # one retrain at a time
    jobs._fail(store, job["id"], "stopped by the browser test")
    expect(row).to_have_attribute("data-job-state", "failed", timeout=10_000)
    expect(row).to_contain_text("stopped by the browser test")
    expect(page.locator("#retrain-button")).to_be_enabled(timeout=10_000)
    assert page.evaluate("window.__sameDocument") is True

    # A job that succeeds: its new version appears, with its comparison, without a reload.
    from moderation.settings import Settings
    from moderation.training import registry
    from tests.test_registry import comparison, make_candidate

    second = jobs.create_job(store, jobs.RETRAIN, "browser test")
    page.goto(server.base_url + "/web/admin/models")
    page.evaluate("window.__sameDocument = true")
    expect(page.locator("#retrain-button")).to_be_disabled()
    settings = Settings.from_env(server.env)
    worse = comparison(str(registry.active_version(store)), worse=["insult"])
    candidate = make_candidate(settings, store, 0.75, worse)
    with store.write() as db:
        now = st.iso(st.utcnow())
        done = {"state": "succeeded", "started_at": now, "finished_at": now, "percent": 100.0, "stage": "done"}
        done["result"] = json.dumps({"version": candidate, "outcome": "passed"})
        st.update_job(db, second["id"], done, ("queued",))
    version = page.locator("section.version").filter(has=page.locator(f'h2 code:text-is("{candidate}")'))
    expect(version).to_be_visible(timeout=10_000)
    expect(version.locator('table.comparison-table tr[data-verdict="worse"]')).to_contain_text("-0.200")
    expect(page.locator("#retrain-button")).to_be_enabled()
    assert page.evaluate("window.__sameDocument") is True
    store.close()


def test_every_page_fits_a_phone_screen(browser: Any, server: LiveServer) -> None:
    from playwright.sync_api import expect

    phone = new_page(browser, server, width=390, height=844)
    phone.goto("/web/sign-in")
    pages = {"sign-in": phone.evaluate("document.documentElement.scrollWidth - window.innerWidth")}
    sign_in(phone, server.keys["admin"])
    for name, path in [
        ("queue", "/web/queue"),
        ("decisions", "/web/decisions"),
        ("dashboard", "/web/dashboard"),
        ("policy", "/web/admin/policy"),
        ("keys", "/web/admin/keys"),
        ("models", "/web/admin/models"),
    ]:
        phone.goto(path)
        expect(phone.locator("main h1")).to_be_visible()
        # Wide tables scroll inside their own box; the page itself never scrolls sideways.
        pages[name] = phone.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    phone.evaluate(
        "() => { const wide = document.createElement('div'); wide.style.width = '2000px'; wide.style.height = '1em';"
        " document.querySelector('main').append(wide); }"
    )
    assert phone.evaluate("document.documentElement.scrollWidth - window.innerWidth") > 0  # the check can fail
    phone.context.close()
    overflowing = {name: extra for name, extra in pages.items() if extra > 1}
    assert not overflowing, overflowing


def test_a_version_measured_on_nothing_is_shown_so_and_activates_only_with_force(
    browser: Any, server: LiveServer
) -> None:
    from playwright.sync_api import expect

    from moderation.settings import Settings
    from moderation.training import registry
    from tests.test_promotion_gate import ISSUE_ROW
    from tests.test_registry import make_candidate

    settings = Settings.from_env(server.env)
    store = Store(server.db_path)
    shipped = str(registry.active_version(store))
    # Stored as the issue's retrain from five verdicts stored it: no hold-out rows at all, and `passed: true`.
    candidate = make_candidate(settings, store, 0.5, {**ISSUE_ROW, "active_version": shipped})
    page = new_page(browser, server)
    sign_in(page, server.keys["admin"])
    page.goto("/web/admin/models")
    card = page.locator("section.version").filter(has=page.locator(f'h2 code:text-is("{candidate}")'))
    comparison = card.locator("p.comparison")
    expect(comparison).to_have_attribute("data-outcome", "not measured")
    expect(comparison).to_contain_text("not measured on any category")
    expect(comparison).to_contain_text("Activating it needs force and a reason.")
    expect(page.locator("main")).not_to_contain_text("not worse")

    card.get_by_role("button", name=f"Activate {candidate}").click()
    expect(page.locator(".flash-error")).to_contain_text(f"Model version {candidate} was not measured")
    assert registry.active_version(store) == shipped
    card = page.locator("section.version").filter(has=page.locator(f'h2 code:text-is("{candidate}")'))
    card.get_by_label("Force (when it scored worse or was not measured)").check()
    card.get_by_label("Reason").fill("measured by hand on last week's comments")
    card.get_by_role("button", name=f"Activate {candidate}").click()
    expect(page.locator(".flash-ok")).to_contain_text(f"Model version {candidate} is active (force)")
    latest = registry.activations(store)[0]
    assert (latest["version"], latest["kind"]) == (candidate, "force")
    assert latest["reason"] == "measured by hand on last week's comments"
    registry.rollback(store, settings, "browser test", "back to the shipped model for the other tests")
    assert registry.active_version(store) == shipped
    page.context.close()
    store.close()


@pytest.mark.parametrize(("width", "height"), [(1366, 768), (390, 844)], ids=["laptop", "phone"])
def test_an_item_opened_low_in_the_queue_is_not_hidden_under_the_decision_bar(
    browser: Any, server: LiveServer, width: int, height: int
) -> None:
    from playwright.sync_api import expect

    page = new_page(browser, server, width=width, height=height)
    sign_in(page, server.keys["admin"])  # an admin's queue claims nothing until an item is opened
    page.goto("/web/queue")
    last = page.locator("#items .item").last
    item_id = str(last.get_attribute("data-item-id"))
    last.locator(".item-link").click()
    expect(page.locator("#item-detail")).to_have_attribute("data-item-id", item_id)
    seen = page.evaluate(
        "() => { const box = s => document.querySelector('#item-detail ' + s).getBoundingClientRect();"
        " return {bar: box('.decide').bottom, claim: box('.claim').top, heading: box('#detail-title').top,"
        " top: box('.comment-text').top, bottom: box('.comment-text').bottom, height: window.innerHeight}; }"
    )
    assert seen["bar"] <= seen["claim"] <= seen["heading"] <= seen["top"], seen  # nothing under the bar
    assert seen["bottom"] <= seen["height"], seen  # and the whole comment on screen
    shot(page, f"queue-last-item-{width}")
    if page.locator("#item-detail").get_attribute("data-mine") == "yes":  # give it back for the other tests
        assert server.json("POST", f"/v1/queue/{item_id}/release", None, key="admin")[0] == 200
    page.context.close()


def test_no_page_logs_a_console_error_or_fails_a_request(browser: Any, server: LiveServer) -> None:
    page = new_page(browser, server)
    problems: list[str] = []
    page.on("console", lambda message: message.type == "error" and problems.append(f"console: {message.text}"))
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    # A request the browser cancels itself when the page moves on (net::ERR_ABORTED) is not a failure.
    page.on(
        "requestfailed",
        lambda request: (
            "ERR_ABORTED" not in (request.failure or "") and problems.append(f"failed: {request.url} {request.failure}")
        ),
    )
    page.on(
        "response",
        lambda response: response.status >= 400 and problems.append(f"{response.status}: {response.url}"),
    )
    for path in ("/web/sign-in", "/docs"):
        page.goto(path)
        page.wait_for_load_state("networkidle")
    sign_in(page, server.keys["admin"])
    for path in (
        "/web/dashboard",
        "/web/queue",
        "/web/decisions",
        "/web/comments/b-1",
        "/web/admin/policy",
        "/web/admin/keys",
        "/web/admin/models",
    ):
        page.goto(path)
        page.wait_for_load_state("networkidle")
    icon = page.evaluate("document.querySelector('link[rel=icon]').href")
    assert page.request.get(icon).status == 200
    page.context.close()
    assert not problems, problems
