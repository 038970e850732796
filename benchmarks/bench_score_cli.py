"""Stream JSON Lines through `moderation score` and show its memory stays flat as the input grows.

Feeds N generated comments through a pipe (never on disk), reads the output as it comes, and reports the child's
peak resident memory for a small and a large run, with throughput. Run: `make bench-cli` (default 1,000,000 lines).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path

WORDS = (
    "the minister said talks on the border would resume next week while critics called the plan naive and "
    "several readers from yerevan baku and tbilisi argued about the pipeline sanctions elections and history "
    "you idiot this is nonsense check out my channel www example com great analysis thanks"
).split()


def comment(index: int) -> str:
    """A varied comment of 20-60 words, deterministic for its index."""
    length = 20 + index % 41
    return " ".join(WORDS[(index * 7 + k * 13) % len(WORDS)] for k in range(length)) + f" #{index}"


def run(lines: int) -> tuple[float, float, int]:
    """(peak RSS of the scoring process in MB, comments per second, output lines) for one run."""
    command = [str(Path(sys.executable).parent / "moderation"), "score"]
    child = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert child.stdin is not None and child.stdout is not None
    stdin = child.stdin

    def feed() -> None:
        for index in range(lines):
            stdin.write((json.dumps({"id": index, "text": comment(index)}) + "\n").encode())
        stdin.close()

    start = time.perf_counter()
    writer = threading.Thread(target=feed)
    writer.start()
    count = 0
    for _ in child.stdout:
        count += 1
    writer.join()
    child.wait()
    elapsed = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_maxrss / 1024, lines / elapsed, count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lines", type=int, default=1_000_000)
    args = parser.parse_args()
    # The small run is big enough to fill the bounded per-word cache, so any further growth would be a leak.
    small = max(args.lines // 10, 1000)
    # RUSAGE_CHILDREN reports the largest child so far, so measure the small run first.
    small_rss, small_rate, small_count = run(small)
    large_rss, large_rate, large_count = run(args.lines)
    print(f"{'lines':>10}  {'peak RSS (MB)':>14}  {'comments/s':>11}  {'output lines':>12}")
    print(f"{small:>10}  {small_rss:>14.1f}  {small_rate:>11.0f}  {small_count:>12}")
    print(f"{args.lines:>10}  {large_rss:>14.1f}  {large_rate:>11.0f}  {large_count:>12}")
    growth = large_rss - small_rss
    ok = large_count == args.lines and small_count == small and growth <= 0.1 * small_rss
    print(
        f"memory growth from {small} to {args.lines} lines: {growth:+.1f} MB -> "
        f"{'constant (PASS)' if ok else 'NOT constant or lines lost (MISS)'}"
    )


if __name__ == "__main__":
    main()
