"""`moderation serve --proxy`: the production set-up, nginx in front of gunicorn's sync workers, one supervisor.

This process makes a private run directory, starts gunicorn on a unix socket inside it (nothing but this
user reaches it; no TCP port), waits for the socket, then starts nginx on MODERATION_HOST:PORT with the
generated configuration (`nginx.conf.template`) as a child in the foreground. SIGTERM or SIGINT stops both
gracefully (nginx first, so no request it accepted is cut off, then gunicorn); if either exits by itself the
other is stopped and the exit status says so. Both children get SIGTERM if this process dies, even by
SIGKILL, and the next start removes the run directory such a death leaves (see `moderation.rundirs`).
"""

from __future__ import annotations

import ctypes
import grp
import os
import pwd
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import IO

from moderation.redaction import redacted_line
from moderation.rundirs import make_run_directory, remove_stale_run_directories

TEMPLATE = Path(__file__).with_name("nginx.conf.template")
RUN_DIR_PREFIX = "moderation-proxy-"
NGINX_CANDIDATES = ("/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/local/nginx/sbin/nginx")
MAX_BODY_BYTES = 1024 * 1024  # api.MAX_BATCH_BODY_BYTES: nginx refuses larger bodies before a worker reads them
UNIX_PATH_MAX = 107  # sockaddr_un.sun_path holds 108 bytes, the last a NUL
SOCKET_WAIT_SECONDS = 120.0
NGINX_STOP_SECONDS = 10.0  # worker_shutdown_timeout is 5 s
GUNICORN_STOP_SECONDS = 20.0  # gunicorn's graceful_timeout is 10 s
_SAFE_PATH = re.compile(r"[A-Za-z0-9_./+-]+")  # written unquoted into nginx.conf
_SAFE_HOST = re.compile(r"[A-Za-z0-9.:-]+")
_PR_SET_PDEATHSIG = 1


class ProxyError(Exception):
    """The proxy set-up cannot start (no nginx, a bad address or path, a configuration nginx refuses)."""


@dataclass(frozen=True)
class RunLayout:
    """Where one run keeps its files: the directory, gunicorn's socket, nginx's configuration."""

    directory: Path

    @property
    def socket(self) -> Path:
        """gunicorn's unix socket, the only way to its workers."""
        return self.directory / "gunicorn.sock"

    @property
    def config(self) -> Path:
        """The generated nginx configuration."""
        return self.directory / "nginx.conf"


def find_nginx(explicit: str | None = None) -> str:
    """The nginx binary: `explicit`, else the one on PATH, else Debian's /usr/sbin/nginx; ProxyError if none."""
    if explicit:
        found = shutil.which(explicit)
        if found is None:
            raise ProxyError(f"nginx not found at {explicit}")
        return found
    found = shutil.which("nginx") or next((path for path in NGINX_CANDIDATES if os.access(path, os.X_OK)), None)
    if found is None:
        raise ProxyError("nginx is not installed (on Debian: apt-get install nginx-light); `make run` needs none")
    return found


def listen_address(host: str, port: int) -> str:
    """nginx's `listen` argument for an address and port (IPv6 literals in brackets)."""
    if not _SAFE_HOST.fullmatch(host):
        raise ProxyError(f"MODERATION_HOST {host!r} is not an address or host name nginx can listen on")
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def open_file_limit() -> int:
    """The open-file limit to give nginx's workers: this process's hard limit, at most 65,536."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    return 65536 if hard == resource.RLIM_INFINITY else min(hard, 65536)


def user_directive() -> str:
    """`user` for nginx: as root its workers would become nobody, who cannot enter the private run directory."""
    if os.geteuid() != 0:
        return "# (not root: the workers run as this user)"
    return f"user {pwd.getpwuid(os.geteuid()).pw_name} {grp.getgrgid(os.getegid()).gr_name};"


def nginx_config(layout: RunLayout, host: str, port: int) -> str:
    """The nginx configuration for this run, from the template."""
    for path in (layout.directory, layout.socket):
        if not _SAFE_PATH.fullmatch(str(path)):
            raise ProxyError(f"the run directory path {path} has characters nginx.conf cannot hold unquoted")
    if len(os.fsencode(layout.socket)) > UNIX_PATH_MAX:
        raise ProxyError(f"the socket path {layout.socket} is over {UNIX_PATH_MAX} bytes; use a shorter TMPDIR")
    open_files = open_file_limit()
    values = {
        "USER_DIRECTIVE": user_directive(),
        "RUN_DIR": str(layout.directory),
        "SOCKET": str(layout.socket),
        "LISTEN": listen_address(host, port),
        "OPEN_FILES": str(open_files),
        "WORKER_CONNECTIONS": str(max(256, min(8192, open_files // 2))),
        "MAX_BODY_BYTES": str(MAX_BODY_BYTES),
    }
    text = TEMPLATE.read_text(encoding="utf-8")
    for name, value in values.items():
        text = text.replace(f"%%{name}%%", value)
    left = re.findall(r"%%[A-Z_]+%%", text)
    assert not left, f"nginx.conf.template fields without a value: {left}"
    return text


def nginx_argv(nginx: str, layout: RunLayout, *extra: str) -> list[str]:
    """nginx on this run's configuration, with its prefix in the run directory and start-up errors on stderr."""
    return [nginx, "-p", f"{layout.directory}/", "-c", str(layout.config), "-e", "stderr", *extra]


