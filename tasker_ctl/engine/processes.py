"""Worker processes for CPU-bound handlers (``--workers process``): the second :class:`WorkerPool`.

Threads give CPU-bound Python handlers nothing (one interpreter lock runs them one at a time);
processes run them on every core. Each worker here is a thread of the engine's process paired
with a worker process (:mod:`tasker_ctl.handlers.worker_process`, started with ``spawn``: a
fresh interpreter, never a ``fork`` of the engine with its threads and open store). The thread
takes a job from the pool's queue, sends it to its process, waits for the reply and posts the
completion, so the scheduler thread stays the only one that touches the store, and timeouts,
Ctrl-C and the lease's notices work as with threads.

Workers are started when jobs need them (up to ``size``) and take a job only once their process
is ready (its handler modules imported), so a step's timeout does not count a worker's start-up.
A worker whose handler overran its timeout is killed at once and a new one takes its place; a
worker process that dies while running a handler fails that attempt (retryable) and is started
again. What goes to a worker is the handler's definition and the step's payload (JSON data);
what comes back must pickle (see the worker module).
"""

from __future__ import annotations

import contextlib
import itertools
import multiprocessing
import pickle
import queue
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

from tasker_ctl.engine.workers import Completion, StepCall
from tasker_ctl.handlers.capture import OutputLine
from tasker_ctl.handlers.outcome import StepOutcome
from tasker_ctl.handlers.worker_process import (
    READY,
    STOP,
    HandlerJob,
    JobReply,
    WorkerSetup,
    not_picklable,
    serve,
)

WORKER_LOST = "worker_lost"
INPUT_NOT_PICKLABLE = "input_not_picklable"
_STOP_WAIT_SECONDS = 5.0
_Key = tuple[str, int]


@dataclass(frozen=True)
class _Queued:
    step_uuid: str
    token: int
    job: bytes
    deliver_output: Callable[[Sequence[OutputLine]], None] | None


class _Worker:
    """One worker thread's process and its end of the pipe (None until started)."""

    def __init__(self, number: int) -> None:
        self.number = number
        self.process: BaseProcess | None = None
        self.connection: Connection | None = None
        self.failure: str | None = None  # why the process could not start


