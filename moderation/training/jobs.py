"""Training jobs: one at a time, each run in its own low-priority process, with progress and outcome in the database.

`start_retrain` records a queued job and launches `python -m moderation.training.job_process ID` in a new session (so a
web worker's restart does not take it down); that process minds the job, which runs as its child: the child
lowers its priority before anything else, then runs `run-job ID`, and the minder pauses it while the machine is
busy (see job_process). `run-job` marks the job running, writes its stage and percent as it goes plus a
heartbeat every few seconds, and records success with the new version or failure with the error. A job whose
process is gone without a result is marked failed the next time anyone looks, so a crash never blocks retraining;
one that is alive but waiting for the CPU (a yielding job on a saturated machine writes no heartbeat) is not.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import ConfigDict, Field, Json, computed_field

from model import private_files
from model.artifact import ModelLoadError
from moderation.errors import Conflict, ModerationError, NotFound, Unavailable
from moderation.records import Record
from moderation.settings import REPO_ROOT, SETTINGS, Settings
from moderation.storage import store as st
from moderation.storage.store import Row, Store, Transaction
from moderation.training import job_process, registry
from moderation.training import retrain as rt
from moderation.training.datasets import DatasetMissing

log = logging.getLogger(__name__)

RETRAIN = "retrain"
UNFINISHED = ("queued", "running")
HEARTBEAT_SECONDS = 5.0
# No heartbeat for this long and the job's process is taken to be gone.
STALE_SECONDS = 60.0
PROGRESS_INTERVAL_SECONDS = 0.5
# What a retrain is expected to fail with; anything else is recorded too, then re-raised with its traceback.
EXPECTED_FAILURES = (ModerationError, ModelLoadError, DatasetMissing, OSError, ValueError, MemoryError)


def job_log_path(settings: Settings, job_id: int) -> Path:
    """Where a job's process writes its output: `jobs/job-ID.log` beside the database."""
    return settings.db_path.parent / "jobs" / f"job-{job_id}.log"


class RetrainIn(Record):
    """An admin's retrain: optionally the version whose inputs to rebuild exactly."""

    model_config = ConfigDict(extra="forbid")

    rebuild: str | None = Field(
        default=None, min_length=1, max_length=200, description="A model version to rebuild from its inputs."
    )


class NewJob(Record):
    """A job as it is queued: what it is, who asked, when."""

    model_config = ConfigDict(strict=False)  # `result` is stored as JSON text

    kind: Literal["retrain"]
    state: Literal["queued", "running", "succeeded", "failed"] = "queued"
    actor: str | None = Field(description="Key id (or cli:user) that started it.")
    created_at: str
    stage: str | None = "queued"
    percent: float = 0.0

    def row(self, params: dict[str, Any]) -> dict[str, Any]:
        """The row to insert, with the job's parameters (kept for its process, not shown)."""
        return {**self.model_dump(), "params": json.dumps(params, sort_keys=True)}


class Job(NewJob):
    """A training job as the API shows it, read from its stored row (the row's other columns stay inside)."""

    id: int
    started_at: str | None
    finished_at: str | None
    error: str | None
    result: Json[dict[str, Any]] | None = Field(
        description="version, created, mode, compared_with, outcome (passed, worse, not measured), passed, "
        "measured, worse, summary, verdicts."
    )

    @computed_field  # type: ignore[prop-decorator]
    @property
    def elapsed_seconds(self) -> float:
        """Seconds since the admin asked for the job (its time in the queue included), to its end if it ended."""
        end = st.from_iso(self.finished_at) if self.finished_at else st.utcnow()
        return round(max((end - st.from_iso(self.created_at)).total_seconds(), 0.0), 1)


def _job_dict(row: Row) -> dict[str, Any]:
    return Job.model_validate(row).model_dump()


# ---------------------------------------------------------------------------
# Creating and reading jobs


def _stale_before(now: datetime) -> str:
    return st.iso(now - timedelta(seconds=STALE_SECONDS))


def job_process_alive(pid: int | None, started: int | None, proc: Path = Path("/proc")) -> bool | None:
    """Whether the job's recorded process (its minder, or the job itself) still runs; None where that cannot be
    told (nothing recorded, or no /proc)."""
    if pid is None or started is None or not proc.is_dir():
        return None
    # The same pid with another start time is a later process that reused it.
    return job_process.start_ticks(pid, proc) == started


def process_identity(pid: int) -> dict[str, int | None]:
    """The job row's columns that identify a running process."""
    return {"pid": pid, "pid_started": job_process.start_ticks(pid)}


def _gone(row: Row, stale_before: str) -> bool:
    """Whether an unfinished job's process is gone: known dead, or unknowable and silent since `stale_before`."""
    alive = job_process_alive(row["pid"], row["pid_started"])
    return alive is False or (alive is None and (row["heartbeat_at"] or row["created_at"]) < stale_before)


