"""A bounded loopback load generator for the soak tests: client processes with threads, each comment posted once
(and retried with the same id only after a cut connection), every answer recorded with its latency."""

from __future__ import annotations

import http.client
import json
import multiprocessing as mp
import threading
import time
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Posted:
    """What one client process saw."""

    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    acknowledged: dict[str, int] = field(default_factory=dict)  # comment id -> decision id
    model_versions: dict[str, int] = field(default_factory=dict)
    transport_errors: list[str] = field(default_factory=list)
    bodies_5xx: list[str] = field(default_factory=list)
    slowest: list[tuple[float, float]] = field(default_factory=list)  # (wall clock at start, seconds), over 0.5 s


def _post_all(
    port: int,
    key: str,
    bodies: list[bytes],
    ids: list[str],
    offset: int,
    step: int,
    threads: int,
    deadline: float,
    queue: Any,
) -> None:
    posted = Posted()
    lock = threading.Lock()
    indices = iter(range(offset, len(bodies), step))
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {key}"}

    def client() -> None:
        while time.time() < deadline:
            with lock:
                index = next(indices, None)
            if index is None:
                return
            for _attempt in range(5):
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                started, started_at = time.perf_counter(), time.time()
                try:
                    connection.request("POST", "/v1/comments", body=bodies[index], headers=headers)
                    response = connection.getresponse()
                    raw = response.read()
                except (OSError, http.client.HTTPException) as error:
                    with lock:
                        posted.transport_errors.append(f"{type(error).__name__}: {error}")
                    continue  # the same id again: a retry is idempotent
                finally:
                    connection.close()
                elapsed = time.perf_counter() - started
                with lock:
                    posted.latencies.append(elapsed)
                    if elapsed > 0.5:
                        posted.slowest.append((started_at, elapsed))
                    posted.statuses[response.status] = posted.statuses.get(response.status, 0) + 1
                    if response.status in (200, 201):
                        answer = json.loads(raw)
                        posted.acknowledged[ids[index]] = int(answer["decision_id"])
                        version = str(answer["model_version"])
                        posted.model_versions[version] = posted.model_versions.get(version, 0) + 1
                    elif response.status >= 500:
                        posted.bodies_5xx.append(raw[:300].decode("utf-8", "replace"))
                break

    workers = [threading.Thread(target=client) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    queue.put(posted)


def post_comments(
    port: int, key: str, comments: list[dict[str, Any]], clients: int, processes: int, time_cap: float
) -> tuple[Posted, float]:
    """Post every comment once at `clients` concurrent clients over `processes` processes; (merged, wall seconds)."""
    bodies = [json.dumps(comment).encode() for comment in comments]
    ids = [str(comment["id"]) for comment in comments]
    context = mp.get_context("fork")
    queue = context.Queue()
    deadline = time.time() + time_cap
    threads = max(1, clients // processes)
    children = [
        context.Process(target=_post_all, args=(port, key, bodies, ids, n, processes, threads, deadline, queue))
        for n in range(processes)
    ]
    started = time.perf_counter()
    for child in children:
        child.start()
    parts = [queue.get() for _ in children]
    wall = time.perf_counter() - started
    for child in children:
        child.join()
    merged = Posted()
    for part in parts:
        merged.latencies.extend(part.latencies)
        merged.acknowledged.update(part.acknowledged)
        merged.transport_errors.extend(part.transport_errors)
        merged.bodies_5xx.extend(part.bodies_5xx)
        merged.slowest.extend(part.slowest)
        for status, count in part.statuses.items():
            merged.statuses[status] = merged.statuses.get(status, 0) + count
        for version, count in part.model_versions.items():
            merged.model_versions[version] = merged.model_versions.get(version, 0) + count
    return merged, wall


def percentile(values: list[float], share: float) -> float:
    """The `share` quantile (nearest rank)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]