class ProcessWorkerPool:
    """Up to ``size`` worker processes running handler calls; same interface as the threads'.

    ``clock`` stamps when each job starts (the scheduler's clock, so deadlines compare).
    """

    def __init__(
        self, size: int, setup: WorkerSetup, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.completions: queue.SimpleQueue[Completion] = queue.SimpleQueue()
        self._jobs: queue.SimpleQueue[_Queued | None] = queue.SimpleQueue()
        self._size = size
        self._setup = setup
        self._clock = clock
        self._context = multiprocessing.get_context("spawn")  # never fork: see the module
        self._lock = threading.Lock()
        self._running: dict[_Key, tuple[float, _Worker]] = {}
        self._abandoned: set[_Key] = set()
        self._alive = 0  # workers not abandoned
        self._free = 0  # of those, the ones starting or waiting for a job
        self._waiting = 0  # jobs queued and not yet taken
        self._closed = False
        self._numbers = itertools.count()

    def submit(self, step_uuid: str, token: int, call: StepCall) -> None:
        """Queue ``call`` for a worker process; its outcome arrives on :attr:`completions`."""
        if not call.resolved:  # nothing to run: the call only reports why
            self.completions.put(Completion(step_uuid, token, call()))
            return
        try:
            job = pickle.dumps(
                HandlerJob(call.definition, plain_payload(call.payload)),
                protocol=pickle.HIGHEST_PROTOCOL,
            )
        except Exception as exc:
            message = (
                f"the step's input cannot be pickled for its worker process: "
                f"{type(exc).__name__}: {exc}"
            )
            failure = StepOutcome.failed(message, INPUT_NOT_PICKLABLE, retryable=False)
            self.completions.put(Completion(step_uuid, token, failure))
            return
        with self._lock:
            self._waiting += 1
            if self._waiting > self._free and self._alive < self._size:
                self._start_worker()
        self._jobs.put(_Queued(step_uuid, token, job, call.deliver_output))

    def started_at(self, step_uuid: str, token: int) -> float | None:
        """When a worker sent this job to its process; None while queued or once finished."""
        with self._lock:
            running = self._running.get((step_uuid, token))
        return None if running is None else running[0]

    def abandon(self, step_uuid: str, token: int) -> None:
        """Kill the process running this job; a new worker takes its place. A job that already
        finished is left alone."""
        key = (step_uuid, token)
        with self._lock:
            running = self._running.pop(key, None)
            if running is None:
                return
            self._abandoned.add(key)
            self._alive -= 1
            if not self._closed:
                self._start_worker()
        _kill(running[1])

    def shutdown(self) -> None:
        """Idle workers stop; a handler still running (the run has stopped) is killed."""
        with self._lock:
            self._closed = True
            busy = list(self._running.items())
            self._abandoned.update(self._running)
            self._running.clear()
            alive = self._alive
        for _ in range(alive):
            self._jobs.put(None)
        for _, (_, worker) in busy:
            _kill(worker)

    def _start_worker(self) -> None:
        """A new worker (the caller holds the lock)."""
        self._alive += 1
        self._free += 1
        worker = _Worker(next(self._numbers))
        name = f"tasker-process-{worker.number}"
        threading.Thread(target=self._serve, args=(worker,), name=name, daemon=True).start()

    def _serve(self, worker: _Worker) -> None:
        self._launch(worker)
        while True:
            item = self._jobs.get()
            if item is None:
                _stop(worker)
                return
            key = (item.step_uuid, item.token)
            with self._lock:
                self._waiting -= 1
                if self._closed:
                    continue  # the run is over: a job still queued is not started
                self._free -= 1
                self._running[key] = (self._clock(), worker)
            reply = self._exchange(worker, item.job)
            with self._lock:
                self._running.pop(key, None)
                abandoned = key in self._abandoned
                self._abandoned.discard(key)
                if not abandoned:
                    self._free += 1
            if abandoned:
                _stop(worker)
                return  # a replacement already took this worker's place; its result is ignored
            lost = reply is None
            if reply is None:
                reply = JobReply(self._lost(worker), ())
            if item.deliver_output is not None and reply.lines:
                item.deliver_output(reply.lines)
            self.completions.put(Completion(item.step_uuid, item.token, reply.outcome))
            if lost:
                self._launch(worker)

    def _launch(self, worker: _Worker) -> None:
        """Start ``worker``'s process and wait until it is ready (or record why it is not)."""
        parent_end, child_end = self._context.Pipe(duplex=True)
        process = self._context.Process(
            target=serve,
            args=(child_end, self._setup),
            name=f"tasker-step-process-{worker.number}",
            daemon=True,
        )
        worker.process, worker.connection, worker.failure = None, None, None
        try:
            process.start()
        except Exception as exc:
            worker.failure = f"{type(exc).__name__}: {exc}"
            return
        finally:
            child_end.close()
        worker.process, worker.connection = process, parent_end
        try:
            greeting = parent_end.recv_bytes()
        except (EOFError, OSError):
            greeting = b""
        if greeting != READY:
            process.join(_STOP_WAIT_SECONDS)
            worker.failure = f"it ended before it was ready (exit code {process.exitcode})"

    def _exchange(self, worker: _Worker, job: bytes) -> JobReply | None:
        """Send the job and wait for the reply; None when the process died meanwhile."""
        connection = worker.connection
        if connection is None or worker.failure is not None:
            message = f"cannot start a worker process for the handler: {worker.failure}"
            return JobReply(StepOutcome.failed(message, WORKER_LOST, retryable=False), ())
        try:
            connection.send_bytes(job)
            data = connection.recv_bytes()
        except (EOFError, OSError):
            return None
        try:
            reply: JobReply = pickle.loads(data)
        except Exception as exc:
            detail = f"the engine cannot unpickle it ({type(exc).__name__}: {exc})"
            return JobReply(not_picklable(detail), ())
        return reply

    def _lost(self, worker: _Worker) -> StepOutcome:
        process = worker.process
        if process is not None:
            process.join(_STOP_WAIT_SECONDS)
        code = None if process is None else process.exitcode
        return StepOutcome.failed(
            f"the worker process running the handler ended unexpectedly (exit code {code})",
            WORKER_LOST,
            retryable=True,
        )


def plain_payload(payload: Mapping[str, Any]) -> dict[str, Any]:
    """The payload as plain data: the ancestors' results read now (the engine's lazy view of
    them cannot leave its process)."""
    results = payload.get("dependency_results")
    return {**payload, "dependency_results": dict(results or {})}


def _stop(worker: _Worker) -> None:
    """Ask the worker's process to end, and wait for it (briefly)."""
    connection, process = worker.connection, worker.process
    if connection is not None:
        with contextlib.suppress(OSError):  # a killed process has closed its end
            connection.send_bytes(STOP)
    if process is not None:
        process.join(_STOP_WAIT_SECONDS)
        if process.exitcode is None:
            process.kill()
            process.join(_STOP_WAIT_SECONDS)
    if connection is not None:
        connection.close()


def _kill(worker: _Worker) -> None:
    """End the worker's process at once (its handler overran, or the run is over)."""
    process = worker.process
    if process is not None and process.exitcode is None:
        process.kill()
