"""`make run` on a fresh clone: how long until the service answers, and that its venv holds no torch.

Clones the committed HEAD of this repository into a temporary folder (`git clone --local`, so uncommitted changes
are not measured), runs `make run` there on a free loopback port with its own database, polls `/healthz`, then
stops the whole process group. Pip may use this machine's download cache, as a second `make run` on any machine
would; pass `--no-cache` to measure a cold install. Run: `make bench-fresh`.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
READY_TARGET_SECONDS = 180.0


def free_port() -> int:
    """A loopback port nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def answers(url: str) -> bool:
    """Whether GET url answers 200."""
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def installed_torch(venv: Path) -> bool:
    """Whether the venv's site-packages holds a torch package."""
    return any(venv.glob("lib/python*/site-packages/torch"))


def main() -> int:
    """Clone, `make run`, wait for /healthz; print the time and PASS/MISS; exit 1 on a miss."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", type=float, default=600.0, help="give up after this many seconds")
    parser.add_argument("--no-cache", action="store_true", help="pip without its download cache")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="fresh-clone-"))
    clone = folder / "clone"
    subprocess.run(["git", "clone", "-q", "--local", str(ROOT), str(clone)], check=True)
    port = free_port()
    env = {**os.environ, "MODERATION_DB": str(folder / "moderation.db"), "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    env.pop("VIRTUAL_ENV", None)
    if args.no_cache:
        env["PIP_NO_CACHE_DIR"] = "1"
    log = (folder / "make-run.log").open("w")
    started = time.monotonic()
    child = subprocess.Popen(
        ["make", "run", f"PORT={port}", "PYTHON=python3"],
        cwd=clone,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    ready: float | None = None
    try:
        while time.monotonic() - started < args.timeout and child.poll() is None:
            if answers(f"http://127.0.0.1:{port}/healthz"):
                ready = time.monotonic() - started
                break
            time.sleep(0.5)
    finally:
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGTERM)
            try:
                child.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(child.pid, signal.SIGKILL)
                child.wait()
        log.close()
    torch_found = installed_torch(clone / ".venv")
    print(f"fresh clone: make run answered /healthz after {ready:.1f} s" if ready else "fresh clone: never ready")
    ready_ok = ready is not None and ready <= READY_TARGET_SECONDS
    print(f"  ready within {READY_TARGET_SECONDS:.0f} s: {'PASS' if ready_ok else 'MISS'}")
    print(f"  no torch in the service's venv: {'PASS' if not torch_found else 'MISS'}")
    if ready is None:
        print((folder / "make-run.log").read_text()[-3000:])
    shutil.rmtree(folder, ignore_errors=True)
    return 0 if ready_ok and not torch_found else 1


if __name__ == "__main__":
    raise SystemExit(main())