def _reap_stale(db: Transaction, kind: str) -> None:
    """Mark failed the unfinished jobs whose process is gone (killed, crashed, machine restarted)."""
    now = st.utcnow()
    limit = _stale_before(now)
    for row in st.unfinished_job_rows(db, kind):
        last = row["heartbeat_at"] or row["created_at"]
        if _gone(row, limit):
            st.update_job(
                db,
                row["id"],
                {
                    "state": "failed",
                    "finished_at": st.iso(now),
                    "error": f"the job's process stopped without a result (last sign of life {last})",
                },
                UNFINISHED,
            )


def create_job(store: Store, kind: str, actor: str | None, params: dict[str, Any] | None = None) -> dict[str, Any]:
    """Record a queued job; Conflict while another job of the kind is queued or running."""
    with store.write() as db:
        _reap_stale(db, kind)
        busy = st.unfinished_job_rows(db, kind)
        if busy:
            raise Conflict(
                f"Job {busy[0]['id']} ({kind}) is already {busy[0]['state']}; one {kind} job runs at a time.",
                fields={"job_id": str(busy[0]["id"])},
            )
        queued = NewJob(kind=kind, actor=actor, created_at=st.iso(st.utcnow()))  # type: ignore[arg-type]
        job_id = st.insert_job(db, queued.row(params or {}))
        row = st.job_row(db, job_id)
    assert row is not None
    return _job_dict(row)


def get_job(store: Store, job_id: int) -> dict[str, Any]:
    """A job's state, stage, percent, elapsed seconds, error or result (NotFound when unknown)."""
    with store.read() as db:
        row = st.job_row(db, job_id)
    if row is None:
        raise NotFound(f"No job {job_id}.")
    if row["state"] in UNFINISHED and _gone(row, _stale_before(st.utcnow())):
        with store.write() as db:
            _reap_stale(db, row["kind"])
            row = st.job_row(db, job_id)
        assert row is not None
    return _job_dict(row)


def job_summary(job: dict[str, Any]) -> list[str]:
    """A job's state and outcome as a few lines of text, for the CLI and the job's log."""
    elapsed = "" if job["elapsed_seconds"] is None else f", {job['elapsed_seconds']} s"
    lines = [f"job {job['id']} ({job['kind']}): {job['state']}, {job['stage']} {job['percent']:.0f}%{elapsed}"]
    if job["error"]:
        lines.append(f"  error: {job['error']}")
    result = job["result"]
    if result:
        made = "new version" if result["created"] else "identical to existing version"
        lines.append(f"  {made} {result['version']} ({result['mode']}), compared with {result['compared_with']}")
        if "rebuild_of" in result:
            same = "the same model (content hash matches)" if result["identical"] else "a DIFFERENT model"
            lines.append(f"  rebuild of {result['rebuild_of']}: {same}")
        if "outcome" not in result:  # recorded before comparisons had an outcome; `models show` judges it anew
            then = "passed" if result["passed"] else "worse on " + ", ".join(result["worse"])
            lines.append(f"  evaluation as recorded then: {then} (`moderation models show` judges it anew)")
        elif result["passed"]:
            lines.append(f"  evaluation: {result['summary']}")
        else:
            lines.append(f"  evaluation: {result['summary']} (activating needs --force and a reason)")
    return lines


def list_jobs(store: Store, limit: int = 50) -> list[dict[str, Any]]:
    """Recent jobs, newest first."""
    with store.read() as db:
        return [_job_dict(row) for row in st.job_rows(db, limit)]


def _fail(store: Store, job_id: int, error: str) -> None:
    with store.write() as db:
        st.update_job(
            db, job_id, {"state": "failed", "finished_at": st.iso(st.utcnow()), "error": error[:4000]}, UNFINISHED
        )


# ---------------------------------------------------------------------------
# Launching the job's process


def settings_env(settings: Settings) -> dict[str, str]:
    """The settings as environment variables, so a child process reads exactly these (paths made absolute)."""
    env: dict[str, str] = {}
    for setting in SETTINGS:
        value = getattr(settings, setting.name)
        if value is None:
            text = ""
        elif isinstance(value, Path):
            text = os.path.abspath(value)
        elif isinstance(value, tuple) and all(isinstance(part, Path) for part in value):
            text = os.pathsep.join(os.path.abspath(part) for part in value)
        elif isinstance(value, tuple):
            text = ",".join(value)  # a list setting of plain strings (the Coral signing secrets)
        else:
            text = str(value)
        env[setting.env] = text
    return env


def launch(settings: Settings, job_id: int) -> subprocess.Popen[bytes]:
    """Start `python -m moderation.training.job_process ID` (the minder of the low-priority `run-job ID`) in its own
    session, its output in the job's log file."""
    env = {
        **os.environ,
        **settings_env(settings),
        # One thread per numeric library: the web workers need the other core.
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }
    log_path = job_log_path(settings, job_id)
    private_files.make_dir(log_path.parent)
    with os.fdopen(private_files.open_for_append(log_path), "ab") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "moderation.training.job_process", str(job_id)],
            cwd=REPO_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            close_fds=True,
        )
    # Reap the child when it ends, so a long-lived web worker does not collect zombies.
    threading.Thread(target=process.wait, name=f"job-{job_id}-reaper", daemon=True).start()
    return process


