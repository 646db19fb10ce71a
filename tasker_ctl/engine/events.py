"""What the engine tells its observers: typed, frozen events (named tuples), one per transition.

Observers are plain callables. The :class:`EventBus` shields the run from them: an observer that
raises is detached and its error kept for the end of the run, so a broken progress display can
never stop or corrupt a workflow.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from tasker_ctl.handlers.outcome import StepOutcome


class ErrorInfo(NamedTuple):
    """A failed attempt's error, as shown to people and scripts."""

    message: str
    error_type: str | None = None
    error_code: str | None = None
    retryable: bool = False
    exception_type: str | None = None
    file: str | None = None
    line: int | None = None

    @classmethod
    def from_outcome(cls, outcome: StepOutcome, retryable: bool) -> ErrorInfo:
        """The error of a failed outcome; an exception adds its type and where it was raised."""
        metadata = outcome.metadata or {}
        exception_type = metadata.get("exception_type")
        where = metadata.get("raised_at")
        where = where if isinstance(where, dict) else {}
        line = where.get("line")
        return cls(
            outcome.error_message or "",
            outcome.error_type,
            outcome.error_code,
            retryable,
            exception_type if isinstance(exception_type, str) else None,
            str(where["file"]) if where.get("file") else None,
            line if isinstance(line, int) else None,
        )


class StepSnapshot(NamedTuple):
    """Where one step stood when the run started."""

    name: str
    state: str
    attempts: int
    max_attempts: int


class RunStarted(NamedTuple):
    """The engine took a task: its steps as they stand, and how many are already finished."""

    task_uuid: str
    name: str
    namespace: str
    version: str
    step_count: int
    finished_count: int
    at: str
    steps: tuple[StepSnapshot, ...] = ()
    taken_over_from: str | None = None  # whose lease this run took, in a sentence
    synchronous: str | None = None
    """The run's store connection's ``PRAGMA synchronous``, read back (``normal``, ``full``)."""


class StepTransitioned(NamedTuple):
    """A step changed state (one event per recorded transition)."""

    task_uuid: str
    step_uuid: str
    step_name: str
    from_state: str | None
    to_state: str
    event: str
    attempt: int
    max_attempts: int
    at: str
    error: ErrorInfo | None = None
    next_retry_at: str | None = None
    delay_ms: int | None = None


class StepsCreated(NamedTuple):
    """Steps were added while the task ran (decision branches, batch workers)."""

    task_uuid: str
    step_names: tuple[str, ...]
    edges: tuple[tuple[str, str], ...]
    at: str


class TaskTransitioned(NamedTuple):
    """The task changed state."""

    task_uuid: str
    from_state: str | None
    to_state: str
    event: str
    at: str


class RunFinished(NamedTuple):
    """The engine stopped working on the task, and why."""

    task_uuid: str
    status: str
    duration_ms: int
    completed: int
    failed: int
    pending: int
    interrupted: bool
    at: str
    abandoned: tuple[str, ...] = ()


class StepOutput(NamedTuple):
    """A line a handler wrote (``stdout``, ``stderr``) or logged (``log``) during an attempt.

    ``text`` has no trailing newline. A ``note`` is tasker-ctl's own line about the output (what
    the size cap cut).
    """

    task_uuid: str
    step_uuid: str
    step_name: str
    attempt: int
    stream: str
    text: str
    at: str


class RunStopping(NamedTuple):
    """Ctrl-C: no new step starts; the running ones get ``grace_seconds`` to finish."""

    task_uuid: str
    running: tuple[str, ...]
    grace_seconds: float
    at: str


class DebuggerActive(NamedTuple):
    """A handler entered (``active``) or left a debugger that needs the terminal."""

    task_uuid: str
    step_name: str
    active: bool
    at: str


Event = (
    RunStarted
    | StepTransitioned
    | StepsCreated
    | TaskTransitioned
    | RunFinished
    | StepOutput
    | RunStopping
    | DebuggerActive
)
Observer = Callable[[Event], None]


def event_to_json(event: Event) -> dict[str, Any]:
    """The event as a JSON-ready dict with a ``type`` key (``step_transitioned``, …)."""
    return {"type": _kind(type(event).__name__), **_plain(event)}


@cache
def _kind(class_name: str) -> str:
    """``StepTransitioned`` → ``step_transitioned``."""
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in class_name).lstrip("_")


def _plain(event: tuple[Any, ...]) -> dict[str, Any]:
    """A named tuple (an event, or one inside it) as a dict, nested ones as dicts too."""
    fields: dict[str, Any] = event._asdict()  # type: ignore[attr-defined]
    for key, value in fields.items():
        if isinstance(value, tuple):
            fields[key] = _plain_value(value)  # replacing a value: the dict keeps its size
    return fields


def _plain_value(value: Any) -> Any:
    if isinstance(value, tuple):
        if hasattr(value, "_asdict"):
            return _plain(value)
        return [_plain_value(item) for item in value]
    return value


class EventBus:
    """Delivers events to observers in order; an observer that raises is dropped, not fatal.

    Events may come from several threads (handler output, a debugger in a handler); one lock
    delivers them one at a time, so observers never see two at once.

    An observer with an ``end_batch()`` method (one that writes, say) is told when a burst of
    events is over: after each event emitted on its own, and once after a :meth:`batch`, so it
    can flush once per commit rather than once per event.
    """

    def __init__(self, observers: list[Observer] | None = None) -> None:
        self._observers: list[Observer] = list(observers or [])
        self.failures: list[tuple[Observer, BaseException]] = []
        self._lock = threading.RLock()
        self._batches = 0  # batches open (nested ones join the outermost)

    def subscribe(self, observer: Observer) -> None:
        """Add an observer; it sees every later event."""
        self._observers.append(observer)

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Events emitted inside form one burst; other threads' events wait until it ends."""
        with self._lock:
            self._batches += 1
            try:
                yield
            finally:
                self._batches -= 1
                if not self._batches:
                    self._end_batch()

    def emit(self, event: Event) -> None:
        """Give ``event`` to every observer still attached."""
        with self._lock:
            self._deliver(event)
            if not self._batches:
                self._end_batch()

    def _deliver(self, event: Event) -> None:
        for observer in list(self._observers):
            try:
                observer(event)
            except Exception as exc:  # an observer must never break the run
                self._drop(observer, exc)

    def _end_batch(self) -> None:
        for observer in list(self._observers):
            end_batch = getattr(observer, "end_batch", None)
            if end_batch is not None:
                try:
                    end_batch()
                except Exception as exc:
                    self._drop(observer, exc)

    def _drop(self, observer: Observer, exc: BaseException) -> None:
        self._observers.remove(observer)
        self.failures.append((observer, exc))
