"""Handler output during a run: captured per attempt, stored, and told to the observers.

Worker threads run each handler inside :func:`tasker_ctl.handlers.capture.attempt`. A small pump
thread takes the captured lines every :data:`PUMP_SECONDS`, stores them (``step_output``) and
emits a :class:`StepOutput` event per line, so ``task logs --follow`` in another process and the
live view see them while the step runs. The scheduler flushes before it records finished
attempts, so a step's lines always come before the transition that ends its attempt.

Handlers run in worker processes (``--workers process``) capture their lines there; the lines
come back with the attempt's outcome (:meth:`OutputRecorder.deliverer`), so they are stored and
shown when the attempt ends rather than while it runs.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from tasker_ctl.engine.events import DebuggerActive, Event, StepOutput
from tasker_ctl.handlers.capture import OUTPUT_CAP_CHARS, AttemptCapture, OutputLine, attempt
from tasker_ctl.handlers.outcome import StepOutcome
from tasker_ctl.store.records import NewOutput
from tasker_ctl.store.repository import Repository

PUMP_SECONDS = 0.1


@dataclass(frozen=True)
class _AttemptKey:
    step_uuid: str
    step_name: str
    attempt: int


class OutputRecorder:
    """Captures, stores and announces what the handlers of one task write."""

    def __init__(
        self,
        repository: Repository,
        task_uuid: str,
        emit: Callable[[Event], None],
        now_text: Callable[[], str],
        cap: int = OUTPUT_CAP_CHARS,
    ) -> None:
        self.repository = repository
        self.task_uuid = task_uuid
        self.emit = emit
        self.now_text = now_text
        self.cap = cap
        self._captures: dict[_AttemptKey, AttemptCapture] = {}
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._stop = threading.Event()
        self._pump: threading.Thread | None = None

    def start(self) -> None:
        """Start the pump thread."""
        self._pump = threading.Thread(target=self._run_pump, name="tasker-output", daemon=True)
        self._pump.start()

    def stop(self) -> None:
        """Stop the pump and store what is left."""
        self._stop.set()
        if self._pump is not None:
            self._pump.join()
        self.flush()

    def job(
        self, step_uuid: str, step_name: str, attempt_number: int, run: Callable[[], StepOutcome]
    ) -> Callable[[], StepOutcome]:
        """``run`` wrapped so that what it writes and logs lands in this attempt."""
        key = _AttemptKey(step_uuid, step_name, attempt_number)

        def debugger(active: bool) -> None:
            self.flush()
            self.emit(DebuggerActive(self.task_uuid, step_name, active, self.now_text()))

        def captured() -> StepOutcome:
            with self._lock:
                capture = self._captures.get(key)
                if capture is None or capture.closed:
                    capture = AttemptCapture(self.cap, on_debugger=debugger)
                    self._captures[key] = capture
            with attempt(capture):
                return run()

        return captured

    def deliverer(
        self, step_uuid: str, step_name: str, attempt_number: int
    ) -> Callable[[Sequence[OutputLine]], None]:
        """Where the lines an attempt captured elsewhere (a worker process) are handed in."""
        key = _AttemptKey(step_uuid, step_name, attempt_number)

        def deliver(lines: Sequence[OutputLine]) -> None:
            if not lines:
                return
            with self._lock:
                capture = self._captures.get(key)
                if capture is None:
                    capture = self._captures[key] = AttemptCapture(self.cap)
                capture.replay(lines)
                capture.close()

        return deliver

    def flush(self) -> None:
        """Store and announce every captured line not yet handled, in order."""
        with self._flush_lock:
            with self._lock:
                captures = list(self._captures.items())
                for key, capture in captures:
                    if capture.closed:
                        del self._captures[key]
            taken = [(key, line) for key, capture in captures for line in capture.take()]
            if not taken:
                return
            taken.sort(key=lambda item: item[1].at)
            self.repository.append_output(
                self.task_uuid,
                [
                    NewOutput(key.step_uuid, key.attempt, line.stream, line.text, line.at)
                    for key, line in taken
                ],
            )
            for key, line in taken:
                self.emit(
                    StepOutput(
                        self.task_uuid,
                        key.step_uuid,
                        key.step_name,
                        key.attempt,
                        line.stream,
                        line.text,
                        line.at,
                    )
                )

    def _run_pump(self) -> None:
        while not self._stop.wait(PUMP_SECONDS):
            try:
                self.flush()
            except Exception:  # a busy store loses these lines, never the run
                continue
