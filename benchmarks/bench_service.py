"""Benchmark the HTTP service under gunicorn: POST /v1/comments against /healthz, at 8 concurrent clients.

Run with `make bench`. The server is started the way `make run` starts it (`moderation serve`), on a
temporary database and a free loopback port; the load comes from separate client processes, each with
threads on keep-alive-capable `http.client` connections (the sync workers close each connection, so the
clients reconnect as a real site would). The request count and the time are bounded. Every figure printed
is measured in this run; then the rows in the database are counted against the acknowledged requests.
Then each hostile text (emoji floods, zero-width padding, 20,000-character junk, disguised insults) is posted
alone, three times: its median wall time must stay within 100 ms. Last, POST /v1/comments p99 is measured
without and then during a retrain (`POST /v1/models/train`, a full one from the base corpora when --data is at
hand, plus an imported labelled file), in a few rounds that meet the job at different stages: the p99 of the
requests sent while a job ran may be at most half as high again as that of the quiet rounds.
Then, given a cascade (--cascade; by default build/cascade.model, or the shipped model when it carries stage 2),
the same load goes, in alternating rounds, to a server using the cascade and to one using its stage 1 alone,
with comments from the site-like stream attach-stage2 measures its routing on: requests/s of each, the share
answered by stage 2, each worker's resident memory, and the cascade's p99 during a retrain.
"""

from __future__ import annotations

import argparse
import csv
import http.client
import io
import itertools
import json
import multiprocessing as mp
import os
import random
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import warnings
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks.host import describe_host  # noqa: E402  (the repository is on the path now)
from benchmarks.hostile_texts import BENIGN, DISGUISED, JUNK  # noqa: E402
from moderation.training.job_process import cpu_ticks  # noqa: E402

if TYPE_CHECKING:
    from model.artifact import Artifact

TARGET_RATIO = 0.60  # scoring-and-recording req/s as a share of /healthz req/s
TARGET_P99_MS = 25.0
TARGET_RETRAIN_P99_RISE = 0.5  # scoring p99 while a model retrains: at most this much above without
TARGET_HOSTILE_MS = 100.0  # one hostile comment, alone, over HTTP
TARGET_CASCADE_RATE_SHARE = 0.5  # the cascade's POST /v1/comments req/s as a share of its stage 1 alone's
TARGET_STAGE2_SHARE = 0.25  # share of a site-like stream's comments answered by stage 2
TARGET_WORKER_RSS_MB = 350.0  # a cascade worker's resident memory after the load
TARGET_ANALYZE_P99_RATIO = 1.2  # Perspective's analyze p99 as a multiple of /v1/score's, measured side by side
PERSPECTIVE_ROUNDS = 2
MAX_POSTED_CHARS = 20_000  # the longest text the API accepts
# The cascade comparison's stream: another draw than attach-stage2's (seed 5), so the routing bounds are not
# measured on the very comments they were chosen on.
STREAM_SEED = 17

# ---------------------------------------------------------------------------
# Comment texts


SUBJECTS = [
    "the mayor",
    "this article",
    "the council",
    "the new stadium",
    "the school board",
    "the author",
    "the minister",
    "my neighbour",
    "the referee",
    "the budget",
]
OPINIONS = [
    "makes a fair point",
    "is missing the bigger picture",
    "should publish the numbers",
    "got this completely wrong",
    "deserves more credit",
    "is asking the right question",
    "ignores what happened last year",
    "was right about the bus lanes",
]
EXTRAS = [
    "Thanks for the reporting.",
    "I read it twice.",
    "Where are the sources?",
    "Great photos too.",
    "We saw the same thing in our town.",
    "Not sure I agree with the ending.",
    "Shut up, you idiot.",
    "What a clown.",
    "This is garbage journalism.",
    "Check out my channel http://spam.example/win",
    "Honestly this is the best piece I have read all week.",
]


def generated_texts(count: int, seed: int = 5) -> list[str]:
    """Varied comment-like texts, 1 to 6 sentences, when no real comments are at hand."""
    rng = random.Random(seed)
    texts = []
    for _ in range(count):
        sentences = [f"{rng.choice(SUBJECTS).capitalize()} {rng.choice(OPINIONS)}."]
        sentences += rng.sample(EXTRAS, rng.randint(0, 5))
        texts.append(" ".join(sentences))
    return texts


