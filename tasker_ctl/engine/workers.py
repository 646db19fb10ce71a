"""Worker pools: where step handlers run, each outcome posted on one completion queue.

:class:`WorkerPool` is what the scheduler uses; :class:`ThreadWorkerPool` (the default) runs
handlers on threads of this process, :class:`~tasker_ctl.engine.processes.ProcessWorkerPool`
(``--workers process``) in worker processes, for CPU-bound handlers. :func:`start_pool` picks one
from the run's options.

Each job carries a token; the scheduler ignores a completion whose token it no longer expects (a
step that overran its timeout and was already failed). The threads of the thread pool are
daemons, so a handler that never returns cannot keep the process alive after a
run has been interrupted.

A step's timeout is measured from the moment a worker starts its handler (:meth:`started_at`),
not from when it was queued. A thread whose handler overran cannot be stopped: the scheduler
:meth:`abandon`\\ s it, it no longer counts, and it ends as soon as its handler returns, so the
pool always has ``size`` threads free to take jobs.

Threads are started when jobs need them, up to ``size``: a chain of steps runs on one thread,
and a short run does not pay for eight.
"""

from __future__ import annotations

import itertools
import queue
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from tasker_ctl.handlers.capture import OutputLine
from tasker_ctl.handlers.outcome import StepOutcome
from tasker_ctl.handlers.payload import HandlerDefinition

if TYPE_CHECKING:
    from tasker_ctl.engine.options import RunOptions
    from tasker_ctl.handlers.registry import HandlerRegistry

Job = Callable[[], StepOutcome]
_JobKey = tuple[str, int]


@dataclass(frozen=True)
class StepCall:
    """One call of a step's handler, in the two forms the pools take.

    A thread calls it (``run``: the resolved handler on ``payload``, its output captured). A
    worker process is sent ``definition`` and ``payload`` instead and resolves the handler itself;
    what the handler printed comes back with the outcome and goes to ``deliver_output``.
    ``resolved`` is false when the handler did not resolve here: ``run`` then only reports that.
    """

    run: Job
    definition: HandlerDefinition
    payload: Mapping[str, Any]
    resolved: bool = True
    deliver_output: Callable[[Sequence[OutputLine]], None] | None = None

    def __call__(self) -> StepOutcome:
        return self.run()


@dataclass(frozen=True)
class Completion:
    """A finished job: which step, which dispatch of it, and what the handler produced."""

    step_uuid: str
    token: int
    outcome: StepOutcome


class WorkerPool(Protocol):
    """Runs handler calls and reports each outcome on :attr:`completions` (see the module)."""

    completions: queue.SimpleQueue[Completion]

    def submit(self, step_uuid: str, token: int, call: StepCall) -> None:
        """Queue ``call``; its outcome arrives on :attr:`completions`."""

    def started_at(self, step_uuid: str, token: int) -> float | None:
        """When a worker started this call (by the run's clock); None while queued or finished."""

    def abandon(self, step_uuid: str, token: int) -> None:
        """Give up on a running call (it overran its timeout): its worker is replaced."""

    def shutdown(self) -> None:
        """No more calls: idle workers end."""


def start_pool(options: RunOptions, registry: HandlerRegistry) -> WorkerPool:
    """The pool ``options.workers`` asks for, of ``options.concurrency`` workers.

    Worker processes discover the same handler modules as ``registry`` did, from its root.
    """
    size = max(1, options.concurrency)
    if options.workers == "process":
        from tasker_ctl.engine.processes import ProcessWorkerPool
        from tasker_ctl.handlers.worker_process import WorkerSetup

        setup = WorkerSetup(str(registry.root), tuple(registry.discovered_modules))
        return ProcessWorkerPool(size, setup, options.clock)
    return ThreadWorkerPool(size, options.clock)


class ThreadWorkerPool:
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
        self._threads = 0  # started and not abandoned
        self._idle = 0  # of those, waiting for a job
        self._queued = 0  # jobs not yet taken by a thread

    def submit(self, step_uuid: str, token: int, job: Job) -> None:
        """Queue ``job``; its outcome arrives on :attr:`completions`."""
        with self._lock:
            self._queued += 1
            self._add_thread_if_needed()
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
            self._threads -= 1
            self._add_thread_if_needed()

    def shutdown(self) -> None:
        """Let each worker end once it is idle; a handler still running finishes first."""
        with self._lock:
            threads = self._threads
        for _ in range(threads):
            self._jobs.put(None)

    def _add_thread_if_needed(self) -> None:
        """Start a thread when more jobs wait than threads are idle (called holding the lock)."""
        if self._queued > self._idle and self._threads < self._size:
            self._threads += 1
            self._idle += 1  # it takes a queued job first thing
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
                self._idle -= 1
                self._queued -= 1
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
                if not abandoned:
                    self._idle += 1
            self.completions.put(Completion(step_uuid, token, outcome))
            if abandoned:
                return  # no longer counted: another thread takes this one's place
