"""The processes a retrain job runs in: `python -m moderation.training.job_process JOB_ID` (started by `jobs.launch`).

That process minds the job: it starts the job itself as `python -m moderation.training.job_process --run JOB_ID`, which
drops below the web workers before importing the model libraries, then runs `moderation run-job JOB_ID`.

Priority alone does not keep scoring fast. A job that fits a model streams large matrices through the CPU caches
the workers share, and the workers' p99 rose by up to 70 % while one fitted, even at idle priority on a core of
its own. So while the rest of the machine leaves less than a core free, the minder pauses the job (SIGSTOP) a
tenth of a second at a time, letting it run at least one window in MAX_HELD_WINDOWS + 1 so that it finishes
even under sustained load; on a quiet machine it runs flat out. The job is never paused inside a database
write: each of its writes holds a lock file, and the minder pauses it only while holding that lock itself, so
a paused job never keeps the workers from writing.
"""

from __future__ import annotations

import ctypes
import fcntl
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import IO, Any

JOB_NICE = 19  # the lowest: with autogroup, the job's session is weighed against the workers' by this
AUTOGROUP = Path("/proc/self/autogroup")
WINDOW_SECONDS = 0.1
FREE_CORES_TO_RUN = 1.0  # the job runs while the rest of the machine leaves at least this many cores idle
MAX_HELD_WINDOWS = 3  # then the job runs one window whatever the load: it keeps a quarter of its time
WRITE_LOCK_ENV = "MODERATION_JOB_WRITE_LOCK"
MINDER_ENV = "MODERATION_JOB_MINDER"
PR_SET_PDEATHSIG = 1


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


@contextmanager
def holding(lock: IO[str]) -> Iterator[None]:
    """Hold the job's write lock (an exclusive flock on the open file) for the duration."""
    fcntl.flock(lock, fcntl.LOCK_EX)
    try:
        yield
    finally:
        fcntl.flock(lock, fcntl.LOCK_UN)


def guard_writes_with(lock_path: Path) -> None:
    """Make every database write of this process hold the lock file, so the minder never pauses one."""
    from moderation.storage import store

    lock = lock_path.open("a")  # open for the life of the process
    store.guard_writes(lambda: holding(lock))


def cpu_ticks(stat: Path) -> int:
    """User plus system CPU time, in clock ticks, from a process's `/proc/PID/stat` (OSError when unreadable)."""
    fields = stat.read_text().rsplit(")", 1)[1].split()  # after the command name, which may hold ")" itself
    return int(fields[11]) + int(fields[12])


