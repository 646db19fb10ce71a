"""Worker threads that run step handlers and post each outcome on one completion queue.

The threads are daemons, so a handler that never returns cannot keep the process alive after a
run has been interrupted. Each job carries a token; the scheduler ignores a completion whose token
it no longer expects (a step that overran its timeout and was already failed).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass

from tasker_ctl.handlers.outcome import StepOutcome

Job = Callable[[], StepOutcome]


@dataclass(frozen=True)
class Completion:
    """A finished job: which step, which dispatch of it, and what the handler produced."""

    step_uuid: str
    token: int
    outcome: StepOutcome


class WorkerPool:
    """``size`` daemon threads taking jobs in order and reporting to ``completions``."""

    def __init__(self, size: int) -> None:
        self.completions: queue.SimpleQueue[Completion] = queue.SimpleQueue()
        self._jobs: queue.SimpleQueue[tuple[str, int, Job] | None] = queue.SimpleQueue()
        self._size = size
        for index in range(size):
            threading.Thread(target=self._work, name=f"tasker-step-{index}", daemon=True).start()

    def submit(self, step_uuid: str, token: int, job: Job) -> None:
        """Queue ``job``; its outcome arrives on :attr:`completions`."""
        self._jobs.put((step_uuid, token, job))

    def shutdown(self) -> None:
        """Let each worker end once it is idle; a handler still running finishes first."""
        for _ in range(self._size):
            self._jobs.put(None)

    def _work(self) -> None:
        while True:
            item = self._jobs.get()
            if item is None:
                return
            step_uuid, token, job = item
            try:
                outcome = job()
            except BaseException as exc:  # reported as the step's failure, never lost
                outcome = StepOutcome.failed(
                    f"{type(exc).__name__}: {exc}", "handler_error", retryable=True
                )
            self.completions.put(Completion(step_uuid, token, outcome))