def start_retrain(store: Store, settings: Settings, actor: str | None, rebuild: str | None = None) -> dict[str, Any]:
    """Queue a retrain (or the rebuild of a retrained version from its recorded inputs) and launch its process;
    the job at once (Conflict if one is already queued or running)."""
    if rebuild is None:
        rt.check_inputs(store, settings)
    else:
        rt.rebuild_params(store, settings, rebuild)  # refuses now what the job could not rebuild
    job = create_job(store, RETRAIN, actor, {"rebuild": rebuild} if rebuild else None)
    try:
        process = launch(settings, job["id"])
    except OSError as error:
        _fail(store, job["id"], f"could not start the job's process: {error}")
        raise Unavailable(f"Could not start the retrain process: {error}.") from error
    with store.write() as db:  # the minder's pid, until the job records its own: how to tell it is alive
        st.update_job(db, job["id"], process_identity(process.pid), ("queued",))
    return job


# ---------------------------------------------------------------------------
# Inside the job's process


class _Progress:
    """Writes a job's stage and percent, at most twice a second unless the stage changes."""

    def __init__(self, store: Store, job_id: int) -> None:
        self.store = store
        self.job_id = job_id
        self.stage: str | None = None
        self.percent = 0.0
        self.written_at = 0.0

    def __call__(self, stage: str, fraction: float) -> None:
        percent = max(self.percent, round(min(max(fraction, 0.0), 1.0) * 100, 1))
        now = time.monotonic()
        if stage == self.stage and percent < 100 and now - self.written_at < PROGRESS_INTERVAL_SECONDS:
            return
        self.stage, self.percent, self.written_at = stage, percent, now
        with self.store.write() as db:
            st.update_job(
                db,
                self.job_id,
                {"stage": stage, "percent": percent, "heartbeat_at": st.iso(st.utcnow())},
                ("running",),
            )


class _Heartbeat(threading.Thread):
    """Marks the job alive every few seconds while long steps run without progress."""

    def __init__(self, store: Store, job_id: int) -> None:
        super().__init__(name=f"job-{job_id}-heartbeat", daemon=True)
        self.store = store
        self.job_id = job_id
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(HEARTBEAT_SECONDS):
            try:
                with self.store.write() as db:
                    st.update_job(db, self.job_id, {"heartbeat_at": st.iso(st.utcnow())}, ("running",))
            except Unavailable as error:
                log.warning("job %s heartbeat not written: %s", self.job_id, error)


def run_job(store: Store, settings: Settings, job_id: int) -> dict[str, Any]:
    """Run a queued job in this process: mark it running, report progress, record the outcome; the job."""
    now = st.iso(st.utcnow())
    with store.write() as db:
        row = st.job_row(db, job_id)
        if row is None:
            raise NotFound(f"No job {job_id}.")
        changed = st.update_job(
            db,
            job_id,
            {
                "state": "running",
                "started_at": now,
                "heartbeat_at": now,
                "stage": "starting",
                **process_identity(os.getpid()),
            },
            ("queued",),
        )
    if not changed:
        raise Conflict(f"Job {job_id} is {row['state']}, not queued; it runs only once.")
    if row["kind"] != RETRAIN:
        _fail(store, job_id, f"unknown job kind {row['kind']}")
        return get_job(store, job_id)
    heartbeat = _Heartbeat(store, job_id)
    heartbeat.start()
    rebuild = json.loads(row["params"] or "{}").get("rebuild")
    try:
        params = rt.rebuild_params(store, settings, rebuild) if rebuild else None
        result = rt.retrain(
            store, settings, row["actor"], job_id=job_id, params=params, progress=_Progress(store, job_id)
        )
        if rebuild:
            original = registry.get_version(store, rebuild)["content_sha256"]
            result.update(rebuild_of=rebuild, identical=result["content_sha256"] == original)
    except EXPECTED_FAILURES as error:
        message = error.message if isinstance(error, ModerationError) else str(error)
        log.error("job %s failed: %s", job_id, message)
        _fail(store, job_id, f"{type(error).__name__}: {message}")
        return get_job(store, job_id)
    except BaseException as error:
        # Unexpected (a bug, SIGTERM): record it so the job does not wait for the stale check, then re-raise
        # so the traceback reaches the job's log.
        _fail(store, job_id, f"{type(error).__name__}: {error}")
        raise
    finally:
        heartbeat.stopped.set()
    with store.write() as db:
        st.update_job(
            db,
            job_id,
            {
                "state": "succeeded",
                "finished_at": st.iso(st.utcnow()),
                "stage": "done",
                "percent": 100.0,
                "result": json.dumps(result, sort_keys=True),
            },
            ("running",),
        )
    return get_job(store, job_id)


def wait(store: Store, job_id: int, timeout: float | None = None, poll: float = 0.5) -> dict[str, Any]:
    """Poll a job until it finishes (or the timeout passes); the job as last seen."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        job = get_job(store, job_id)
        if job["state"] not in UNFINISHED or (deadline is not None and time.monotonic() >= deadline):
            return job
        time.sleep(poll)
