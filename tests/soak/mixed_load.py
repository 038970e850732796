"""A mixed load on real gunicorn, shared by the soak and its quick version in `make test`: comments from many
concurrent loopback clients while moderators decide queue items, a retrain runs and is promoted, and a client
floods the service with bad keys. Checks: no server error, no "database is locked", every acknowledged comment
has exactly one decision row, integrity_check ok and the hash chain holds. Prints requests/s and p50 / p99."""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.bench_service import generated_texts, real_texts
from tests.conftest import REPO, SHIPPED_MODEL
from tests.fault_fixtures import (
    assert_sound,
    call,
    database_report,
    decision_ids,
    make_keys,
    server_env,
    server_log_problems,
    start_group_server,
    submission_decisions,
)
from tests.soak.loadgen import percentile, post_comments


@dataclass(frozen=True)
class LoadPlan:
    """How big a mixed-load run is."""

    comments: int
    clients: int
    moderator_decisions: int
    retrain_after_decisions: int
    time_cap: float
    workers: str = "2"
    # The soak is long enough to require the promoted version to answer part of the load; a quick run may end
    # first (tests/test_e2e_retrain.py checks the hot swap under load on its own).
    swap_during_load: bool = True
    # The soak's retrain yields to the loaded machine as in production; the quick run's job runs at normal
    # priority so that it finishes on a machine other work keeps busy (see tests/conftest.py).
    job_yield: bool = True


@dataclass
class Side:
    """What the moderators, the retrain and the bad-key flood did beside the load."""

    decisions: dict[int, float] = field(default_factory=dict)  # decision id -> seconds it took
    decision_statuses: dict[int, int] = field(default_factory=dict)
    retrain: dict[str, object] = field(default_factory=dict)
    flood: dict[int, int] = field(default_factory=dict)
    flood_seconds: float = 0.0
    errors: list[str] = field(default_factory=list)


def _moderate(port: int, key: str, stop: threading.Event, side: Side, plan: LoadPlan) -> None:
    rng = random.Random(key)
    while len(side.decisions) < plan.moderator_decisions and not stop.is_set():
        claimed = call(port, "POST", "/v1/queue/next", key=key)
        if claimed.status == 204:
            time.sleep(0.05)
            continue
        if claimed.status != 200:
            side.errors.append(f"claim: {claimed.status} {claimed.error or claimed.body}")
            time.sleep(0.05)
            continue
        item = claimed.body
        action = rng.choice(("approve", "reject"))
        labels = {item["category"]: int(action == "reject")} if item.get("category") else None
        body = {"action": action, "version": item["version"], "reason": "soak verdict"}
        if labels:
            body["labels"] = labels
        started = time.perf_counter()
        decided = call(port, "POST", f"/v1/queue/{item['id']}/decision", body, key)
        side.decision_statuses[decided.status or 0] = side.decision_statuses.get(decided.status or 0, 0) + 1
        if decided.status == 200:
            side.decisions[int(decided.body["decision"]["id"])] = time.perf_counter() - started
        elif decided.status != 409:
            side.errors.append(f"decide: {decided.status} {decided.error or decided.body}")


def _retrain(port: int, key: str, stop: threading.Event, side: Side, plan: LoadPlan) -> None:
    # Early enough that the new version is trained, promoted and serving while the load still runs.
    while len(side.decisions) < plan.retrain_after_decisions and not stop.is_set():
        time.sleep(0.1)
    started = time.monotonic()
    answer = call(port, "POST", "/v1/models/train", key=key)
    if answer.status != 202:
        side.errors.append(f"train: {answer.status} {answer.body}")
        return
    job = answer.body["job"]
    while job["state"] in ("queued", "running") and time.monotonic() - started < plan.time_cap / 2:
        time.sleep(0.5)
        job = call(port, "GET", f"/v1/jobs/{job['id']}", key=key).body["job"]
    side.retrain["job_seconds"] = round(time.monotonic() - started, 1)
    side.retrain["state"] = job["state"]
    if job["state"] != "succeeded":
        side.errors.append(f"retrain job ended {job['state']}: {job.get('error')}")
        return
    version = job["result"]["version"]
    body = {} if job["result"]["passed"] else {"force": True, "reason": "soak: small verdict set"}
    activated = call(port, "POST", f"/v1/models/{version}/activate", body, key)
    if activated.status != 200:
        side.errors.append(f"activate: {activated.status} {activated.body}")
        return
    side.retrain.update(version=version, kind=activated.body["activation"]["kind"], passed=job["result"]["passed"])
    side.retrain["activated_at"] = time.time()
    side.retrain["activated_after_s"] = round(time.monotonic() - started, 1)


def _flood_bad_keys(port: int, stop: threading.Event, side: Side) -> None:
    n, started = 0, time.monotonic()
    while not stop.is_set():
        bad = f"mod_site_{n % 2**48:012x}_{'x' * 43}"
        answer = call(port, "GET", "/v1/decisions", key=bad)
        side.flood[answer.status or 0] = side.flood.get(answer.status or 0, 0) + 1
        n += 1
        side.flood_seconds = time.monotonic() - started
        time.sleep(0.01)


