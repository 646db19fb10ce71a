"""What a run is given: concurrency, where handlers run, the grace period after Ctrl-C, the clock,
the lease."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from tasker_ctl.engine.lease import DEFAULT_HEARTBEAT_SECONDS

DEFAULT_CONCURRENCY = 8
DEFAULT_GRACE_SECONDS = 10.0
WorkerKind = Literal["thread", "process"]


class SkippingClock:
    """A monotonic clock that a run moves forward instead of waiting for a retry to fall due.

    With it, retries' backoff is skipped whenever nothing is running (handlers and their
    timeouts still take real time): workflow tests do not sleep through backoffs
    (:mod:`tasker_ctl.testing` uses it by default).
    """

    def __init__(self) -> None:
        self.skipped = 0.0

    def __call__(self) -> float:
        return time.monotonic() + self.skipped

    def skip(self, seconds: float) -> None:
        """Move the clock ``seconds`` forward."""
        self.skipped += seconds


@dataclass(frozen=True)
class RunOptions:
    """How a run behaves; the clock is injectable so tests can reason about time."""

    concurrency: int = DEFAULT_CONCURRENCY
    grace_seconds: float = DEFAULT_GRACE_SECONDS
    clock: Callable[[], float] = time.monotonic
    heartbeat_seconds: float = DEFAULT_HEARTBEAT_SECONDS
    take_over: bool = False  # take the task's lease even from a live (stuck) run
    workers: WorkerKind = "thread"  # "process": handlers run in worker processes (CPU-bound)