def start_ticks(pid: int, proc: Path = Path("/proc")) -> int | None:
    """When a live process started (clock ticks since boot); None if it is gone, a zombie, or /proc is unreadable."""
    try:
        fields = (proc / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return None if fields[0] == "Z" else int(fields[19])


class MachineLoad:
    """How many cores' worth of CPU everything but one process used since the last look (Linux /proc)."""

    def __init__(self, pid: int, *, proc: Path = Path("/proc"), cores: int | None = None) -> None:
        self.machine_stat = proc / "stat"
        self.process_stat = proc / str(pid) / "stat"
        self.cores = cores or os.cpu_count() or 1
        self.last = self._sample()

    def _sample(self) -> tuple[int, int, int] | None:
        try:
            fields = [int(value) for value in self.machine_stat.read_text().split("\n", 1)[0].split()[1:]]
            own = cpu_ticks(self.process_stat)
        except (OSError, ValueError, IndexError):
            return None
        idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
        return sum(fields[:8]), idle, own

    def others_busy_cores(self) -> float | None:
        """Cores' worth of CPU the rest of the machine kept busy since the last call; None where unknown."""
        now = self._sample()
        last, self.last = self.last, now
        if now is None or last is None or now[0] <= last[0]:
            return None
        elapsed = now[0] - last[0]
        others = (elapsed - (now[1] - last[1])) - (now[2] - last[2])
        return max(0.0, others) / elapsed * self.cores

    def leaves_a_core(self) -> bool:
        """Whether the rest of the machine left at least FREE_CORES_TO_RUN idle (unknown counts as yes)."""
        others = self.others_busy_cores()
        return others is None or self.cores - others >= FREE_CORES_TO_RUN


def pause(pid: int, lock: IO[str]) -> bool:
    """Stop the job unless it is inside a database write; whether it is now stopped."""
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False  # mid-write: let it finish first
    try:
        os.kill(pid, signal.SIGSTOP)
        # Keep the lock until the job has really stopped, so it cannot enter a write on the way.
        os.waitid(os.P_PID, pid, os.WSTOPPED | os.WEXITED | os.WNOWAIT)
        return True
    except (ProcessLookupError, ChildProcessError):
        return False
    finally:
        fcntl.flock(lock, fcntl.LOCK_UN)


def resume(pid: int) -> None:
    """Let a stopped job go on (nothing if it has ended)."""
    try:
        os.kill(pid, signal.SIGCONT)
    except ProcessLookupError:
        pass


def mind(
    job: subprocess.Popen[bytes], lock_path: Path, machine_load: Callable[[int], MachineLoad] = MachineLoad
) -> int:
    """Pause and resume the job by the machine's load (`machine_load(pid)`) until it ends; its exit status."""
    stopping = False

    def forward(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True
        for sent in (signum, signal.SIGCONT):
            try:
                os.kill(job.pid, sent)
            except ProcessLookupError:
                pass

    previous = {signum: signal.signal(signum, forward) for signum in (signal.SIGTERM, signal.SIGINT)}
    load = machine_load(job.pid)
    held, paused = 0, False
    with lock_path.open("a") as lock:
        try:
            while job.poll() is None:
                time.sleep(WINDOW_SECONDS)
                busy = not load.leaves_a_core()
                if busy and held < MAX_HELD_WINDOWS and not stopping:
                    paused = paused or pause(job.pid, lock)
                    held += 1
                else:
                    if paused:
                        resume(job.pid)
                    held, paused = 0, False
        finally:
            resume(job.pid)
            for signum, handler in previous.items():
                signal.signal(signum, handler)
    return job.wait()


def die_with_minder() -> None:
    """Linux: have the kernel kill this process when the minder goes (a stopped job would wait forever)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        return
    if str(os.getppid()) != os.environ.get(MINDER_ENV):
        sys.exit("the job's minder is gone")


def yielding() -> bool:
    """Whether jobs yield to the machine (the MODERATION_JOB_YIELD setting)."""
    from moderation.settings import Settings  # light: the settings table only

    return Settings.from_env().job_yield


class NeverBusy(MachineLoad):
    """The load a job that does not yield sees: always a core to spare, so it is never paused."""

    def __init__(self, pid: int) -> None:
        self.cores = 1

    def others_busy_cores(self) -> float:
        return 0.0


def run(argv: list[str]) -> None:
    """The job itself: lower this process's priority (if jobs yield), then run the job named on the command line."""
    if yielding():
        lower_priority()
    if os.environ.get(MINDER_ENV):
        die_with_minder()
    if os.environ.get(WRITE_LOCK_ENV):
        guard_writes_with(Path(os.environ[WRITE_LOCK_ENV]))
    if len(argv) != 1 or not argv[0].isdigit():
        sys.exit(f"usage: python -m moderation.training.job_process [--run] JOB_ID, not {argv!r}")
    sys.exit(0 if run_job_here(int(argv[0]))["state"] == "succeeded" else 1)


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


def run_job_here(job_id: int) -> dict[str, Any]:
    """Run a queued job in this process, with the settings of the environment; its final record (printed too)."""
    import logging

    from moderation.settings import Settings
    from moderation.storage.store import Store
    from moderation.training import jobs

    # SIGTERM becomes SystemExit, so the job records that it was stopped.
    signal.signal(signal.SIGTERM, _terminate)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = Settings.from_env()
    store = Store.from_settings(settings)
    try:
        job = jobs.run_job(store, settings, job_id)
    finally:
        store.close()
    print("\n".join(jobs.job_summary(job)), flush=True)
    return job


def main(argv: list[str]) -> None:
    """Start the job named on the command line as a child and mind it; exit with its status."""
    if argv[:1] == ["--run"]:
        run(argv[1:])
        return
    handle, name = tempfile.mkstemp(prefix="moderation-job-", suffix=".lock")
    os.close(handle)
    lock_path = Path(name)
    env = {**os.environ, WRITE_LOCK_ENV: name, MINDER_ENV: str(os.getpid())}
    try:
        # Its own session, so lowering its autogroup's weight leaves the minder's alone.
        job = subprocess.Popen(
            [sys.executable, "-m", "moderation.training.job_process", "--run", *argv], env=env, start_new_session=True
        )
        status = mind(job, lock_path, MachineLoad if yielding() else NeverBusy)
    finally:
        lock_path.unlink(missing_ok=True)
    sys.exit(status)


if __name__ == "__main__":
    main(sys.argv[1:])
