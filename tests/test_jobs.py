"""Training jobs: a real separate process, progress in the database, one at a time, failures recorded."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from moderation.errors import Conflict, Duplicate, Invalid, NotFound
from moderation.settings import Settings
from moderation.storage import store as st
from moderation.storage.store import Store
from moderation.training import datasets, jobs, registry
from moderation.training import retrain as rt
from tests.model_fixtures import labelled_rows, write_jsonl
from tests.retrain_fixtures import add_verdicts, muppet_verdicts, retrain_settings


@pytest.fixture
def rsettings(settings: Settings, tiny_model_path: Path) -> Settings:
    return retrain_settings(settings, tiny_model_path)


def test_a_retrain_runs_in_its_own_process_and_records_its_result(store: Store, rsettings: Settings) -> None:
    shipped = registry.ensure_default(store, rsettings)
    add_verdicts(store, rsettings, muppet_verdicts(40))
    job = jobs.start_retrain(store, rsettings, "admin1")
    assert job["state"] == "queued" and job["percent"] == 0 and job["actor"] == "admin1"
    with store.read() as db:
        queued = st.job_row(db, job["id"])
    assert queued["pid"] and queued["pid_started"]  # its minder's, so a starved job is not taken for dead
    done = jobs.wait(store, job["id"], timeout=60, poll=0.1)
    log = jobs.job_log_path(rsettings, job["id"]).read_text()
    assert done["state"] == "succeeded", (done, log)
    assert done["stage"] == "done" and done["percent"] == 100 and done["elapsed_seconds"] is not None
    assert done["started_at"] >= done["created_at"] and done["finished_at"] >= done["started_at"]
    with store.read() as db:
        ran = st.job_row(db, job["id"])
    assert ran["pid"] and ran["pid"] not in (os.getpid(), queued["pid"])  # another process ran it, the minder's child
    assert ran["pid_started"] >= queued["pid_started"]

    result = done["result"]
    assert result["created"] and result["mode"] == "adapt" and result["compared_with"] == shipped
    version = registry.get_version(store, result["version"])
    assert version["job_id"] == job["id"] and version["source"] == "retrain" and not version["active"]
    assert registry.active_version(store) == shipped  # a retrain never activates anything by itself


def test_progress_is_written_as_the_job_goes(store: Store, rsettings: Settings, monkeypatch: Any) -> None:
    seen: list[tuple[str, str, float]] = []

    def fake_retrain(store: Store, settings: Settings, actor: str | None, **kwargs: Any) -> dict[str, Any]:
        for stage, fraction in (("load verdicts", 0.2), ("adapt: insult", 0.5), ("evaluate", 0.8)):
            kwargs["progress"](stage, fraction)
            job = jobs.get_job(store, kwargs["job_id"])
            seen.append((job["state"], job["stage"], job["percent"]))
        return {"version": "v-test"}

    monkeypatch.setattr(rt, "retrain", fake_retrain)
    job = jobs.create_job(store, jobs.RETRAIN, "admin1")
    finished = jobs.run_job(store, rsettings, job["id"])
    assert seen == [
        ("running", "load verdicts", 20.0),
        ("running", "adapt: insult", 50.0),
        ("running", "evaluate", 80.0),
    ]
    assert finished["state"] == "succeeded" and finished["result"] == {"version": "v-test"}
    with pytest.raises(Conflict, match="runs only once"):
        jobs.run_job(store, rsettings, job["id"])
    with pytest.raises(NotFound):
        jobs.get_job(store, 999)


def test_a_failing_job_records_its_error_and_leaves_the_active_model(
    store: Store, rsettings: Settings, tmp_path: Path
) -> None:
    shipped = registry.ensure_default(store, rsettings)
    imported = datasets.import_dataset(
        store, rsettings, write_jsonl(labelled_rows(per_kind=4), tmp_path / "mine.jsonl"), "a"
    )
    with store.read() as db:
        row = st.dataset_row(db, imported["id"])
    datasets.dataset_path(rsettings, row).unlink()  # the stored copy disappears before the retrain

    job = jobs.start_retrain(store, rsettings, "admin1")
    done = jobs.wait(store, job["id"], timeout=60, poll=0.1)
    assert done["state"] == "failed" and done["finished_at"]
    assert "DatasetMissing" in done["error"] and "mine.jsonl" in done["error"], done["error"]
    assert registry.active_version(store) == shipped
    assert [v["version"] for v in registry.list_versions(store)] == [shipped]
    # The failure freed the slot: the next retrain may start.
    assert jobs.create_job(store, jobs.RETRAIN, "admin1")["state"] == "queued"


def test_one_training_job_at_a_time(store: Store, rsettings: Settings) -> None:
    add_verdicts(store, rsettings, muppet_verdicts(4))
    first = jobs.create_job(store, jobs.RETRAIN, "admin1")
    with pytest.raises(Conflict, match=f"Job {first['id']} .* already queued"):
        jobs.start_retrain(store, rsettings, "admin2")
    with store.write() as db:
        st.update_job(db, first["id"], {"state": "running"}, ("queued",))
    with pytest.raises(Conflict, match="already running"):
        jobs.create_job(store, jobs.RETRAIN, "admin2")
    # The unique index holds even without the check (the store names the driver's error as the domain's).
    with pytest.raises(Duplicate, match="jobs row with this key"), store.write() as db:
        st.insert_job(db, {"kind": "retrain", "state": "queued", "created_at": st.iso(st.utcnow())})


def test_a_job_whose_process_vanished_is_marked_failed(store: Store, rsettings: Settings) -> None:
    job = jobs.create_job(store, jobs.RETRAIN, "admin1")
    long_ago = st.iso(st.utcnow() - timedelta(seconds=jobs.STALE_SECONDS + 5))
    with store.write() as db:
        st.update_job(
            db, job["id"], {"state": "running", "started_at": long_ago, "heartbeat_at": long_ago}, ("queued",)
        )
    seen = jobs.get_job(store, job["id"])
    assert seen["state"] == "failed" and "stopped without a result" in seen["error"]
    assert jobs.create_job(store, jobs.RETRAIN, "admin1")["id"] == job["id"] + 1


def test_a_silent_job_whose_process_lives_is_waiting_not_gone(store: Store, tmp_path: Path) -> None:
    job = jobs.create_job(store, jobs.RETRAIN, "admin1")
    # A stand-in for the job's process: alive, but silent for over a minute, as a yielding job is on a machine
    # that leaves it no idle CPU.
    stand_in = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        long_ago = st.iso(st.utcnow() - timedelta(seconds=jobs.STALE_SECONDS + 5))
        identity = jobs.process_identity(stand_in.pid)
        with store.write() as db:
            st.update_job(db, job["id"], {**identity, "created_at": long_ago}, ("queued",))
        assert jobs.get_job(store, job["id"])["state"] == "queued"
        with pytest.raises(Conflict):
            jobs.create_job(store, jobs.RETRAIN, "admin2")
    finally:
        stand_in.kill()
        stand_in.wait()
    # Gone: failed at the next look, without waiting out the minute.
    with store.write() as db:
        st.update_job(db, job["id"], {"created_at": st.iso(st.utcnow())}, ("queued",))
    seen = jobs.get_job(store, job["id"])
    assert seen["state"] == "failed" and "stopped without a result" in seen["error"]


def test_a_job_process_is_told_by_its_pid_and_start_time(tmp_path: Path) -> None:
    def process(pid: int, state: str, started: int) -> None:
        (tmp_path / str(pid)).mkdir()
        fields = [state, *["0"] * 18, str(started), "0", "0"]
        (tmp_path / str(pid) / "stat").write_text(f"{pid} (python (job)) {' '.join(fields)}\n")

    process(10, "S", 5000)
    process(11, "Z", 5000)  # ended, not yet reaped
    assert jobs.job_process_alive(10, 5000, tmp_path) is True
    assert jobs.job_process_alive(10, 4000, tmp_path) is False  # the pid was reused by a later process
    assert jobs.job_process_alive(11, 5000, tmp_path) is False
    assert jobs.job_process_alive(12, 5000, tmp_path) is False  # gone
    assert jobs.job_process_alive(None, None, tmp_path) is None  # nothing recorded (a row from before)
    assert jobs.job_process_alive(10, 5000, tmp_path / "missing") is None  # no /proc here


def test_jobs_yield_unless_the_setting_says_not(tmp_path: Path) -> None:
    script = "from moderation.training.job_process import yielding; print(yielding())"
    seen = []
    for value in (None, "true", "false"):
        env = {k: v for k, v in os.environ.items() if k != "MODERATION_JOB_YIELD"}
        if value is not None:
            env["MODERATION_JOB_YIELD"] = value
        run = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
        seen.append(run.stdout.strip())
    assert seen == ["True", "True", "False"]


def test_nothing_to_learn_from_is_refused_before_a_job_exists(store: Store, rsettings: Settings) -> None:
    with pytest.raises(Invalid, match="Nothing to retrain on"):
        jobs.start_retrain(store, rsettings, "admin1")
    assert jobs.list_jobs(store) == []


def test_the_child_reads_the_same_settings(rsettings: Settings, tmp_path: Path) -> None:
    configured = replace(
        retrain_settings(
            rsettings,
            rsettings.model_path,
            base_corpora=(tmp_path / "a", Path("relative/b")),
            models_dir=tmp_path / "m",
        ),
        coral_signing_secrets=("first-secret-0123456789", "second-secret-0123456789"),
    )
    env = jobs.settings_env(configured)
    again = Settings.from_env(env)
    assert again.base_corpora == (tmp_path / "a", Path("relative/b").absolute())
    assert again.db_path == configured.db_path.absolute() and again.models_dir == tmp_path / "m"
    assert again.secret_key == configured.secret_key and again.promotion_tolerance == configured.promotion_tolerance
    assert again.coral_signing_secrets == configured.coral_signing_secrets  # a list of strings, not of paths
    assert json.loads(json.dumps(env)) == env


def test_elapsed_counts_from_when_the_job_was_asked_for_queue_time_included(store: Store) -> None:
    job = jobs.create_job(store, jobs.RETRAIN, "admin1")
    asked = st.from_iso(job["created_at"])
    assert job["elapsed_seconds"] is not None  # counting while it waits in the queue
    with store.write() as db:
        started = {"state": "running", "started_at": st.iso(asked + timedelta(seconds=23))}
        st.update_job(db, job["id"], started, ("queued",))
        finished = {"state": "failed", "finished_at": st.iso(asked + timedelta(seconds=26)), "error": "test"}
        st.update_job(db, job["id"], finished, ("running",))
    assert jobs.get_job(store, job["id"])["elapsed_seconds"] == 26.0  # 23 s queued, then 3 s running
