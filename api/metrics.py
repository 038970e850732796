"""Request and decision counters per worker process, summed across gunicorn workers for /metrics.

Each worker counts in memory and, at most once a second (and at exit), writes its totals to
`<dir>/worker-<pid>.json`. A scrape answers from whichever worker gunicorn hands it to: that worker's
live counts plus every other worker's file, so the figures are at most about a second behind. Files of
workers that have exited stay, so totals never go down while the server runs; gunicorn.conf.py gives each
server start a fresh directory. Without a directory (tests, one process) only this process is counted.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

# Latency histogram bucket upper bounds, in seconds.
BUCKETS: tuple[float, ...] = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
FLUSH_SECONDS = 1.0


class Metrics:
    """One process's counters: requests by route, method and status; latency by route; decisions."""

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory
        self._lock = threading.Lock()
        self._pid = os.getpid()
        self._requests: dict[tuple[str, str, str], int] = {}
        # (route, method) -> [count per bucket..., count, sum of seconds]
        self._latency: dict[tuple[str, str], list[float]] = {}
        self._decisions: dict[tuple[str, str], int] = {}
        self._flushed_at = 0.0
        self._dirty = False

    def _check_fork(self) -> None:
        # A forked child starts its own counts; the parent's stay in the parent's file.
        if self._pid != os.getpid():
            self._pid = os.getpid()
            self._lock = threading.Lock()
            self._requests, self._latency, self._decisions = {}, {}, {}
            self._flushed_at, self._dirty = 0.0, False

    def observe_request(self, route: str, method: str, status: int, seconds: float) -> None:
        """Count one answered request and its latency."""
        self._check_fork()
        with self._lock:
            key = (route, method, str(status))
            self._requests[key] = self._requests.get(key, 0) + 1
            cells = self._latency.get((route, method))
            if cells is None:
                cells = self._latency[(route, method)] = [0.0] * (len(BUCKETS) + 2)
            for index, bound in enumerate(BUCKETS):
                if seconds <= bound:
                    cells[index] += 1
                    break
            cells[-2] += 1
            cells[-1] += seconds
            self._dirty = True
        if self.directory is not None and time.monotonic() - self._flushed_at >= FLUSH_SECONDS:
            self.flush()

    def count_decision(self, status: str, actor_type: str) -> None:
        """Count one decision this process recorded."""
        self._check_fork()
        with self._lock:
            key = (status, actor_type)
            self._decisions[key] = self._decisions.get(key, 0) + 1
            self._dirty = True

    def snapshot(self) -> dict[str, Any]:
        """This process's counts as a JSON-ready document."""
        self._check_fork()
        with self._lock:
            return {
                "pid": self._pid,
                "requests": [[*key, count] for key, count in self._requests.items()],
                "latency": [[*key, list(cells)] for key, cells in self._latency.items()],
                "decisions": [[*key, count] for key, count in self._decisions.items()],
            }

    def flush(self, force: bool = False) -> None:
        """Write this process's counts to its file in the directory (atomically), if anything changed."""
        self._check_fork()
        if self.directory is None or not (self._dirty or force):
            return
        document = self.snapshot()
        self._dirty = False
        self._flushed_at = time.monotonic()
        path = self.directory / f"worker-{self._pid}.json"
        temporary = path.with_name(f".{path.name}.tmp")
        try:
            temporary.write_text(json.dumps(document), encoding="utf-8")
            os.replace(temporary, path)
        except OSError:
            self._dirty = True  # the directory is gone or full: try again later, never fail a request

    def collect(self) -> dict[str, Any]:
        """Counts summed over this process (live) and every other worker's last file."""
        snapshots = [self.snapshot()]
        if self.directory is not None:
            snapshots.extend(_read_others(self.directory, self._pid))
        return merge(snapshots)


