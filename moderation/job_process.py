"""The process a retrain job runs in: `python -m moderation.job_process JOB_ID` (started by `jobs.launch`).

It drops below the web workers first, before importing the model libraries (about a second of CPU), so the whole
job, its start included, runs on what the workers leave; then it runs `moderation run-job JOB_ID`.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

JOB_NICE = 19  # the lowest: with autogroup, the job's session is weighed against the workers' by this
AUTOGROUP = Path("/proc/self/autogroup")


def lower_priority() -> None:
    """Run below the web workers, so scoring keeps its latency while a model trains (idempotent)."""
    current = os.getpriority(os.PRIO_PROCESS, 0)
    os.setpriority(os.PRIO_PROCESS, 0, max(current, JOB_NICE))
    # Linux: in the idle class the job runs on what the workers leave, and a waking worker preempts it at
    # once instead of waiting out its time slice (threads started later, like the heartbeat, inherit it).
    idle = getattr(os, "SCHED_IDLE", None)
    if idle is not None:
        try:
            os.sched_setscheduler(0, idle, os.sched_param(0))
        except OSError:
            pass
    # On one core only: the other cores' caches stay the workers' (the job's matrices would flush them).
    cores = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    if len(cores) > 1:
        os.sched_setaffinity(0, {cores[-1]})
    # The job has its own session, so with autogroup scheduling it is its own group, weighed against the
    # workers' group by the group's nice value, not by the process's: lower that too.
    try:
        AUTOGROUP.write_text(f"{JOB_NICE}\n")
    except OSError:
        pass  # not Linux, or autogroup off


def main(argv: list[str]) -> None:
    """Lower this process's priority, then run the job named on the command line."""
    lower_priority()
    from moderation.cli import main as cli

    sys.argv = ["moderation", "run-job", *argv]
    cli()


if __name__ == "__main__":
    main(sys.argv[1:])