def check_config(nginx: str, layout: RunLayout) -> None:
    """`nginx -t` on the written configuration; ProxyError with nginx's words if it refuses it."""
    checked = subprocess.run(nginx_argv(nginx, layout, "-q", "-t"), capture_output=True, text=True, timeout=30)
    if checked.returncode != 0:
        raise ProxyError(f"nginx refused its configuration {layout.config}:\n{checked.stderr.strip()}")


def _die_with_parent(parent: int) -> Callable[[], None]:
    """A preexec_fn: the child gets SIGTERM when this process dies, however it dies."""

    def arrange() -> None:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        if os.getppid() != parent:  # the parent died before prctl took effect
            os._exit(1)

    return arrange


def _socket_accepts(path: Path) -> bool:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        try:
            probe.connect(str(path))
        except OSError:
            return False
    return True


def _stop(process: subprocess.Popen[bytes] | None, signum: int, timeout: float) -> int | None:
    """Signal a child and wait for it (SIGKILL after `timeout`); its exit status."""
    if process is None:
        return None
    if process.poll() is None:
        process.send_signal(signum)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process.returncode


def _reap_orphans(own: set[int]) -> None:
    """As PID 1 in a container, orphans (e.g. a dead nginx master's workers) become ours: reap them."""
    while True:
        try:
            found = os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:
            return
        if found is None or found.si_pid in own:
            return  # our own children are left to Popen, which reaps them
        os.waitpid(found.si_pid, 0)


def _log(message: str) -> None:
    print(f"moderation serve --proxy: {message}", file=sys.stderr, flush=True)


def serve_behind_nginx(host: str, port: int, gunicorn_argv: list[str], environ: Mapping[str, str], nginx: str) -> int:
    """Run gunicorn (`gunicorn_argv`, bound here to the run's socket) behind nginx on host:port; the exit status."""
    for stale in remove_stale_run_directories(RUN_DIR_PREFIX):
        _log(f"removed the stale run directory {stale} (its supervisor is gone)")
    layout = RunLayout(make_run_directory(RUN_DIR_PREFIX))
    try:
        layout.config.write_text(nginx_config(layout, host, port), encoding="utf-8")
        check_config(nginx, layout)
        gunicorn_env = {**environ, "MODERATION_BEHIND_PROXY": "true"}
        return _supervise(layout, [*gunicorn_argv, "--bind", f"unix:{layout.socket}"], gunicorn_env, nginx)
    finally:
        shutil.rmtree(layout.directory, ignore_errors=True)


def _relay_redacted(stream: IO[bytes] | None) -> None:
    """Copy a child's stderr to ours line by line, secrets redacted, until it closes."""
    if stream is None:
        return
    for raw in iter(stream.readline, b""):
        sys.stderr.write(redacted_line(raw.decode("utf-8", "replace")))
        sys.stderr.flush()


def _supervise(layout: RunLayout, gunicorn_argv: list[str], gunicorn_env: Mapping[str, str], nginx: str) -> int:
    """Start gunicorn, then nginx once gunicorn's socket answers; stop both on a signal or when one exits."""
    requested: list[int] = []

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        requested.append(signum)

    handled = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
    previous = {signum: signal.signal(signum, on_signal) for signum in handled}
    gunicorn: subprocess.Popen[bytes] | None = None
    nginx_process: subprocess.Popen[bytes] | None = None
    status = 0
    try:
        gunicorn = subprocess.Popen(gunicorn_argv, env=dict(gunicorn_env), preexec_fn=_die_with_parent(os.getpid()))
        deadline = time.monotonic() + SOCKET_WAIT_SECONDS
        while not requested and gunicorn.poll() is None and not _socket_accepts(layout.socket):
            if time.monotonic() > deadline:
                _log(f"gunicorn did not listen on {layout.socket} within {SOCKET_WAIT_SECONDS:.0f} s")
                return 1
            time.sleep(0.05)
        if requested:
            return 0
        if gunicorn.returncode is not None:
            _log(f"gunicorn exited with status {gunicorn.returncode} before listening")
            return gunicorn.returncode or 1
        nginx_process = subprocess.Popen(
            nginx_argv(nginx, layout), preexec_fn=_die_with_parent(os.getpid()), stderr=subprocess.PIPE
        )
        # nginx's error log quotes request lines, which may carry a `?key=`: it reaches stderr redacted.
        threading.Thread(target=_relay_redacted, args=(nginx_process.stderr,), daemon=True).start()
        own = {gunicorn.pid, nginx_process.pid}
        while not requested and gunicorn.poll() is None and nginx_process.poll() is None:
            _reap_orphans(own)
            time.sleep(0.2)
        if not requested:
            which, process = ("gunicorn", gunicorn) if gunicorn.returncode is not None else ("nginx", nginx_process)
            _log(f"{which} exited with status {process.returncode}; stopping the other")
            status = process.returncode or 1
        return status
    finally:
        # nginx first: it stops accepting and finishes what it holds while gunicorn still answers.
        _stop(nginx_process, signal.SIGQUIT, NGINX_STOP_SECONDS)
        _stop(gunicorn, signal.SIGTERM, GUNICORN_STOP_SECONDS)
        for signum, handler in previous.items():
            signal.signal(signum, handler)
