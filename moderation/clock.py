"""Where the service reads the time: passed in (the app factory's `CLOCK`), so tests can hold or move it."""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    """Monotonic seconds for intervals (rate limits) and wall-clock seconds for moments (session ages)."""

    def monotonic(self) -> float: ...

    def time(self) -> float: ...


class SystemClock:
    """The machine's clocks."""

    def monotonic(self) -> float:
        return time.monotonic()

    def time(self) -> float:
        return time.time()


class ManualClock:
    """A clock that moves only when told to (for tests and simulations): both readings advance together."""

    def __init__(self, start: float = 1_772_366_400.0) -> None:  # 2026-03-01 12:00 UTC
        self.now = start

    def monotonic(self) -> float:
        return self.now

    def time(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move the clock forward."""
        self.now += seconds
