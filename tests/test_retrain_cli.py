"""The retraining CLI: import, retrain --wait, jobs show, models list/show/activate/rollback/history, datasets."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from moderation.settings import Settings
from moderation.storage.store import Store
from moderation.training import registry
from tests.conftest import ModerationRunner
from tests.model_fixtures import labelled_rows, write_jsonl
from tests.retrain_fixtures import LaunchedHere, add_verdicts, muppet_verdicts, retrain_settings


@pytest.fixture
def cli(runner: ModerationRunner, tiny_model_path: Path) -> ModerationRunner:
    runner.env["MODERATION_MODEL"] = str(tiny_model_path)
    return runner


def test_import_retrain_promote_and_roll_back(
    cli: ModerationRunner, store: Store, settings: Settings, tiny_model_path: Path, tmp_path: Path
) -> None:
    rsettings = retrain_settings(settings, tiny_model_path)
    add_verdicts(store, rsettings, muppet_verdicts(120))  # enough hold-out rows to measure insult and toxicity

    imported = cli.invoke("import", str(write_jsonl(labelled_rows(per_kind=4), tmp_path / "ours.jsonl")))
    assert imported.exit_code == 0, imported.output
    assert "imported dataset 1: ours.jsonl, 32 rows" in imported.output
    assert "ours.jsonl" in cli.invoke("datasets", "list").output

    listed = cli.invoke("models", "list")
    assert listed.exit_code == 0 and listed.output.startswith("* ") and "shipped" in listed.output
    shipped = registry.active_version(store)

    started = cli.invoke("retrain", "--wait")
    assert started.exit_code == 0, started.output
    assert "started job 1" in started.output and "succeeded" in started.output and "new version" in started.output
    job = json.loads(cli.invoke("jobs", "show", "1", "--json").output)
    assert job["state"] == "succeeded" and job["percent"] == 100
    version = job["result"]["version"]
    assert "job 1 (retrain): succeeded" in cli.invoke("jobs", "list").output

    shown = json.loads(cli.invoke("models", "show", version).output)
    assert shown["training"]["datasets"][0]["name"] == "ours.jsonl" and shown["comparison"]["active_version"] == shipped

    card = cli.invoke("models", "card", version)
    assert card.exit_code == 0 and "## Retraining" in card.output and "ours.jsonl" in card.output

    rebuilt = cli.invoke("retrain", "--rebuild", version, "--wait")
    assert rebuilt.exit_code == 0, rebuilt.output
    assert f"rebuild of {version}: the same model (content hash matches)" in rebuilt.output

    activated = cli.invoke("models", "activate", version)
    assert activated.exit_code == 0, activated.output
    assert f"activated {version} (promote), replacing {shipped}" in activated.output
    assert registry.active_version(store) == version

    rolled = cli.invoke("models", "rollback", "--reason", "moderators complained")
    assert rolled.exit_code == 0 and f"rolled back to {shipped}" in rolled.output
    history = cli.invoke("models", "history").output.splitlines()
    assert "rollback" in history[0] and "moderators complained" in history[0] and "initial" in history[-1]


def test_refusals_are_clear_errors(
    cli: ModerationRunner, store: Store, settings: Settings, tiny_model_path: Path
) -> None:
    nothing = cli.invoke("retrain")
    assert nothing.exit_code == 1 and "Nothing to retrain on" in nothing.output
    assert cli.invoke("models", "activate", "nope").exit_code == 1
    assert "No model version nope" in cli.invoke("models", "activate", "nope").output
    assert "no earlier model version" in cli.invoke("models", "rollback").output.lower()
    assert "No job 5" in cli.invoke("jobs", "show", "5").output

    bad = Path(settings.db_path.parent / "bad.csv")
    bad.write_text("text,toxicity\nfine,0\nhmm,perhaps\n", encoding="utf-8")
    refused = cli.invoke("import", str(bad))
    assert refused.exit_code == 1 and "line 3" in refused.output and "perhaps" in refused.output


def test_a_worse_version_needs_force_and_reason(
    cli: ModerationRunner, store: Store, settings: Settings, tiny_model_path: Path
) -> None:
    from tests.test_registry import comparison, make_candidate

    rsettings = retrain_settings(settings, tiny_model_path)
    shipped = registry.ensure_default(store, rsettings)
    worse = make_candidate(rsettings, store, 0.5, comparison(shipped, ["insult"]))
    assert "worse: insult" in cli.invoke("models", "list").output
    refused = cli.invoke("models", "activate", worse)
    assert refused.exit_code == 1 and "worse than the active version" in refused.output
    no_reason = cli.invoke("models", "activate", worse, "--force")
    assert no_reason.exit_code == 1 and "needs a reason" in no_reason.output
    forced = cli.invoke("models", "activate", worse, "--force", "--reason", "known spam wave")
    assert forced.exit_code == 0 and "(force)" in forced.output
    assert "known spam wave" in cli.invoke("models", "history").output


@pytest.mark.skipif(not hasattr(os, "SCHED_IDLE"), reason="scheduling classes are Linux only")
def test_a_job_process_runs_below_the_web_workers() -> None:
    probe = (
        "import os\n"
        "from pathlib import Path\n"
        "from moderation.training.job_process import lower_priority\n"
        "lower_priority()\n"
        "lower_priority()  # twice (as a direct `moderation run-job` does after its minder): still nice 19\n"
        "group = Path('/proc/self/autogroup')\n"
        "group_nice = group.read_text().split()[-1] if group.exists() else 19\n"
        "print(os.sched_getscheduler(0) == os.SCHED_IDLE, os.nice(0), group_nice, len(os.sched_getaffinity(0)))\n"
    )
    # In its own session, as jobs.launch starts it: its own autogroup, whose nice value must drop too.
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, start_new_session=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    idle, nice, group_nice, cores = done.stdout.split()
    assert (idle, nice, group_nice) == ("True", "19", "19")
    assert int(cores) == 1  # pinned to one core, leaving the others (and their caches) to the workers


def test_a_version_measured_on_nothing_needs_force_and_reason(
    cli: ModerationRunner, store: Store, settings: Settings, tiny_model_path: Path
) -> None:
    from tests.test_promotion_gate import ISSUE_ROW
    from tests.test_registry import make_candidate

    rsettings = retrain_settings(settings, tiny_model_path)
    shipped = registry.ensure_default(store, rsettings)
    nothing = make_candidate(rsettings, store, 0.5, {**ISSUE_ROW, "active_version": shipped})
    assert f"not measured vs {shipped}" in cli.invoke("models", "list").output
    refused = cli.invoke("models", "activate", nothing)
    assert refused.exit_code == 1 and f"was not measured against the active version {shipped}" in refused.output
    no_reason = cli.invoke("models", "activate", nothing, "--force")
    assert no_reason.exit_code == 1 and "needs a reason" in no_reason.output
    assert registry.active_version(store) == shipped
    forced = cli.invoke("models", "activate", nothing, "--force", "--reason", "measured by hand")
    assert forced.exit_code == 0 and "(force)" in forced.output
    assert "measured by hand" in cli.invoke("models", "history").output


def test_a_retrain_from_a_few_verdicts_says_it_was_not_measured(
    cli: ModerationRunner, store: Store, settings: Settings, tiny_model_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from moderation.training import jobs

    rsettings = retrain_settings(settings, tiny_model_path)
    add_verdicts(store, rsettings, muppet_verdicts(5))
    # Run in-process below, not in a job process: this process stands for the job's.
    monkeypatch.setattr(jobs, "launch", LaunchedHere())
    job = jobs.start_retrain(store, rsettings, "cli:test")
    assert jobs.run_job(store, rsettings, job["id"])["state"] == "succeeded"
    shown = cli.invoke("jobs", "show", str(job["id"]))
    assert shown.exit_code == 0, shown.output
    assert "evaluation: not measured on any category" in shown.output
    assert "(activating needs --force and a reason)" in shown.output
