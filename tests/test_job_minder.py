"""The retrain job's minder: it pauses the job while the machine is busy, never inside a database write."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from moderation.training import job_process
from moderation.training.job_process import MachineLoad, mind, pause, resume

pytestmark = pytest.mark.skipif(not Path("/proc/stat").exists(), reason="reads Linux /proc")

REPO = Path(__file__).resolve().parent.parent

# A job stand-in: 40 steps of about 10 ms of CPU, each stamped with the time it ended.
STEPS = """
import sys, time
with open(sys.argv[1], "w") as out:
    for _ in range(40):
        end = time.process_time() + 0.01
        while time.process_time() < end:
            pass
        out.write(f"{time.monotonic()}\\n")
        out.flush()
"""


def process_state(pid: int) -> str:
    """The one-letter state of a process (T when stopped)."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]


def longest_gap(stamps: Path) -> float:
    """The longest time between two steps of the stand-in job."""
    times = [float(line) for line in stamps.read_text().split()]
    assert len(times) == 40, "the job did not finish its steps"
    return max(later - earlier for earlier, later in zip(times, times[1:], strict=False))


@pytest.fixture
def lock_path(tmp_path: Path) -> Path:
    path = tmp_path / "job.lock"
    path.touch()
    return path


@pytest.fixture
def busy_machine() -> Iterator[None]:
    """Every core kept busy by a plain loop at normal priority, for the test's length."""
    burners = [
        subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(min(os.cpu_count() or 1, 16))
    ]
    time.sleep(0.3)
    try:
        yield
    finally:
        for burner in burners:
            burner.kill()
            burner.wait()


def test_others_busy_cores_leaves_out_the_job_itself(tmp_path: Path) -> None:
    proc = tmp_path / "proc"
    (proc / "42").mkdir(parents=True)

    def ticks(total_user: int, idle: int, job: int) -> None:
        # cpu user nice system idle iowait irq softirq steal; the job's utime and stime are fields 14 and 15.
        (proc / "stat").write_text(f"cpu  {total_user} 0 0 {idle} 0 0 0 0 0 0\ncpu0 ...\n")
        (proc / "42" / "stat").write_text(f"42 (python (job)) R {' '.join(['1'] * 10)} {job} 0 0 0\n")

    ticks(1000, 5000, 100)
    load = MachineLoad(42, proc=proc, cores=2)
    ticks(1150, 5050, 200)  # 200 ticks passed, 50 idle, 100 the job's: others used 50 of 200, half a core
    assert load.others_busy_cores() == pytest.approx(0.5)
    ticks(1340, 5060, 210)  # 200 ticks, 10 idle, 10 the job's: others used 180, 1.8 cores
    assert not load.leaves_a_core()
    ticks(1440, 5160, 210)  # 200 ticks, 100 idle, none the job's: others used 100, one core
    assert load.leaves_a_core()


def test_an_unreadable_proc_never_pauses_the_job(tmp_path: Path) -> None:
    load = MachineLoad(42, proc=tmp_path / "missing")
    assert load.others_busy_cores() is None and load.leaves_a_core()


def test_the_job_is_never_paused_inside_a_database_write(tmp_path: Path, lock_path: Path) -> None:
    writing, written = tmp_path / "writing", tmp_path / "written"
    script = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from moderation.training.job_process import guard_writes_with\n"
        "from moderation.storage.store import Store\n"
        "guard_writes_with(Path(sys.argv[1]))\n"
        "store = Store(sys.argv[2])\n"
        "with store.write():\n"
        "    Path(sys.argv[3]).touch()\n"
        "    time.sleep(1.0)\n"
        "Path(sys.argv[4]).touch()\n"
        "time.sleep(60)\n"
    )
    job = subprocess.Popen(
        [sys.executable, "-c", script, str(lock_path), str(tmp_path / "db.sqlite"), str(writing), str(written)],
        cwd=REPO,
    )
    try:
        with lock_path.open("a") as lock:
            deadline = time.monotonic() + 60
            while not writing.exists() and time.monotonic() < deadline:
                time.sleep(0.02)
            assert writing.exists(), "the job never began its write"
            assert not pause(job.pid, lock)  # mid-write: refused
            assert process_state(job.pid) != "T"
            while not written.exists() and time.monotonic() < deadline:
                time.sleep(0.02)
            assert pause(job.pid, lock)  # between writes: stopped, and stopped before pause() returned
            assert process_state(job.pid) == "T"
            resume(job.pid)
            time.sleep(0.1)
            assert process_state(job.pid) != "T"
    finally:
        resume(job.pid)
        job.kill()
        job.wait()


def test_a_busy_machine_pauses_the_job_but_it_still_finishes(
    tmp_path: Path, lock_path: Path, busy_machine: None
) -> None:
    stamps = tmp_path / "stamps"
    job = subprocess.Popen([sys.executable, "-c", STEPS, str(stamps)])
    assert mind(job, lock_path) == 0
    # Paused MAX_HELD_WINDOWS windows at a time, then let run one: gaps of about 0.3 s between its steps.
    assert longest_gap(stamps) >= (job_process.MAX_HELD_WINDOWS - 0.5) * job_process.WINDOW_SECONDS


class QuietMachine(MachineLoad):
    """A machine that always leaves a core idle, whatever else runs beside the test; counts its readings."""

    def __init__(self, pid: int) -> None:
        self.cores, self.readings = 2, 0

    def others_busy_cores(self) -> float:
        self.readings += 1
        return 0.0


def test_a_quiet_machine_lets_the_job_run_flat_out(lock_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pauses: list[int] = []
    monkeypatch.setattr(job_process, "pause", lambda pid, lock: pauses.append(pid) or True)
    job = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(1.0)"])
    machines: list[QuietMachine] = []

    def quiet(pid: int) -> QuietMachine:
        machines.append(QuietMachine(pid))
        return machines[-1]

    assert mind(job, lock_path, quiet) == 0
    assert machines[0].readings >= 2 and pauses == []  # it looked at the machine, and never paused the job
