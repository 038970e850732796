"""A full disk: the API answers 503 with a clear error and Retry-After, writes nothing partial, and works again by
itself once space returns. In process with SQLite's page cap; on real gunicorn with a small tmpfs when this
machine lets the test mount one (root), else that part is skipped."""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from moderation.storage import store as st
from tests.conftest import LiveServer
from tests.fault_fixtures import (
    Tally,
    assert_sound,
    call,
    children,
    comment_body,
    database_report,
    make_keys,
    post_until_acknowledged,
    start_group_server,
)

Auth = Callable[[str], dict[str, str]]


def _fill_until_503(client: FlaskClient, headers: dict[str, str], limit: int = 2000) -> tuple[int, object]:
    for n in range(limit):
        response = client.post("/v1/comments", json=comment_body(n, "fill-"), headers=headers)
        if response.status_code == 503:
            return n, response
        assert response.status_code == 201, response.get_data(as_text=True)
    raise AssertionError(f"the disk never filled in {limit} comments")


def test_page_cap_full_is_503_with_nothing_partial_then_recovers(
    app: Flask, client: FlaskClient, auth: Auth, db_path: Path
) -> None:
    site, moderator = auth("site"), auth("moderator")
    for n in range(8):
        assert client.post("/v1/comments", json=comment_body(n, "before-"), headers=site).status_code == 201
    store = app.extensions["moderation"].store
    # The disk "fills": this connection may not grow the file past the pages it has now.
    st.set_max_page_count(store.db, int(st.pragma(store.db, "page_count")))
    accepted, refused = _fill_until_503(client, site)
    body = refused.get_json()  # type: ignore[attr-defined]
    assert body["error"] == "unavailable" and "full" in body["message"]
    assert int(refused.headers["Retry-After"]) > 0  # type: ignore[attr-defined]
    before = database_report(db_path)
    assert_sound(before)
    assert before["comments"] == 8 + accepted

    # Everything else that writes is refused whole too: a batch, a moderator's decision, a new key.
    batch = {"comments": [comment_body(n, "batch-") for n in range(5)]}
    assert client.post("/v1/comments/batch", json=batch, headers=site).status_code == 503
    claimed = client.post("/v1/queue/next", headers=moderator)
    if claimed.status_code == 200:
        item = claimed.get_json()
        decided = client.post(
            f"/v1/queue/{item['id']}/decision", json={"action": "reject", "version": item["version"]}, headers=moderator
        )
        assert decided.status_code in (200, 503)
    assert client.get("/v1/decisions?limit=5", headers=site).status_code == 200  # reads still work
    assert_sound(database_report(db_path))
    assert database_report(db_path)["comments"] == before["comments"]

    # Space returns: the same process, the same connection, no restart.
    st.set_max_page_count(store.db, 1_000_000_000)
    assert client.post("/v1/comments", json=comment_body(0, "after-"), headers=site).status_code == 201
    assert client.post("/v1/comments/batch", json=batch, headers=site).status_code == 200
    assert client.get("/readyz").status_code == 200
    after = database_report(db_path)
    assert_sound(after)
    assert after["comments"] == before["comments"] + 6


@pytest.fixture
def small_disk() -> Iterator[Path]:
    """A 3 MB tmpfs mounted for this test (needs root and a kernel that allows it), unmounted after."""
    mount_point = Path(tempfile.mkdtemp(prefix="moderation-small-disk-"))
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=3m,mode=0700", "tmpfs", str(mount_point)], capture_output=True, text=True
    )
    if mounted.returncode != 0:
        mount_point.rmdir()
        pytest.skip(f"cannot mount a small tmpfs here: {mounted.stderr.strip() or mounted.returncode}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)
        shutil.rmtree(mount_point, ignore_errors=True)


def _fill_disk(directory: Path) -> Path:
    """Write a ballast file until the file system is full; its path."""
    ballast = directory / "ballast"
    chunk = b"\0" * 65536
    with ballast.open("wb") as handle:
        try:
            while True:
                handle.write(chunk)
                handle.flush()
        except OSError as error:
            assert error.errno == errno.ENOSPC
    return ballast


@pytest.mark.slow
def test_a_really_full_disk_under_gunicorn(small_disk: Path, tiny_model_path: Path, tmp_path: Path) -> None:
    db_path = small_disk / "moderation.db"
    made = make_keys(db_path)
    env = {
        "MODERATION_DB": str(db_path),
        "MODERATION_MODEL": str(tiny_model_path),
        "MODERATION_MODELS_DIR": str(tmp_path / "models"),
        "MODERATION_SECRET_KEY": "faults-secret",
        "MODERATION_RATE_LIMIT": "0",
    }
    server: LiveServer = start_group_server(tmp_path / "server", env)
    port = int(server.base_url.rsplit(":", 1)[1])
    try:
        workers = children(server.process.pid)
        tally = Tally()
        for n in range(20):
            assert post_until_acknowledged(port, made["site"], comment_body(n, "ok-"), tally, time.monotonic() + 10)
        ballast = _fill_disk(small_disk)
        refused = None
        deadline = time.monotonic() + 60
        n = 0
        while refused is None and time.monotonic() < deadline:
            answer = call(port, "POST", "/v1/comments", comment_body(n, "full-"), made["site"])
            assert answer.status in (201, 503), answer
            if answer.status == 201:
                tally.acknowledged[f"full-{n}"] = answer.body["decision_id"]
            else:
                refused = answer
            n += 1
        assert refused is not None, "the service kept accepting comments on a full disk"
        assert refused.body["error"] == "unavailable", refused.body
        for m in range(5):  # and keeps answering 503, never 500, while the disk stays full
            answer = call(port, "POST", "/v1/comments", comment_body(m, "still-full-"), made["site"])
            assert answer.status in (201, 503) and answer.status is not None, answer
        assert call(port, "GET", "/v1/decisions?limit=3", key=made["site"]).status == 200

        ballast.unlink()  # space returns; nothing is restarted
        recovered = None
        deadline = time.monotonic() + 30
        while recovered is None and time.monotonic() < deadline:
            answer = call(port, "POST", "/v1/comments", comment_body(0, "after-"), made["site"])
            if answer.status in (200, 201):
                recovered = answer
            time.sleep(0.1)
        assert recovered is not None, "the service did not recover once space returned"
        for m in range(1, 20):
            assert post_until_acknowledged(port, made["site"], comment_body(m, "after-"), tally, time.monotonic() + 10)
        assert children(server.process.pid) == workers  # the same workers: recovered, not restarted
    finally:
        server.stop()
    out, err = server.logs()
    assert '"status": 500' not in out and "Traceback" not in err, err[-3000:]
    print(f"disk full after {n} more comments; {len(tally.acknowledged)} acknowledged in all")
    report = database_report(db_path)
    assert_sound(report)
    stored = set(_comment_ids(db_path))
    assert set(tally.acknowledged) <= stored
    assert (
        not {i for i in stored if i.startswith(("full-", "still-full-"))}
        - set(tally.acknowledged)
        - {f"still-full-{m}" for m in range(5)}
    )


def _comment_ids(db_path: Path) -> list[str]:
    import sqlite3

    with sqlite3.connect(db_path) as db:
        return [row[0] for row in db.execute("SELECT id FROM comments")]


def test_no_leftover_mounts() -> None:
    leftovers = [line for line in Path("/proc/mounts").read_text().splitlines() if "moderation-small-disk-" in line]
    assert not leftovers or os.geteuid() != 0, leftovers
