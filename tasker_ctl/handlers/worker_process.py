"""The inside of a worker process (``--workers process``): resolve step handlers and call them.

The engine starts each worker with :func:`serve` (``spawn``: a fresh interpreter, never a fork
of the engine) and talks to it over one pipe. The worker never touches the store: it is sent a
handler definition and a plain payload, resolves the handler itself (the same handler modules,
from the same root, with the same ``tasker_core`` as the engine's registry), calls it with what
it prints captured, and sends back the outcome with the captured lines. Function objects never
cross the pipe; the payload is JSON data, and the outcome must pickle: one that does not comes
back as the step's failure naming the part that could not be pickled.

The worker ignores Ctrl-C (the terminal sends it to every process of the foreground group): the
engine decides when a worker stops, letting a running handler finish while the run drains, and
ending a worker whose handler overran its timeout.
"""

from __future__ import annotations

import pickle
import signal
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from tasker_ctl.errors import TaskerCtlError
from tasker_ctl.handlers.capture import AttemptCapture, OutputLine, attempt, routing
from tasker_ctl.handlers.invoke import ResolvedHandler, UnresolvedHandler
from tasker_ctl.handlers.outcome import StepOutcome
from tasker_ctl.handlers.payload import HandlerDefinition

READY = b"ready"
STOP = b"stop"
RESULT_NOT_PICKLABLE = "result_not_picklable"


@dataclass(frozen=True)
class WorkerSetup:
    """What a worker process needs to resolve handlers as the engine does."""

    root: str
    handler_modules: tuple[str, ...]


@dataclass(frozen=True)
class HandlerJob:
    """One call: the handler to resolve and the (plain, picklable) payload to call it with."""

    definition: HandlerDefinition
    payload: dict[str, Any]


@dataclass(frozen=True)
class JobReply:
    """How the call ended, and the lines the handler wrote meanwhile."""

    outcome: StepOutcome
    lines: tuple[OutputLine, ...]


def serve(connection: Connection, setup: WorkerSetup) -> None:
    """The worker's loop: say ready, then run each job sent until told to stop (or orphaned)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    handlers = _Handlers(setup)
    connection.send_bytes(READY)
    with routing():
        while True:
            try:
                message = connection.recv_bytes()
            except (EOFError, OSError):
                return  # the engine is gone
            if message == STOP:
                return
            job: HandlerJob = pickle.loads(message)
            connection.send_bytes(encode_reply(handlers.call(job)))


class _Handlers:
    """The worker's registry, and its handler definitions resolved once per callable."""

    def __init__(self, setup: WorkerSetup) -> None:
        from tasker_ctl.handlers.registry import HandlerRegistry, ResolvedHandlers

        registry = HandlerRegistry(root=Path(setup.root))
        self._problems: list[str] = []
        for module in setup.handler_modules:
            try:
                registry.discover(module)
            except TaskerCtlError as exc:
                self._problems.append(f"handler module '{module}': {exc.message}")
        self._resolved = ResolvedHandlers(registry)

    def call(self, job: HandlerJob) -> JobReply:
        """Run the job's handler with what it writes captured."""
        handler = self._resolved.get(job.definition)
        capture = AttemptCapture()
        with attempt(capture):
            outcome = handler.invoke(job.payload) if handler.ok else self._unresolved(handler)
        return JobReply(outcome, tuple(capture.take()))

    def _unresolved(self, handler: ResolvedHandler | UnresolvedHandler) -> StepOutcome:
        assert isinstance(handler, UnresolvedHandler)
        outcome = handler.outcome
        where = "; ".join(["in the worker process", *self._problems])
        return StepOutcome.failed(
            f"{outcome.error_message} ({where})",
            outcome.error_type or "handler_not_found",
            retryable=False,
        )


def encode_reply(reply: JobReply) -> bytes:
    """The reply pickled; a result that does not pickle becomes the step's failure saying where."""
    try:
        return pickle.dumps(reply, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as exc:
        outcome = reply.outcome
        part = (
            unpicklable_part(outcome.result, "result")
            if not _picklable(outcome.result)
            else unpicklable_part(outcome.metadata, "metadata")
        )
        failure = not_picklable(f"{part} ({type(exc).__name__}: {exc})")
        return pickle.dumps(JobReply(failure, reply.lines), protocol=pickle.HIGHEST_PROTOCOL)


def not_picklable(detail: str) -> StepOutcome:
    """The failure of a handler whose result cannot travel between processes."""
    return StepOutcome.failed(
        f"handler result cannot be pickled, as --workers process needs: {detail}",
        RESULT_NOT_PICKLABLE,
        retryable=False,
    )


def unpicklable_part(value: Any, path: str) -> str:
    """Where ``value`` stops being picklable (e.g. ``result['rows'][2]: Row``)."""
    if isinstance(value, dict):
        for key, item in value.items():
            if not _picklable(key):
                return f"{path}: key {key!r}"
            if not _picklable(item):
                return unpicklable_part(item, f"{path}[{key!r}]")
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            if not _picklable(item):
                return unpicklable_part(item, f"{path}[{index}]")
    return f"{path}: {type(value).__qualname__}"


def _picklable(value: Any) -> bool:
    try:
        pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:
        return False
    return True
