"""Worker threads that run step handlers and post each outcome on one completion queue.

The threads are daemons, so a handler that never returns cannot keep the process alive after a
run has been interrupted. Each job carries a token; the scheduler ignores a completion whose token
it no longer expects (a step that overran its timeout and was already failed).

A step's timeout is measured from the moment a worker starts its handler (:meth:`started_at`),
not from when it was queued. A thread whose handler overran cannot be stopped: the scheduler
:meth:`abandon`\\ s it, a new thread takes its place at once, and the abandoned one ends as soon as
its handler returns, so the pool always has ``size`` threads free to take jobs.
"""

from __future__ import annotations

import itertools
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from tasker_ctl.handlers.outcome import StepOutcome

Job = Callable[[], StepOutcome]
_JobKey = tuple[str, int]


@dataclass(frozen=True)
class Completion:
    """A finished job: which step, which dispatch of it, and what the handler produced."""

    step_uuid: str
    token: int
    outcome: StepOutcome


class WorkerPool:
    """``size`` daemon threads taking jobs in order and reporting to ``completions``.

    ``clock`` stamps when each job starts (the scheduler's clock, so deadlines compare).
    """

    def __init__(self, size: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.completions: queue.SimpleQueue[Completion] = queue.SimpleQueue()
        self._jobs: queue.SimpleQueue[tuple[str, int, Job] | None] = queue.SimpleQueue()
        self._size = size
        self._clock = clock
        self._lock = threading.Lock()
        self._running: dict[_JobKey, float] = {}
        self._abandoned: set[_JobKey] = set()
        self._numbers = itertools.count()
        for _ in range(size):
            self._start_thread()

    def submit(self, step_uuid: str, token: int, job: Job) -> None:
        """Queue ``job``; its outcome arrives on :attr:`completions`."""
        self._jobs.put((step_uuid, token, job))

    def started_at(self, step_uuid: str, token: int) -> float | None:
        """When a worker started this job (by ``clock``); None while queued or once finished."""
        with self._lock:
            return self._running.get((step_uuid, token))

    def abandon(self, step_uuid: str, token: int) -> None:
        """Give up on a running job: a new thread replaces the one stuck in it.

        The stuck thread posts its (ignored) completion and ends when its handler returns. A job
        that already finished is left alone.
        """
        key = (step_uuid, token)
        with self._lock:
            if key not in self._running:
                return
            del self._running[key]
            self._abandoned.add(key)
        self._start_thread()

    def shutdown(self) -> None:
        """Let each worker end once it is idle; a handler still running finishes first."""
        for _ in range(self._size):
            self._jobs.put(None)

    def _start_thread(self) -> None:
        name = f"tasker-step-{next(self._numbers)}"
        threading.Thread(target=self._work, name=name, daemon=True).start()

    def _work(self) -> None:
        while True:
            item = self._jobs.get()
            if item is None:
                return
            step_uuid, token, job = item
            key = (step_uuid, token)
            with self._lock:
                self._running[key] = self._clock()
            try:
                outcome = job()
            except BaseException as exc:  # reported as the step's failure, never lost
                outcome = StepOutcome.failed(
                    f"{type(exc).__name__}: {exc}", "handler_error", retryable=True
                )
            with self._lock:
                self._running.pop(key, None)
                abandoned = key in self._abandoned
                self._abandoned.discard(key)
            self.completions.put(Completion(step_uuid, token, outcome))
            if abandoned:
                return  # a replacement thread already took this one's place