def _read_others(directory: Path, own_pid: int) -> Iterable[dict[str, Any]]:
    try:
        paths = sorted(directory.glob("worker-*.json"))
    except OSError:
        return []
    found = []
    for path in paths:
        if path.name == f"worker-{own_pid}.json":
            continue
        try:
            found.append(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            continue  # replaced or removed while we looked
    return found


def merge(snapshots: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Sum snapshots into {requests, latency, decisions, workers}."""
    requests: dict[tuple[str, ...], int] = {}
    latency: dict[tuple[str, ...], list[float]] = {}
    decisions: dict[tuple[str, ...], int] = {}
    workers = 0
    for snapshot in snapshots:
        workers += 1
        for *key, count in snapshot.get("requests", []):
            requests[tuple(key)] = requests.get(tuple(key), 0) + int(count)
        for route, method, cells in snapshot.get("latency", []):
            total = latency.setdefault((route, method), [0.0] * (len(BUCKETS) + 2))
            for index, value in enumerate(cells[: len(total)]):
                total[index] += value
        for *key, count in snapshot.get("decisions", []):
            decisions[tuple(key)] = decisions.get(tuple(key), 0) + int(count)
    return {"requests": requests, "latency": latency, "decisions": decisions, "workers": workers}


def _labels(**labels: str) -> str:
    inner = ",".join(f'{name}="{_escape(value)}"' for name, value in labels.items())
    return "{" + inner + "}"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def render(collected: Mapping[str, Any], *, queue: Mapping[str, int], outbox_pending: int, model_version: str) -> str:
    """The Prometheus text exposition (format 0.0.4) of collected counts and the database gauges."""
    lines = [
        "# HELP moderation_http_requests_total HTTP requests answered, by route template, method and status.",
        "# TYPE moderation_http_requests_total counter",
    ]
    for (route, method, status), count in sorted(collected["requests"].items()):
        lines.append(f"moderation_http_requests_total{_labels(route=route, method=method, status=status)} {count}")
    lines += [
        "# HELP moderation_http_request_duration_seconds Time to answer, by route template and method.",
        "# TYPE moderation_http_request_duration_seconds histogram",
    ]
    for (route, method), cells in sorted(collected["latency"].items()):
        cumulative = 0.0
        for bound, count in zip(BUCKETS, cells, strict=False):
            cumulative += count
            labels = _labels(route=route, method=method, le=repr(bound))
            lines.append(f"moderation_http_request_duration_seconds_bucket{labels} {int(cumulative)}")
        labels = _labels(route=route, method=method, le="+Inf")
        lines.append(f"moderation_http_request_duration_seconds_bucket{labels} {int(cells[-2])}")
        plain = _labels(route=route, method=method)
        lines.append(f"moderation_http_request_duration_seconds_count{plain} {int(cells[-2])}")
        lines.append(f"moderation_http_request_duration_seconds_sum{plain} {cells[-1]:.6f}")
    lines += [
        "# HELP moderation_decisions_total Decisions recorded by this server since it started, by status "
        "and actor type.",
        "# TYPE moderation_decisions_total counter",
    ]
    for (status, actor_type), count in sorted(collected["decisions"].items()):
        lines.append(f"moderation_decisions_total{_labels(status=status, actor_type=actor_type)} {count}")
    lines += [
        "# HELP moderation_queue_depth Comments waiting in the review queue (from the database).",
        "# TYPE moderation_queue_depth gauge",
    ]
    for kind, count in sorted(queue.items()):
        lines.append(f"moderation_queue_depth{_labels(kind=kind)} {count}")
    lines += [
        "# HELP moderation_outbox_pending Webhook events not yet delivered (from the database).",
        "# TYPE moderation_outbox_pending gauge",
        f"moderation_outbox_pending {outbox_pending}",
        "# HELP moderation_model_info The model version this worker scores with.",
        "# TYPE moderation_model_info gauge",
        f"moderation_model_info{_labels(version=model_version)} 1",
        "# HELP moderation_workers Worker processes whose counts are included (exited ones too).",
        "# TYPE moderation_workers gauge",
        f"moderation_workers {collected['workers']}",
    ]
    return "\n".join(lines) + "\n"