def _versions_served_now(port: int, key: str) -> set[str]:
    """The model versions that answer a few fresh comments now (workers pick a new version within a second)."""
    time.sleep(1.5)
    found = set()
    for n in range(12):
        comment = {"id": f"after-{n}", "text": "ok", "article_id": "a", "author_id": "u"}
        answer = call(port, "POST", "/v1/comments", comment, key)
        found.add(str(answer.body["model_version"]))
    return found


def run_mixed_load(tmp_path: Path, plan: LoadPlan) -> None:
    """Run the mixed load and assert everything it must show."""
    data = REPO.parent / "shared" / "data"
    texts = real_texts(data, plan.comments, 0.08) if data.is_dir() else []
    source = "real comments, 8 % abusive" if texts else "generated texts"
    texts = texts or generated_texts(plan.comments)
    comments = [
        {
            "id": f"soak-{n}",
            "text": texts[n],
            "article_id": f"article-{n % 50}",
            "section": ("news", "sport", "culture")[n % 3],
            "author_id": f"author-{n % 700}",
            "ip": f"198.51.100.{n % 250}",
        }
        for n in range(plan.comments)
    ]
    db_path = tmp_path / "moderation.db"
    made = make_keys(db_path)
    # One site key sends every comment: its limit is checked on every request, far above what is sent.
    env = server_env(
        db_path, SHIPPED_MODEL, "soak-secret", MODERATION_RATE_LIMIT="1000000", MODERATION_RATE_BURST="1000000"
    )
    env["WEB_CONCURRENCY"] = plan.workers  # the configured workers (default 2)
    env["MODERATION_JOB_YIELD"] = "true" if plan.job_yield else "false"
    server = start_group_server(tmp_path / "server", env)
    port = int(server.base_url.rsplit(":", 1)[1])
    side, stop = Side(), threading.Event()
    helpers = [
        threading.Thread(target=_retrain, args=(port, made["admin"], stop, side, plan)),
        threading.Thread(target=_flood_bad_keys, args=(port, stop, side)),
        # Two moderators (an admin moderates too) working the queue side by side.
        threading.Thread(target=_moderate, args=(port, made["moderator"], stop, side, plan)),
        threading.Thread(target=_moderate, args=(port, made["admin"], stop, side, plan)),
    ]
    try:
        for helper in helpers:
            helper.start()
        posted, wall = post_comments(port, made["site"], comments, plan.clients, 4, plan.time_cap)
        # The load is over; the moderators and the retrain finish their share (bounded).
        for helper in (helpers[0], helpers[2], helpers[3]):
            helper.join(plan.time_cap / 3)
        served_after = _versions_served_now(port, made["site"])
    finally:
        stop.set()
        for helper in helpers:
            helper.join(60)
        server.stop(60)
    problems = server_log_problems(server)

    rate = len(posted.latencies) / wall
    p50, p99 = percentile(posted.latencies, 0.5) * 1000, percentile(posted.latencies, 0.99) * 1000
    decision_times = list(side.decisions.values())
    print(
        f"\nmixed load: gunicorn {server.env.get('WEB_CONCURRENCY', '2')} workers, shipped model, {source}; "
        f"{plan.comments} comments at {plan.clients} clients in {wall:.1f} s = {rate:.0f} req/s, "
        f"p50 {p50:.1f} ms, p99 {p99:.1f} ms, "
        f"max {max(posted.latencies) * 1000:.0f} ms; statuses {posted.statuses}; "
        f"cut connections {len(posted.transport_errors)}\n"
        f"mixed load: {len(side.decisions)} moderator decisions (p50 {percentile(decision_times, 0.5) * 1000:.1f} ms, "
        f"p99 {percentile(decision_times, 0.99) * 1000:.1f} ms), statuses {side.decision_statuses}\n"
        f"mixed load: retrain {side.retrain}; answers by model version {posted.model_versions}; "
        f"served after {served_after}\n"
        f"mixed load: requests over 0.5 s: {len(posted.slowest)}, started at (s after the retrain's activation) "
        f"{sorted(round(at - float(side.retrain.get('activated_at', 0)), 2) for at, _ in posted.slowest)[:12]}\n"
        f"mixed load: bad-key flood over {side.flood_seconds:.0f} s: statuses {side.flood}"
    )
    assert not side.errors, side.errors[:5]
    assert not problems, problems[:5]
    assert not posted.bodies_5xx and all(status < 500 for status in posted.statuses), posted.statuses
    assert not posted.transport_errors, posted.transport_errors[:5]
    assert len(posted.acknowledged) == plan.comments == posted.statuses.get(201, 0)

    stored = submission_decisions(db_path)
    assert set(stored) >= set(posted.acknowledged)
    assert all(stored[c] == [d] for c, d in posted.acknowledged.items()), "exactly one decision, the one answered"
    assert len(side.decisions) >= plan.moderator_decisions and set(side.decisions) <= decision_ids(db_path)
    assert side.retrain.get("state") == "succeeded" and served_after == {side.retrain.get("version")}
    if plan.swap_during_load:
        assert side.retrain.get("version") in posted.model_versions, "the new version took over during the load"
    # The default allowance: 20 failures a minute from one address; the rest of the flood is 429.
    assert side.flood.get(429, 0) > 0 and side.flood.get(401, 0) <= 21 + 20 * side.flood_seconds / 60
    report = database_report(db_path)
    assert_sound(report)
    print(f"mixed load: database {report['comments']} comments, {report['decisions']} decisions, integrity, chain ok")