def real_texts(data: Path, count: int, abusive_share: float, seed: int = 5) -> list[str]:
    """Real comments from ../shared/data at a site-like base rate: clean Jigsaw talk-page comments, with
    `abusive_share` of them drawn from its toxic rows and the Civil Comments toxic posts."""
    clean: list[str] = []
    abusive: list[str] = []
    csv.field_size_limit(10_000_000)
    jigsaw = data / "jigsaw_toxic_2018" / "train_subset.csv"
    civil = data / "civil_comments_toxic_spans" / "comments.csv"
    if jigsaw.is_file():
        labels = ("toxic", "severe_toxic", "obscene", "threat", "insult", "identity_hate")
        with jigsaw.open(newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                text = (row.get("comment_text") or "").strip()
                if text and len(text) <= 5000:
                    (abusive if any(row.get(label) == "1" for label in labels) else clean).append(text)
    if civil.is_file():
        with civil.open(newline="", encoding="utf-8") as handle:
            abusive.extend(t for row in csv.DictReader(handle) if (t := (row.get("comment_text") or "").strip()))
    if not clean or not abusive:
        return []
    rng = random.Random(seed)
    return [rng.choice(abusive if rng.random() < abusive_share else clean) for _ in range(count)]


# ---------------------------------------------------------------------------
# Load generation (runs in child processes)


@dataclass
class Job:
    """What one client process does: which requests, how many threads, when to stop."""

    host: str
    port: int
    method: str
    path: str
    headers: dict[str, str]
    bodies: list[bytes] | None  # one per request, or None for no body
    total: int
    threads: int
    deadline: float  # time.time() after which no new request starts
    tally_answers: bool = False  # read each 201 answer and count which stage answered it, and why (answer_kind)


@dataclass
class Outcome:
    """What one client process measured."""

    latencies: list[float] = field(default_factory=list)
    started: list[float] = field(default_factory=list)  # time.time() each answered request was sent
    statuses: dict[int, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    cpu_seconds: float = 0.0  # the client process's own CPU time (user + system) for the phase
    answers: dict[str, int] = field(default_factory=dict)  # answer_kind -> count, when the job tallies answers


def answer_kind(raw: bytes) -> str:
    """Which stage answered a comment and the kind of its route reason, e.g. 'stage 2: names a group'."""
    try:
        answer = json.loads(raw)
    except ValueError:
        return "an answer that is not JSON"
    if answer.get("stage") is None:
        return "no stage (a model without stage 2)"
    reason = str(answer.get("route_reason") or "no reason given")
    if "above its clear bound" in reason:
        reason = f"{reason.split()[0]} above its clear bound"  # '<category> <score> above its clear bound <bound>'
    else:
        reason = reason.split(":")[0]  # 'names a group: 'women'' -> 'names a group'
    return f"stage {answer['stage']}: {reason}"


def _client_process(job: Job, offset: int, step: int, queue: Any) -> None:
    """Send requests offset, offset+step, ... below job.total from `job.threads` threads; report an Outcome."""
    outcome = Outcome()
    lock = threading.Lock()
    indices = iter(range(offset, job.total, step))

    def worker() -> None:
        connection = http.client.HTTPConnection(job.host, job.port, timeout=30)
        while time.time() < job.deadline:
            with lock:
                index = next(indices, None)
            if index is None:
                break
            body = job.bodies[index] if job.bodies is not None else None
            sent_at = time.time()
            started = time.perf_counter()
            try:
                connection.request(job.method, job.path, body=body, headers=job.headers)
                response = connection.getresponse()
                raw = response.read()
                status = response.status
                if response.getheader("Connection", "").lower() == "close":
                    connection.close()
            except (OSError, http.client.HTTPException) as error:
                connection.close()
                with lock:
                    outcome.errors.append(f"{type(error).__name__}: {error}")
                continue
            elapsed = time.perf_counter() - started
            with lock:
                outcome.latencies.append(elapsed)
                outcome.started.append(sent_at)
                outcome.statuses[status] = outcome.statuses.get(status, 0) + 1
                if job.tally_answers and status == 201:
                    kind = answer_kind(raw)
                    outcome.answers[kind] = outcome.answers.get(kind, 0) + 1
        connection.close()

    cpu_before = time.process_time()
    threads = [threading.Thread(target=worker) for _ in range(job.threads)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    outcome.cpu_seconds = time.process_time() - cpu_before
    queue.put(outcome)


def run_load(job: Job, processes: int) -> tuple[Outcome, float]:
    """Run a job over `processes` client processes; the merged outcome and the wall time."""
    context = mp.get_context("fork")
    queue = context.Queue()
    children = [context.Process(target=_client_process, args=(job, i, processes, queue)) for i in range(processes)]
    started = time.perf_counter()
    for child in children:
        child.start()
    outcomes = [queue.get() for _ in children]
    wall = time.perf_counter() - started
    for child in children:
        child.join()
    return merged_outcome(outcomes), wall


def merged_outcome(outcomes: list[Outcome]) -> Outcome:
    """One outcome holding all of these outcomes' requests."""
    merged = Outcome()
    for outcome in outcomes:
        merged.latencies.extend(outcome.latencies)
        merged.started.extend(outcome.started)
        merged.errors.extend(outcome.errors)
        merged.cpu_seconds += outcome.cpu_seconds
        for status, count in outcome.statuses.items():
            merged.statuses[status] = merged.statuses.get(status, 0) + count
        for kind, count in outcome.answers.items():
            merged.answers[kind] = merged.answers.get(kind, 0) + count
    return merged


# ---------------------------------------------------------------------------
# The server


def free_port() -> int:
    """A loopback port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def default_model(work: Path) -> Path:
    """The shipped model, or (until it exists) a tiny one trained on the test fixtures."""
    shipped = REPO / "models" / "default.model"
    if shipped.is_file():
        return shipped
    from tests.model_fixtures import train_tiny_model

    print("models/default.model is missing: benchmarking a tiny model trained on the test fixtures")
    return train_tiny_model(work)


def start_server(
    work: Path, model: Path, workers: int, synchronous: str, base_corpora: str = ""
) -> tuple[subprocess.Popen[bytes], str, int]:
    """`moderation serve` as `make run` does it; (process, admin key, port) once /readyz answers."""
    port = free_port()
    env = {
        **os.environ,
        "MODERATION_DB": str(work / "bench.db"),
        "MODERATION_MODEL": str(model),
        "MODERATION_SYNCHRONOUS": synchronous,
        "PORT": str(port),
        "MODERATION_HOST": "127.0.0.1",
        "WEB_CONCURRENCY": str(workers),
        # One site key sends every request: keep its limit checked on each one, but far above what is sent.
        "MODERATION_RATE_LIMIT": "1000000",
        "MODERATION_RATE_BURST": "1000000",
    }
    env.pop("MODERATION_WEBHOOK_URL", None)
    env.pop("MODERATION_BASE_CORPORA", None)
    if base_corpora:
        env["MODERATION_BASE_CORPORA"] = base_corpora
    out = (work / "server.out").open("wb")
    err = (work / "server.err").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "moderation", "serve"],
        cwd=REPO,
        env=env,
        stdout=out,
        stderr=err,
        stdin=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited: {(work / 'server.err').read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as response:
                if response.status == 200:
                    break
        except OSError:
            time.sleep(0.2)
    else:
        process.terminate()
        raise SystemExit("server did not get ready in 90 s")
    # The first line `serve` prints on stdout is the admin key made on first start.
    admin_key = (work / "server.out").read_text().splitlines()[0].strip()
    return process, admin_key, port


def create_key(port: int, admin_key: str, role: str) -> str:
    """A new key of this role, made over the API."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/v1/keys",
        data=json.dumps({"role": role, "name": f"bench {role}"}).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {admin_key}"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return str(json.loads(response.read())["secret"])


def api_call(
    port: int, key: str, method: str, path: str, body: bytes | None = None, content_type: str = "application/json"
) -> tuple[int, Any]:
    """One request to the service; (status, parsed JSON answer), error statuses included."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        data=body,
        headers={"Content-Type": content_type, "Authorization": f"Bearer {key}"},
        method=method,
    )
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


# ---------------------------------------------------------------------------
# Hostile texts, one at a time, over HTTP


def hostile_phase(port: int, site_key: str, repeats: int = 3) -> tuple[float, float, int]:
    """POST each hostile text `repeats` times (fresh ids), one at a time; (worst median ms, slowest ms, not 201)."""
    cases = {**BENIGN, **JUNK, **DISGUISED}
    worst, slowest, failures = 0.0, 0.0, 0
    print(f"hostile texts, one request at a time over HTTP ({repeats} each; wall time, median / slowest):")
    for number, (case, text) in enumerate(cases.items()):
        timings = []
        for repeat in range(repeats):
            body = {"id": f"hostile-{number}-{repeat}", "text": text, "article_id": "a", "author_id": f"h-{number}"}
            raw = json.dumps(body, ensure_ascii=False).encode()  # as sites send it: UTF-8, not \u escapes
            started = time.perf_counter()
            status, answer = api_call(port, site_key, "POST", "/v1/comments", raw)
            timings.append((time.perf_counter() - started) * 1000)
            if status != 201:
                failures += 1
                print(f"  {case}: HTTP {status} {answer}")
        median = statistics.median(timings)
        worst, slowest = max(worst, median), max(slowest, *timings)
        print(f"  {case:<38}{len(text):>7} chars  {median:7.1f} / {max(timings):7.1f} ms")
    return worst, slowest, failures


# ---------------------------------------------------------------------------
# Scoring while a model retrains


JIGSAW_COLUMNS = {
    "toxic": "toxicity",
    "severe_toxic": "severe_toxicity",
    "obscene": "obscene",
    "threat": "threat",
    "insult": "insult",
    "identity_hate": "identity_attack",
}


def retrain_rows(data: Path, count: int) -> tuple[list[dict[str, Any]], str]:
    """Labelled rows for the retrain phase: Jigsaw's labelled comments when at hand, else generated ones."""
    jigsaw = data / "jigsaw_toxic_2018" / "train_subset.csv"
    rows: list[dict[str, Any]] = []
    if jigsaw.is_file():
        csv.field_size_limit(10_000_000)
        with jigsaw.open(newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                text = (row.get("comment_text") or "").strip()
                if text and len(rows) < count:
                    rows.append({"text": text, **{ours: int(row[theirs]) for theirs, ours in JIGSAW_COLUMNS.items()}})
        if rows:
            return rows, f"{len(rows)} labelled Jigsaw comments"
    for i, text in enumerate(generated_texts(count, seed=11)):
        insult = int("idiot" in text or "clown" in text)
        rows.append(
            {
                "text": f"{text} ({i})",
                "toxicity": int(insult or "garbage" in text),
                "insult": insult,
                "spam": int("http" in text),
            }
        )
    return rows, f"{len(rows)} generated labelled comments"


def _epoch(stamp: str | None) -> float:
    return datetime.fromisoformat(stamp).timestamp() if stamp else float("inf")


def wait_for_job(
    port: int, admin_key: str, job_id: int, states: tuple[str, ...], timeout: float, running_from: float | None = None
) -> dict[str, Any]:
    """Poll the job until its state is one of `states`, or it runs at `running_from` percent or more (or the
    timeout passes); the job as last seen."""
    deadline = time.monotonic() + timeout
    while True:
        job = api_call(port, admin_key, "GET", f"/v1/jobs/{job_id}")[1]["job"]
        reached = running_from is not None and job["state"] == "running" and job["percent"] >= running_from
        if job["state"] in states or reached or time.monotonic() > deadline:
            return dict(job)
        time.sleep(0.1)


def job_pid(db_path: Path, job_id: int) -> int | None:
    """The process running a job, from its row."""
    with sqlite3.connect(db_path) as db:
        row = db.execute("SELECT pid FROM jobs WHERE id = ?", (job_id,)).fetchone()
    return int(row[0]) if row and row[0] else None


def cpu_seconds(pid: int | None) -> float:
    """CPU time (user + system) a process has used so far, 0 when unknown (Linux /proc)."""
    try:
        return cpu_ticks(Path(f"/proc/{pid}/stat")) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return 0.0


def tree_cpu_seconds(root: int) -> float:
    """CPU time used so far by a process and its children (gunicorn's master and workers; Linux /proc)."""
    total = cpu_seconds(root)
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == root:
            total += cpu_seconds(int(stat.parent.name))
    return total


def stop_job(db_path: Path, job_id: int) -> None:
    """SIGTERM a job's process that outlived the benchmark's patience (it records that it was stopped)."""
    pid = job_pid(db_path, job_id)
    if pid:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass


def retrain_if_asked(
    args: argparse.Namespace, base_corpora: str | None, what: str, port: int, admin_key: str, db_path: Path, load: Any
) -> dict[str, Any] | None:
    """retrain_phase on `--retrain-rows` imported rows, announced as measuring `what`; None when that is 0."""
    if args.retrain_rows <= 0:
        return None
    rows, described = retrain_rows(args.data, args.retrain_rows)
    kind = f"a full retrain from {base_corpora}" if base_corpora else "a retrain adapting the active model"
    print(
        f"{what} while a model retrains ({kind}, {described} imported; {args.retrain_rounds} rounds of "
        f"{args.retrain_requests} requests without, then during a retrain):"
    )
    return retrain_phase(port, admin_key, db_path, load, rows, args.retrain_requests, args.retrain_rounds)


def retrain_phase(
    port: int,
    admin_key: str,
    db_path: Path,
    load: Any,
    rows: list[dict[str, Any]],
    requests: int,
    rounds: int,
) -> dict[str, Any] | None:
    """POST /v1/comments p99 without a retrain, then while a retrain job (its own low-priority process) runs.

    One p99 from a few thousand requests swings by a fifth between two quiet phases, so the comparison is made
    `rounds` times: each round measures a quiet phase, starts a retrain, and measures again once the job has
    reached its share of the way (round k of n waits for k/n of the job's progress, so the rounds see its
    different stages: loading, featurizing, fitting, evaluating). The p99 of all the rounds' quiet requests is
    compared with the p99 of all the requests sent while a job ran.
    `load(prefix, count)` runs one bounded load phase and returns (outcome, wall). Only requests sent while
    the job was running count for the second figure.
    """
    body = "".join(json.dumps(row) + "\n" for row in rows).encode()
    status, answer = api_call(port, admin_key, "POST", "/v1/datasets?name=bench.jsonl", body, "application/x-ndjson")
    if status != 201:
        print(f"  retrain phase skipped: importing the dataset answered {status} {answer}")
        return None
    quiet: list[dict[str, float]] = []
    busy: list[dict[str, float]] = []
    quiet_latencies: list[float] = []
    busy_latencies: list[float] = []
    overlaps: list[float] = []
    errors = 0
    for round_number in range(rounds):
        quiet_outcome, quiet_wall = load(f"quiet{round_number}", requests)
        quiet.append(summary(f"round {round_number + 1}: no retrain", quiet_outcome, quiet_wall))
        quiet_latencies += quiet_outcome.latencies
        status, answer = api_call(port, admin_key, "POST", "/v1/models/train")
        if status != 202:
            print(f"  retrain phase skipped: starting the retrain answered {status} {answer}")
            return None
        job = wait_for_job(
            port, admin_key, answer["job"]["id"], ("succeeded", "failed"), 600, 100.0 * round_number / rounds
        )
        pid = job_pid(db_path, job["id"])
        cpu_before = cpu_seconds(pid)
        busy_outcome, busy_wall = load(f"busy{round_number}", requests)
        job_cpu = cpu_seconds(pid) - cpu_before
        ended = wait_for_job(port, admin_key, job["id"], ("succeeded", "failed"), 0)
        began, finished = _epoch(ended["started_at"]), _epoch(ended["finished_at"])
        during = Outcome(
            latencies=[
                latency
                for latency, sent in zip(busy_outcome.latencies, busy_outcome.started, strict=True)
                if began <= sent <= finished
            ],
            statuses=busy_outcome.statuses,
            errors=busy_outcome.errors,
        )
        busy.append(summary(f"round {round_number + 1}: retraining", during, busy_wall))
        busy_latencies += during.latencies
        overlaps.append(busy[-1]["done"] / max(len(busy_outcome.latencies), 1))
        print(
            f"  {'':<22} from the job's stage '{job['stage']}' ({job['percent']:.0f}%): {busy[-1]['done']:.0f} of "
            f"{len(busy_outcome.latencies)} sent while it ran; it used {max(job_cpu, 0) / busy_wall:.0%} of one core"
        )
        finished_job = wait_for_job(port, admin_key, job["id"], ("succeeded", "failed"), 900)
        if finished_job["state"] in ("queued", "running"):
            stop_job(db_path, job["id"])
        print(
            f"  {'':<22} retrain job {job['id']}: {finished_job['state']} after {finished_job['elapsed_seconds']} s"
            f"{'; ' + finished_job['error'] if finished_job['error'] else ''}"
        )
        errors += sum(
            len(outcome.errors) + sum(count for status, count in outcome.statuses.items() if status != 201)
            for outcome in (quiet_outcome, busy_outcome)
        )
        errors += finished_job["state"] != "succeeded"
    quiet_p99 = percentile(quiet_latencies, 0.99) * 1000
    busy_p99 = percentile(busy_latencies, 0.99) * 1000
    quiet_each = ", ".join(f"{phase['p99']:.1f}" for phase in quiet)
    busy_each = ", ".join(f"{phase['p99']:.1f}" for phase in busy)
    print(
        f"  p99 over all {rounds} rounds: {quiet_p99:.2f} ms of {len(quiet_latencies)} requests without a retrain "
        f"(rounds: {quiet_each}), {busy_p99:.2f} ms of {len(busy_latencies)} during one (rounds: {busy_each})"
    )
    return {"quiet_p99": quiet_p99, "busy_p99": busy_p99, "overlap": min(overlaps), "errors": errors}


# ---------------------------------------------------------------------------
# Where the time goes: the same work in this process, without HTTP


def in_process_breakdown(work: Path, model: Path, texts: list[str], count: int = 1000) -> None:
    """Time, on one core and without a server, the app's /healthz and POST /v1/comments and their parts."""
    from api import create_app
    from api.ratelimit import BucketTable
    from moderation import keys, service
    from moderation.policy import AuthorHistory, CommentFacts, decide
    from moderation.policy_changes import get_policy
    from moderation.settings import Settings

    settings = Settings.from_env({"MODERATION_DB": str(work / "inproc.db"), "MODERATION_MODEL": str(model)})
    app = create_app({"SETTINGS": settings})
    found = app.extensions["moderation"]
    _, secret = keys.create_key(found.store, "site")
    scorer = found.scorer
    sample = [texts[i % len(texts)] for i in range(count)]

    def environ(method: str, path: str, body: bytes = b"") -> dict[str, Any]:
        return {
            "REQUEST_METHOD": method,
            "PATH_INFO": path,
            "QUERY_STRING": "",
            "SERVER_NAME": "bench",
            "SERVER_PORT": "80",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.input_terminated": True,
            "CONTENT_LENGTH": str(len(body)),
            "CONTENT_TYPE": "application/json",
            "HTTP_AUTHORIZATION": f"Bearer {secret}",
            "REMOTE_ADDR": "127.0.0.1",
        }

    def call(env: dict[str, Any]) -> None:
        for _ in app.wsgi_app(env, lambda status, headers, exc_info=None: None):
            pass

    def body(prefix: str, i: int) -> bytes:
        return json.dumps(
            {
                "id": f"{prefix}{i}",
                "text": sample[i],
                "article_id": "a",
                "author_id": f"u{i % 700}",
                "ip": "198.51.100.7",
            }
        ).encode()

    def per_call_ms(function: Any) -> float:
        started = time.perf_counter()
        for i in range(count):
            function(i)
        return (time.perf_counter() - started) / count * 1000

    buckets = BucketTable(work / "ratelimit.buckets")  # file-backed and under flock, as under gunicorn
    policy = get_policy(found.store, scorer)
    for i in range(200):  # warm every path (caches, first calls) before timing
        call(environ("GET", "/healthz"))
        call(environ("POST", "/v1/comments", body("warm", i)))
    rows = [
        ("app: GET /healthz", per_call_ms(lambda i: call(environ("GET", "/healthz")))),
        ("app: POST /v1/comments", per_call_ms(lambda i: call(environ("POST", "/v1/comments", body("w", i))))),
        (
            "  of which submit_comment()",
            per_call_ms(
                lambda i: service.submit_comment(found.store, scorer, settings, json.loads(body("d", i)), "bench")
            ),
        ),
        (
            "  of which the rate-limit check",
            per_call_ms(lambda i: buckets.take("keys", f"key-{i % 20}", rate=1e9, capacity=1e9)),
        ),
        ("    of which scoring + spans", per_call_ms(lambda i: scorer.score(sample[i]))),
        ("    of which scoring alone", per_call_ms(lambda i: scorer.score(sample[i], explain=False))),
        (
            "    of which the policy",
            per_call_ms(
                lambda i: decide(
                    scorer.score(sample[i], explain=False).scores, policy, CommentFacts(sample[i]), AuthorHistory()
                )
            )
            - per_call_ms(lambda i: scorer.score(sample[i], explain=False)),
        ),
    ]
    found.store.close()
    buckets.close()
    print(f"where the time goes (this process, one core, no HTTP server; {count} calls each):")
    for name, value in rows:
        print(f"  {name:<32} {value:7.3f} ms")


def policy_terms_timing(count: int = 10_000) -> None:
    """Time, in this process, loading a policy of `count` blocked terms (half of them repeated) and using it."""
    from moderation.policy import AuthorHistory, CommentFacts, decide
    from moderation.policy_document import policy_from_document

    syllables = [c + v for c in "bcdfghjklmnprstvz" for v in "aeiou"]
    words = ["".join(parts) for parts in itertools.islice(itertools.product(syllables, repeat=3), count)]
    document = {"blocked_terms": words[: count // 2] + words[: count // 2], "watched_terms": words[count // 2 :]}
    started = time.perf_counter()
    policy = policy_from_document(document, {})
    parsed = time.perf_counter()
    decide({}, policy, CommentFacts("a first comment, which builds the term matcher"), AuthorHistory())
    first = time.perf_counter()
    for i in range(1000):
        decide({}, policy, CommentFacts(f"comment {i} mentions {words[i % count]} once"), AuthorHistory())
    each = (time.perf_counter() - first) / 1000
    print(
        f"policy with {count:,} terms ({len(policy.blocked_terms):,} blocked once duplicates go, "
        f"{len(policy.watched_terms):,} watched): parse {(parsed - started) * 1000:.1f} ms, "
        f"first comment (builds the matcher) {(first - parsed) * 1000:.1f} ms, then {each * 1000:.3f} ms a comment"
    )


# ---------------------------------------------------------------------------
# The cascade beside its stage 1 alone


def chosen_cascade(option: str | None) -> tuple[Path | None, str]:
    """The cascade file to measure and where it came from, or None and why there is none.

    A --cascade that is not a cascade is an error; without one, build/cascade.model, else the shipped model when
    it carries stage 2 (a cascade's manifest has a stage2 section).
    """
    from model.artifact import ModelLoadError, read_manifest

    if option == "":
        return None, "--cascade '' asked for none"
    if option is not None:
        try:
            manifest = read_manifest(Path(option))
        except ModelLoadError as error:
            raise SystemExit(f"--cascade: {error}") from error
        if not isinstance(manifest.get("stage2"), dict):
            raise SystemExit(f"--cascade: {option} has no stage2 section in its manifest, so it is not a cascade")
        return Path(option), "--cascade"
    reasons = []
    for candidate, how in (
        (REPO / "build" / "cascade.model", "written by attach-stage2"),
        (REPO / "models" / "default.model", "the shipped model"),
    ):
        if not candidate.is_file():
            reasons.append(f"{candidate.relative_to(REPO)} does not exist")
            continue
        try:
            manifest = read_manifest(candidate)
        except ModelLoadError as error:
            reasons.append(str(error))
            continue
        if isinstance(manifest.get("stage2"), dict):
            return candidate, how
        reasons.append(f"{candidate.relative_to(REPO)} carries no stage 2")
    return None, "; ".join(reasons) + " (make model ships one in models/default.model, or pass --cascade PATH)"


def write_stage1_alone(loaded: Artifact, out: Path) -> str:
    """Write a cascade's linear part as a stage-1 model file under stage 1's own thresholds; its version."""
    from model import artifact

    manifest = {
        **loaded.manifest,  # save() leaves out the stage2 section
        "thresholds": artifact.stage1_thresholds_of(loaded.manifest),
        "version": loaded.manifest["stage2"].get("stage1_version") or f"{loaded.version}-stage1",
    }
    return str(artifact.save(loaded.model, manifest, out)["version"])


def site_stream_texts(loaded: Artifact, data: Path, count: int) -> tuple[list[str], str, bool]:
    """`count` comments drawn as attach-stage2 draws its routing stream, or generated texts; what they are, and
    whether they are the site-like stream.

    model.cascade.site_stream draws them (8 % abusive, with replacement; another seed than attach-stage2's) from
    the cascade's stage-1 calibration rows of `data`, which neither stage trained on: clean ones from ordinary
    discussion, abusive ones from every corpus. Texts the API would refuse as too long are left out of the pool.
    """
    from model import cascade
    from model.corpora import CorpusWarning
    from model.stage2.attach import STREAM_CLEAN_CORPORA, calibration_rows, is_abusive

    def fallback(why: str) -> tuple[list[str], str, bool]:
        return generated_texts(count), f"the bench's generated texts, NOT a site-like stream ({why})", False

    if not data.is_dir():
        return fallback(f"{data} is missing")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", CorpusWarning)  # folders that are not corpora the loader knows
            rows = calibration_rows(loaded, [data])
    except ValueError as error:  # TrainingDataError: no corpora under data
        return fallback(str(error))
    rows = [row for row in rows if row.example.text.strip() and len(row.example.text) <= MAX_POSTED_CHARS]
    abusive = [is_abusive(row) for row in rows]
    pool = [i for i, row in enumerate(rows) if abusive[i] or row.example.corpus in STREAM_CLEAN_CORPORA]
    clean_from = ", ".join(STREAM_CLEAN_CORPORA)
    if all(abusive[i] for i in pool):  # as attach-stage2 does when none of those corpora is at hand
        pool, clean_from = list(range(len(rows))), "every corpus"
    try:
        drawn = [pool[i] for i in cascade.site_stream([abusive[i] for i in pool], count, seed=STREAM_SEED)]
    except ValueError as error:
        return fallback(f"no site-like stream in {data}: {error}")
    share = sum(abusive[i] for i in drawn) / len(drawn)
    described = (
        f"a site-like stream (model.cascade.site_stream, seed {STREAM_SEED}, {share:.1%} abusive) from {len(pool)} "
        f"calibration rows of {data} that neither stage trained on, clean ones from {clean_from}"
    )
    return [rows[i].example.text for i in drawn], described, True


def comment_body(number: int, prefix: str, text: str) -> bytes:
    """One POST /v1/comments body, as every load phase sends them."""
    return json.dumps(
        {
            "id": f"{prefix}-{number}",
            "text": text,
            "article_id": f"article-{number % 50}",
            "section": ("news", "sport", "culture")[number % 3],
            "author_id": f"author-{number % 700}",
            "ip": f"198.51.100.{number % 250}",
        }
    ).encode()


def worker_rss_mb(master: int) -> list[float]:
    """Resident memory (VmRSS, MB) of each gunicorn worker, that is each child of the master (Linux /proc)."""
    sizes = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) != master:
                continue
            status = (stat.parent / "status").read_text()
        except (OSError, IndexError, ValueError):
            continue  # a process that ended meanwhile
        sizes += [int(line.split()[1]) / 1024 for line in status.splitlines() if line.startswith("VmRSS:")]
    return sorted(sizes)


def stop_server(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the server (gunicorn stops gracefully), SIGKILL after 30 s."""
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@dataclass
class ComparedServer:
    """One of the two servers of the cascade comparison, and what its load rounds measured."""

    name: str
    process: subprocess.Popen[bytes]
    port: int
    admin_key: str
    site_key: str
    outcomes: list[Outcome] = field(default_factory=list)
    wall: float = 0.0
    server_cpu: float = 0.0

    def job(self, bodies: list[bytes], threads: int, time_cap: float) -> Job:
        """POST these bodies to /v1/comments, counting which stage answered each."""
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {self.site_key}"}
        return Job(
            "127.0.0.1",
            self.port,
            "POST",
            "/v1/comments",
            headers,
            bodies,
            len(bodies),
            threads,
            time.time() + time_cap,
            tally_answers=True,
        )


def cascade_comparison(
    work: Path, cascade_file: Path, args: argparse.Namespace, processes: int, threads: int, base_corpora: str
) -> dict[str, Any]:
    """POST /v1/comments under the cascade and under its stage 1 alone, then the cascade's p99 during a retrain.

    Both servers run side by side (the idle one costs nothing) and take turns: in each round the same slice of
    the stream goes to one and then the other, the first of them alternating, so drifts in the machine's other
    load fall on both alike. Each worker's resident memory is read after the last round.
    """
    from model import artifact

    loaded = artifact.load(cascade_file)
    stage1_version = write_stage1_alone(loaded, work / "stage1-alone.model")
    rounds = max(1, args.cascade_rounds)
    per_round = max(1, args.requests // rounds)
    warm = min(400, args.requests)
    texts, source, site_like = site_stream_texts(loaded, args.data, warm + per_round * rounds)
    print(
        f"cascade beside its stage 1 alone: {cascade_file} (version {loaded.version}) and its stage 1 as a file of "
        f"its own ({stage1_version}, stage 1's own thresholds); {source}; mean text "
        f"{statistics.fmean(map(len, texts)):.0f} chars; {rounds} rounds of {per_round} requests to each, "
        f"{threads * processes} clients over {processes} processes"
    )
    servers: list[ComparedServer] = []
    try:
        for name, model_file in (("cascade", cascade_file), ("stage 1 alone", work / "stage1-alone.model")):
            folder = work / name.replace(" ", "-")
            folder.mkdir()
            process, admin_key, port = start_server(folder, model_file, args.workers, args.synchronous, base_corpora)
            servers.append(ComparedServer(name, process, port, admin_key, create_key(port, admin_key, "site")))
        cascade_server, stage1_server = servers
        warm_bodies = [comment_body(i, "warm", text) for i, text in enumerate(texts[:warm])]
        for server in servers:
            run_load(server.job(warm_bodies, threads, args.time_cap), processes)
        for round_number in range(rounds):
            start = warm + round_number * per_round
            chunk = texts[start : start + per_round]
            bodies = [comment_body(start + i, "compare", text) for i, text in enumerate(chunk)]
            for server in servers if round_number % 2 == 0 else servers[::-1]:
                cpu_before = tree_cpu_seconds(server.process.pid)
                outcome, wall = run_load(server.job(bodies, threads, args.time_cap), processes)
                server.server_cpu += tree_cpu_seconds(server.process.pid) - cpu_before
                server.outcomes.append(outcome)
                server.wall += wall
        memory = {server.name: worker_rss_mb(server.process.pid) for server in servers}
        print("measured (all rounds together):")
        outcomes = {server.name: merged_outcome(server.outcomes) for server in servers}
        figures = {
            server.name: summary(server.name, outcomes[server.name], server.wall, server.server_cpu)
            for server in servers
        }
        answers = outcomes["cascade"].answers
        answered = sum(answers.values())
        by_stage2 = sum(count for kind, count in answers.items() if kind.startswith("stage 2"))
        print(f"  which stage answered the cascade's {answered} accepted comments, and why:")
        for kind, count in sorted(answers.items(), key=lambda item: (item[0][:7], -item[1])):
            print(f"    {count / max(answered, 1):6.1%}  {kind}")
        for server in servers:
            sizes = ", ".join(f"{size:.0f}" for size in memory[server.name])
            print(f"  {server.name}: each worker's resident memory after the load: {sizes} MB")
        stop_server(stage1_server.process)

        retrain = retrain_if_asked(
            args,
            base_corpora,
            "the cascade's scoring",
            cascade_server.port,
            cascade_server.admin_key,
            work / "cascade" / "bench.db",
            lambda prefix, count: run_load(
                cascade_server.job(
                    [comment_body(i, prefix, texts[i % len(texts)]) for i in range(count)], threads, args.time_cap
                ),
                processes,
            ),
        )
        if args.retrain_rows > 0:
            sizes = ", ".join(f"{size:.0f}" for size in worker_rss_mb(cascade_server.process.pid))
            print(f"  cascade: each worker's resident memory after the retrain phase: {sizes} MB")
    finally:
        for server in servers:
            if server.process.poll() is None:
                stop_server(server.process)
    cascade_outcome, stage1_outcome = outcomes["cascade"], outcomes["stage 1 alone"]
    sent = 2 * per_round * rounds
    return {
        "cascade": figures["cascade"],
        "stage1": figures["stage 1 alone"],
        "stage2_share": by_stage2 / answered if answered else float("nan"),
        "cascade_rss": memory["cascade"],
        "stage1_rss": memory["stage 1 alone"],
        "answered": len(cascade_outcome.latencies) + len(stage1_outcome.latencies),
        "sent": sent,
        "errors": sum(
            len(outcome.errors) + sum(count for status, count in outcome.statuses.items() if status != 201)
            for outcome in (cascade_outcome, stage1_outcome)
        ),
        "retrain": retrain,
        "retrain_wanted": args.retrain_rows > 0,
        "site_like": site_like,
    }


def cascade_checks(comparison: dict[str, Any], retrain_rounds: int) -> tuple[list[tuple[bool, str]], list[str]]:
    """The issue's targets for a cascade, from what cascade_comparison measured in this run; and what it could not
    check (the stage-2 share means nothing on generated texts)."""
    cascade_rate, stage1_rate = comparison["cascade"]["rate"], comparison["stage1"]["rate"]
    ratio = cascade_rate / stage1_rate if stage1_rate else 0.0
    largest = max(comparison["cascade_rss"], default=float("inf"))
    checks = [
        (
            comparison["errors"] == 0 and comparison["answered"] == comparison["sent"],
            f"cascade comparison: errors {comparison['errors']} (target 0), {comparison['answered']} of "
            f"{comparison['sent']} requests answered within the time cap",
        ),
        (
            ratio >= TARGET_CASCADE_RATE_SHARE,
            f"cascade POST /v1/comments at {ratio:.0%} of stage 1 alone's req/s ({cascade_rate:.0f} vs "
            f"{stage1_rate:.0f}; p99 {comparison['cascade']['p99']:.1f} vs {comparison['stage1']['p99']:.1f} ms; "
            f"target >= {TARGET_CASCADE_RATE_SHARE:.0%}, gap {ratio - TARGET_CASCADE_RATE_SHARE:+.0%})",
        ),
        (
            largest <= TARGET_WORKER_RSS_MB,
            f"cascade: largest worker resident memory {largest:.0f} MB after the load "
            f"(target <= {TARGET_WORKER_RSS_MB:.0f} MB; stage 1 alone's: "
            f"{max(comparison['stage1_rss'], default=float('nan')):.0f} MB)",
        ),
    ]
    share = f"{comparison['stage2_share']:.1%} answered by stage 2 (target <= {TARGET_STAGE2_SHARE:.0%})"
    skipped = []
    if comparison["site_like"]:
        ok = comparison["stage2_share"] <= TARGET_STAGE2_SHARE
        checks.insert(2, (ok, f"cascade: of the site-like stream, {share}"))
    else:
        skipped.append(f"cascade: the site-like stream's share answered by stage 2 (generated texts: {share})")
    if comparison["retrain"] is not None:
        checks += retrain_checks(comparison["retrain"], retrain_rounds, "cascade: ")
    elif comparison["retrain_wanted"]:
        skipped.append("cascade: POST /v1/comments p99 during a retrain (the retrain phase did not start; see above)")
    return checks, skipped


# ---------------------------------------------------------------------------
# Reporting


def analyze_body(text: str) -> bytes:
    """A comments:analyze body as Coral sends it (one attribute, English, not to be stored)."""
    return json.dumps(
        {"comment": {"text": text}, "requestedAttributes": {"TOXICITY": {}}, "languages": ["en"], "doNotStore": True}
    ).encode()


def perspective_phase(run: Any, texts: list[str], total: int) -> tuple[dict[str, float], dict[str, float], int]:
    """POST /v1/score and Perspective's comments:analyze (key in the URL, as Coral sends it) on the same texts, in
    alternating rounds; each one's summary over all rounds, and the answers that were not 200."""
    per_round = max(1, total // PERSPECTIVE_ROUNDS)
    outcomes: dict[str, list[Outcome]] = {"score": [], "analyze": []}
    walls = {"score": 0.0, "analyze": 0.0}
    for round_number in range(PERSPECTIVE_ROUNDS):
        chosen = [texts[(round_number * per_round + i) % len(texts)] for i in range(per_round)]
        for name in ("score", "analyze") if round_number % 2 == 0 else ("analyze", "score"):
            bodies = [json.dumps({"text": t}).encode() if name == "score" else analyze_body(t) for t in chosen]
            outcome, wall = run(name, bodies)
            outcomes[name].append(outcome)
            walls[name] += wall
    score = summary("POST /v1/score", merged_outcome(outcomes["score"]), walls["score"])
    analyze = summary("POST comments:analyze", merged_outcome(outcomes["analyze"]), walls["analyze"])
    failed = sum(
        count for found in outcomes.values() for o in found for status, count in o.statuses.items() if status != 200
    ) + sum(len(o.errors) for found in outcomes.values() for o in found)
    return score, analyze, failed


def percentile(values: list[float], share: float) -> float:
    """The `share` quantile (nearest rank) of the values."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def summary(name: str, outcome: Outcome, wall: float, server_cpu: float | None = None) -> dict[str, float]:
    """Print and return requests/s, p50 and p99 for one phase (and CPU per request, server and clients)."""
    done = len(outcome.latencies)
    rate = done / wall if wall else 0.0
    p50 = percentile(outcome.latencies, 0.50) * 1000
    p99 = percentile(outcome.latencies, 0.99) * 1000
    statuses = ", ".join(f"{status}: {count}" for status, count in sorted(outcome.statuses.items()))
    print(
        f"  {name:<22} {done:>6} answered in {wall:6.2f} s  {rate:8.1f} req/s   p50 {p50:6.2f} ms   "
        f"p99 {p99:6.2f} ms   mean {statistics.fmean(outcome.latencies) * 1000 if done else 0:6.2f} ms"
    )
    print(f"  {'':<22} statuses {{{statuses}}}; transport errors: {len(outcome.errors)}")
    if server_cpu is not None and done:
        # Where a phase's CPU went: the server tree (master + workers) and the load generator, per request.
        print(
            f"  {'':<22} CPU per request: server {server_cpu / done * 1000:.2f} ms, "
            f"load generator {outcome.cpu_seconds / done * 1000:.2f} ms"
        )
    for error in outcome.errors[:3]:
        print(f"  {'':<22}   {error}")
    return {"rate": rate, "p50": p50, "p99": p99, "done": done}


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=5000, help="Requests per measured phase.")
    parser.add_argument("--clients", type=int, default=8, help="Concurrent clients (threads over all processes).")
    parser.add_argument("--processes", type=int, default=2, help="Client processes the clients are spread over.")
    parser.add_argument("--time-cap", type=float, default=60.0, help="Seconds at most per measured phase.")
    parser.add_argument("--workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", "2")))
    parser.add_argument("--synchronous", default=os.environ.get("MODERATION_SYNCHRONOUS", "NORMAL"))
    parser.add_argument("--model", type=Path, default=None, help="Model file (default: the shipped one).")
    parser.add_argument(
        "--data",
        type=Path,
        default=REPO.parent / "shared" / "data",
        help="Real comments to post, when present (else generated texts).",
    )
    parser.add_argument(
        "--abusive-share",
        type=float,
        default=0.08,
        help="Share of abusive comments among the real ones (sites see roughly 2-10 %%).",
    )
    parser.add_argument(
        "--retrain-rows",
        type=int,
        default=12000,
        help="Labelled rows imported for the retrain phase (0 skips it); more rows make the job last longer.",
    )
    parser.add_argument(
        "--retrain-requests", type=int, default=3000, help="Requests per phase of the retrain comparison."
    )
    parser.add_argument(
        "--retrain-rounds", type=int, default=3, help="Rounds of the retrain comparison (a retrain each)."
    )
    parser.add_argument(
        "--base-corpora",
        default=None,
        help="MODERATION_BASE_CORPORA for the server, so a retrain is a full one (default: --data when present; "
        "'' for none, so a retrain adapts the active model).",
    )
    parser.add_argument(
        "--cascade",
        default=None,
        help="A cascade model file to measure beside its stage 1 alone (default: build/cascade.model if present, "
        "else models/default.model when it carries stage 2; '' for none).",
    )
    parser.add_argument(
        "--cascade-rounds",
        type=int,
        default=2,
        help="Rounds of the cascade comparison; each sends --requests / rounds comments to each server.",
    )
    args = parser.parse_args()
    cascade_file, cascade_why = chosen_cascade(args.cascade)
    processes = max(1, min(args.processes, args.clients))
    threads = max(1, args.clients // processes)
    clients = threads * processes

    with tempfile.TemporaryDirectory(prefix="bench-service-") as directory:
        work = Path(directory)
        model = args.model or default_model(work)
        texts = real_texts(args.data, args.requests, args.abusive_share) if args.data.is_dir() else []
        source = f"real comments from {args.data} ({args.abusive_share:.0%} abusive)" if texts else "generated texts"
        texts = texts or generated_texts(args.requests)
        base_corpora = args.base_corpora if args.base_corpora is not None else str(args.data) * args.data.is_dir()
        process, admin_key, port = start_server(work, model, args.workers, args.synchronous, base_corpora)
        try:
            site_key = create_key(port, admin_key, "site")
            print(
                f"service benchmark: gunicorn {args.workers} sync workers, synchronous={args.synchronous}, "
                f"model {model.name}, {clients} clients over {processes} processes, {args.requests} requests "
                f"per phase (cap {args.time_cap:.0f} s), {source}, "
                f"mean text {statistics.fmean(map(len, texts)):.0f} chars"
            )
            print(f"host: {describe_host()}")
            json_headers = {"Content-Type": "application/json", "Authorization": f"Bearer {site_key}"}

            def comment_bodies(prefix: str, count: int) -> list[bytes]:
                return [comment_body(i, prefix, texts[i % len(texts)]) for i in range(count)]

            def job(method: str, path: str, headers: dict[str, str], bodies: list[bytes] | None, total: int) -> Job:
                return Job(
                    "127.0.0.1", port, method, path, headers, bodies, total, threads, time.time() + args.time_cap
                )

            warm = min(400, args.requests)
            run_load(job("GET", "/healthz", {}, None, warm), processes)
            run_load(job("POST", "/v1/comments", json_headers, comment_bodies("warm", warm), warm), processes)

            print("measured:")
            cpu_before = tree_cpu_seconds(process.pid)
            base_outcome, base_wall = run_load(job("GET", "/healthz", {}, None, args.requests), processes)
            base = summary("GET /healthz", base_outcome, base_wall, tree_cpu_seconds(process.pid) - cpu_before)
            bodies = comment_bodies("bench", args.requests)
            cpu_before = tree_cpu_seconds(process.pid)
            post_outcome, post_wall = run_load(
                job("POST", "/v1/comments", json_headers, bodies, args.requests), processes
            )
            post = summary("POST /v1/comments", post_outcome, post_wall, tree_cpu_seconds(process.pid) - cpu_before)

            hostile_worst, hostile_slowest, hostile_failures = hostile_phase(port, site_key)

            def perspective_load(name: str, bodies: list[bytes]) -> tuple[Outcome, float]:
                if name == "score":
                    return run_load(job("POST", "/v1/score", json_headers, bodies, len(bodies)), processes)
                path = f"/v1alpha1/comments:analyze?key={site_key}"
                plain = {"Content-Type": "application/json"}
                return run_load(job("POST", path, plain, bodies, len(bodies)), processes)

            score_side, analyze_side, perspective_failures = perspective_phase(perspective_load, texts, args.requests)

            retrain = retrain_if_asked(
                args,
                base_corpora,
                "scoring",
                port,
                admin_key,
                work / "bench.db",
                lambda prefix, count: run_load(
                    job("POST", "/v1/comments", json_headers, comment_bodies(prefix, count), count), processes
                ),
            )
        finally:
            stop_server(process)

        with sqlite3.connect(work / "bench.db") as db:
            comments = db.execute("SELECT count(*) FROM comments WHERE id LIKE 'bench-%'").fetchone()[0]
            decisions = db.execute(
                "SELECT count(*) FROM decisions WHERE comment_id LIKE 'bench-%' AND kind = 'submission'"
            ).fetchone()[0]
            by_status = dict(
                db.execute(
                    "SELECT status, count(*) FROM decisions WHERE comment_id LIKE 'bench-%' GROUP BY status"
                ).fetchall()
            )
        acknowledged = post_outcome.statuses.get(201, 0)
        print(
            f"  database: {comments} comments and {decisions} submission decisions for {acknowledged} acknowledged "
            f"posts; statuses {by_status}"
        )
        in_process_breakdown(work, model, texts)
        policy_terms_timing()
        comparison = None
        if cascade_file is not None:
            comparison = cascade_comparison(work, cascade_file, args, processes, threads, base_corpora)
        else:
            print("cascade beside stage 1 alone: skipped, no cascade model file (see the results)")

    errors = (
        len(base_outcome.errors)
        + len(post_outcome.errors)
        + sum(count for status, count in base_outcome.statuses.items() if status != 200)
        + sum(count for status, count in post_outcome.statuses.items() if status != 201)
    )
    ratio = post["rate"] / base["rate"] if base["rate"] else 0.0
    print("results:")
    checks = [
        (errors == 0, f"errors: {errors} (target 0)"),
        (
            comments == decisions == acknowledged and acknowledged == post["done"],
            f"decisions recorded {decisions} = requests acknowledged {acknowledged} (of {post['done']} answered)",
        ),
        (
            ratio >= TARGET_RATIO,
            f"scoring-and-recording at {ratio:.0%} of the /healthz req/s ({post['rate']:.0f} vs {base['rate']:.0f}; "
            f"target >= {TARGET_RATIO:.0%}, gap {ratio - TARGET_RATIO:+.0%})",
        ),
        (
            post["p99"] <= TARGET_P99_MS,
            f"POST /v1/comments p99 {post['p99']:.2f} ms at {clients} clients (target <= {TARGET_P99_MS:.0f} ms, "
            f"gap {post['p99'] - TARGET_P99_MS:+.2f} ms)",
        ),
        (
            hostile_failures == 0 and hostile_worst <= TARGET_HOSTILE_MS,
            f"hostile texts over HTTP: slowest median {hostile_worst:.1f} ms (target <= {TARGET_HOSTILE_MS:.0f} ms; "
            f"slowest single request {hostile_slowest:.1f} ms), {hostile_failures} not accepted (target 0)",
        ),
        (
            post["done"] == args.requests and base["done"] == args.requests,
            f"all requests sent within the time cap ({base['done']} + {post['done']} of {2 * args.requests})",
        ),
    ]
    analyze_ratio = analyze_side["p99"] / score_side["p99"] if score_side["p99"] else float("inf")
    checks.append(
        (
            perspective_failures == 0 and analyze_ratio <= TARGET_ANALYZE_P99_RATIO,
            f"Perspective's comments:analyze p99 {analyze_side['p99']:.2f} ms vs POST /v1/score "
            f"{score_side['p99']:.2f} ms on the same texts, side by side: {analyze_ratio:.2f}x "
            f"(target <= {TARGET_ANALYZE_P99_RATIO:.1f}x); "
            f"{analyze_side['rate']:.0f} vs {score_side['rate']:.0f} req/s; {perspective_failures} not 200 (target 0)",
        )
    )
    if retrain is not None:
        checks += retrain_checks(retrain, args.retrain_rounds)
    skipped = [f"the cascade beside stage 1 alone (no cascade model file: {cascade_why})"]
    if comparison is not None:
        cascade_results, skipped = cascade_checks(comparison, args.retrain_rounds)
        checks += cascade_results
    for ok, text in checks:
        print(f"  {verdict(ok)}  {text}")
    for text in skipped:
        print(f"  SKIP  {text}")
    return 0 if all(ok for ok, _ in checks) else 1


def retrain_checks(retrain: dict[str, Any], rounds: int, label: str = "") -> list[tuple[bool, str]]:
    """The retrain phase's checks: no errors, enough overlap with the job, p99 risen at most by half."""
    idle_p99, busy_p99 = retrain["quiet_p99"], retrain["busy_p99"]
    rise = busy_p99 / idle_p99 - 1 if idle_p99 else float("inf")
    return [
        (retrain["errors"] == 0, f"{label}errors in the retrain phases: {retrain['errors']} (target 0)"),
        (
            retrain["overlap"] >= 0.5,
            f"{label}at least {retrain['overlap']:.0%} of each retraining phase's requests were sent while the job "
            "ran (target >= 50%; raise --retrain-rows if lower)",
        ),
        (
            rise <= TARGET_RETRAIN_P99_RISE,
            f"{label}POST /v1/comments p99 during a retrain {busy_p99:.2f} ms vs {idle_p99:.2f} ms without "
            f"(over {rounds} rounds): {rise:+.0%} (target at most {TARGET_RETRAIN_P99_RISE:+.0%})",
        ),
    ]


if __name__ == "__main__":
    sys.exit(main())
