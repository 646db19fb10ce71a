"""The local engine: runs a stored task's ready steps in parallel, durably, with retries.

One scheduler thread owns the store and the state of the run; worker threads only call handlers.
``graphlib.TopologicalSorter`` says which steps are ready; ``concurrent.futures.wait`` with
``FIRST_COMPLETED`` wakes the scheduler when a handler returns, a retry falls due or a step
overruns its timeout, so there is no polling loop.

Durability: every transition is committed before the engine acts on it (a step is recorded
``in_progress`` before its handler is called, and its result is committed before its dependents
start). A run killed at any moment resumes with ``task run``: finished steps are never run again,
and steps that were running are run again (at-least-once).
"""

from __future__ import annotations

import os
import queue
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from graphlib import TopologicalSorter
from typing import Any

from tasker_ctl.events import (
    ErrorInfo,
    EventBus,
    RunFinished,
    RunStarted,
    StepSnapshot,
    StepTransitioned,
    TaskTransitioned,
)
from tasker_ctl.handlers import (
    HandlerDefinition,
    HandlerRegistry,
    ResolvedHandler,
    UnresolvedHandler,
    build_payload,
)
from tasker_ctl.outcome import StepOutcome
from tasker_ctl.retry import RetryPolicy, decide
from tasker_ctl.states import (
    SATISFYING_STEP_STATES,
    STEP_MACHINE,
    TASK_MACHINE,
    TASK_TERMINAL,
    StepEvent,
    StepState,
    TaskEvent,
    TaskState,
)
from tasker_ctl.store.records import (
    AttemptOutcome,
    StepChange,
    StepRecord,
    TaskChange,
    TaskRecord,
)
from tasker_ctl.store.repository import Repository

DEFAULT_CONCURRENCY = 8
DEFAULT_GRACE_SECONDS = 10.0
MAX_CHECKPOINT_YIELDS = 10_000

# How a task that is not yet running gets to ``steps_in_process`` (events, in order).
_TO_RUNNING: dict[str, tuple[TaskEvent, ...]] = {
    TaskState.PENDING: (TaskEvent.START, TaskEvent.READY_STEPS_FOUND, TaskEvent.STEPS_ENQUEUED),
    TaskState.INITIALIZING: (TaskEvent.READY_STEPS_FOUND, TaskEvent.STEPS_ENQUEUED),
    TaskState.ENQUEUING_STEPS: (TaskEvent.STEPS_ENQUEUED,),
    TaskState.EVALUATING_RESULTS: (TaskEvent.READY_STEPS_FOUND, TaskEvent.STEPS_ENQUEUED),
    TaskState.WAITING_FOR_DEPENDENCIES: (
        TaskEvent.DEPENDENCIES_READY,
        TaskEvent.READY_STEPS_FOUND,
        TaskEvent.STEPS_ENQUEUED,
    ),
    TaskState.WAITING_FOR_RETRY: (TaskEvent.RETRY_READY, TaskEvent.STEPS_ENQUEUED),
    TaskState.STEPS_IN_PROCESS: (),
}
_REOPEN = (TaskEvent.RESET, *_TO_RUNNING[TaskState.PENDING])
_FINISH_COMPLETE = (TaskEvent.ALL_STEPS_COMPLETED, TaskEvent.ALL_STEPS_SUCCESSFUL)
_FINISH_BLOCKED = (TaskEvent.ALL_STEPS_COMPLETED, TaskEvent.PERMANENT_FAILURE)


@dataclass(frozen=True)
class RunOptions:
    """How a run behaves; the clock is injectable so tests can reason about time."""

    concurrency: int = DEFAULT_CONCURRENCY
    grace_seconds: float = DEFAULT_GRACE_SECONDS
    clock: Callable[[], float] = time.monotonic


@dataclass(frozen=True)
class RunResult:
    """Where the task stands when the engine stops."""

    task_uuid: str
    status: str
    completed: int
    failed: int
    pending: int
    duration_ms: int
    interrupted: bool = False
    observer_errors: tuple[str, ...] = ()

    @property
    def succeeded(self) -> bool:
        """True when every step is complete (or resolved)."""
        return self.status in (TaskState.COMPLETE, TaskState.RESOLVED_MANUALLY)


@dataclass
class _Step:
    """The scheduler's view of one step, kept in step with what is committed."""

    record: StepRecord
    state: str
    attempts: int
    checkpoint: dict[str, Any] | None
    result: Any = None
    deadline: float | None = None
    retry_due: float | None = None
    yields: int = 0
    invoker: ResolvedHandler | UnresolvedHandler | None = None
    policy: RetryPolicy = field(default_factory=RetryPolicy)


def _now_text() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


Job = tuple[Future[StepOutcome], Callable[[], StepOutcome]]


class _DaemonPool:
    """A fixed pool of daemon threads: a handler that never returns cannot hold the exit."""

    def __init__(self, size: int) -> None:
        self._jobs: queue.SimpleQueue[Job | None] = queue.SimpleQueue()
        self._size = size
        for index in range(size):
            threading.Thread(target=self._work, name=f"tasker-step-{index}", daemon=True).start()

    def shutdown(self) -> None:
        """Let each worker end once it is idle; a handler still running finishes first."""
        for _ in range(self._size):
            self._jobs.put(None)

    def submit(self, job: Callable[[], StepOutcome]) -> Future[StepOutcome]:
        future: Future[StepOutcome] = Future()
        self._jobs.put((future, job))
        return future

    def _work(self) -> None:
        while True:
            item = self._jobs.get()
            if item is None:
                return
            future, job = item
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(job())
            except BaseException as exc:  # reported as the step's failure
                future.set_exception(exc)


class Engine:
    """Runs one task to a resting state; see the module docstring for the guarantees."""

    def __init__(
        self,
        repository: Repository,
        registry: HandlerRegistry,
        bus: EventBus | None = None,
        options: RunOptions | None = None,
    ) -> None:
        self.repository = repository
        self.registry = registry
        self.bus = bus or EventBus()
        self.options = options or RunOptions()

    # --- the run -------------------------------------------------------------------------------

    def run(self, task_uuid: str) -> RunResult:
        """Run ``task_uuid`` until nothing more can run; resumable after any interruption."""
        started = self.options.clock()
        graph = self.repository.load_graph(task_uuid)
        self._task: TaskRecord = graph.task
        self._task_state = str(graph.task.state)
        self._steps = {record.uuid: self._runtime(record) for record in graph.steps}
        self._parents = graph.parents()
        self._children: dict[str, list[str]] = {uuid: [] for uuid in self._steps}
        for child, parents in self._parents.items():
            for parent in parents:
                self._children[parent].append(child)
        self._wrapped: dict[str, dict[str, Any]] = {}
        finished = sum(1 for s in self._steps.values() if s.state in SATISFYING_STEP_STATES)
        self.bus.emit(
            RunStarted(
                task_uuid,
                graph.task.name,
                graph.task.namespace,
                graph.task.version,
                len(self._steps),
                finished,
                _now_text(),
                tuple(
                    StepSnapshot(s.record.name, s.state, s.attempts, s.record.max_attempts)
                    for s in self._steps.values()
                ),
            )
        )
        interrupted = False
        if self._task_state not in TASK_TERMINAL or self._has_runnable_steps():
            interrupted = self._schedule()
        return self._result(started, interrupted)

    def _runtime(self, record: StepRecord) -> _Step:
        return _Step(
            record=record,
            state=str(record.state),
            attempts=record.attempts,
            checkpoint=dict(record.checkpoint) if record.checkpoint else None,
            result=record.result,
            policy=RetryPolicy.from_mapping(record.retry),
        )

    def _has_runnable_steps(self) -> bool:
        return any(s.state not in _RESTING_STEP_STATES for s in self._steps.values())

    def _schedule(self) -> bool:
        """The scheduling loop; returns True when it stopped because of Ctrl-C."""
        if not self._steps:
            self._advance_task((TaskEvent.START, TaskEvent.NO_STEPS_FOUND))
            return False
        self._open_task()
        self._resolve_handlers()
        sorter: TopologicalSorter[str] = TopologicalSorter(self._parents)
        sorter.prepare()
        runnable: list[str] = []
        in_flight: dict[Future[StepOutcome], str] = {}
        pool = _DaemonPool(max(1, self.options.concurrency))
        clock = self.options.clock

        def take_ready() -> None:
            ready = list(sorter.get_ready())
            while ready:
                uuid = ready.pop(0)
                step = self._steps[uuid]
                if step.state in SATISFYING_STEP_STATES:
                    sorter.done(uuid)
                    ready.extend(sorter.get_ready())
                elif step.state == StepState.WAITING_FOR_RETRY:
                    step.retry_due = _due_in(step.record.next_retry_at, clock())
                elif step.state not in _RESTING_STEP_STATES:
                    runnable.append(uuid)

        take_ready()
        try:
            while True:
                now = clock()
                for step_uuid, step in self._steps.items():
                    if step.retry_due is not None and step.retry_due <= now:
                        step.retry_due = None
                        runnable.append(step_uuid)
                while runnable and len(in_flight) < self.options.concurrency:
                    step_uuid = runnable.pop(0)
                    in_flight[self._dispatch(step_uuid, pool)] = step_uuid
                if not in_flight and not any(s.retry_due for s in self._steps.values()):
                    break
                done, _ = wait(
                    list(in_flight), timeout=self._next_wake(in_flight), return_when=FIRST_COMPLETED
                )
                for future in done:
                    step_uuid = in_flight.pop(future)
                    outcome = _outcome_of(future)
                    if outcome.success and outcome.is_checkpoint_yield:
                        in_flight[self._continue_from_checkpoint(step_uuid, outcome, pool)] = (
                            step_uuid
                        )
                    elif self._record(step_uuid, outcome):
                        sorter.done(step_uuid)
                        take_ready()
                self._expire_timeouts(in_flight)
        except KeyboardInterrupt:
            self._drain(in_flight)
            return True
        finally:
            pool.shutdown()
        self._finish_task()
        return False

    def _next_wake(self, in_flight: Mapping[Future[StepOutcome], str]) -> float | None:
        """Seconds until the next retry falls due or a running step overruns (None: no limit)."""
        running = (self._steps[uuid] for uuid in in_flight.values())
        moments = [s.retry_due for s in self._steps.values() if s.retry_due is not None]
        moments += [s.deadline for s in running if s.deadline is not None]
        if not moments:
            return None
        return max(0.0, min(moments) - self.options.clock())

    # --- steps ---------------------------------------------------------------------------------

    def _resolve_handlers(self) -> None:
        resolved: dict[str, ResolvedHandler | UnresolvedHandler] = {}
        for step in self._steps.values():
            handler = step.record.handler
            key = repr(sorted(handler.items()))
            if key not in resolved:
                resolved[key] = self.registry.resolve(
                    HandlerDefinition(
                        callable=str(handler.get("callable", "")),
                        method=handler.get("method"),
                        resolver=handler.get("resolver"),
                        initialization=handler.get("initialization") or {},
                    )
                )
            step.invoker = resolved[key]

    def _dispatch(self, step_uuid: str, pool: _DaemonPool) -> Future[StepOutcome]:
        """Record the step as running, then hand its handler to a worker."""
        step = self._steps[step_uuid]
        events = {
            StepState.WAITING_FOR_RETRY: (StepEvent.RETRY, StepEvent.ENQUEUE, StepEvent.START),
            StepState.PENDING: (StepEvent.ENQUEUE, StepEvent.START),
            StepState.ENQUEUED: (StepEvent.START,),
            # A run that was killed left these behind: the attempt is made again.
            StepState.IN_PROGRESS: (
                StepEvent.WAIT_FOR_RETRY,
                StepEvent.RETRY,
                StepEvent.ENQUEUE,
                StepEvent.START,
            ),
        }[StepState(step.state)]
        recovering = step.state == StepState.IN_PROGRESS
        self._transition(step, events, metadata={"recovered": True} if recovering else None)
        return self._submit(step, pool)

    def _payload(self, step: _Step) -> dict[str, Any]:
        task = self._task
        handler = step.record.handler
        return build_payload(
            task_uuid=task.uuid,
            correlation_id=task.correlation_id or task.uuid,
            task_name=task.name,
            task_version=task.version,
            namespace=task.namespace,
            context=task.input if isinstance(task.input, dict) else {},
            step_uuid=step.record.uuid,
            step_name=step.record.name,
            template_step_name=step.record.template_step_name,
            attempts=step.attempts - 1,
            max_attempts=step.record.max_attempts,
            inputs=step.record.inputs,
            checkpoint=step.checkpoint,
            dependency_results={
                self._steps[a].record.name: (a, self._steps[a].result)
                for a in self._ancestors(step.record.uuid)
            },
            handler=HandlerDefinition(
                callable=str(handler.get("callable", "")),
                method=handler.get("method"),
                resolver=handler.get("resolver"),
                initialization=handler.get("initialization") or {},
            ),
        )

    def _ancestors(self, step_uuid: str) -> list[str]:
        seen: set[str] = set()
        order: list[str] = []
        frontier = list(self._parents[step_uuid])
        while frontier:
            parent = frontier.pop()
            if parent not in seen:
                seen.add(parent)
                order.append(parent)
                frontier.extend(self._parents[parent])
        return order

    def _continue_from_checkpoint(
        self, step_uuid: str, outcome: StepOutcome, pool: _DaemonPool
    ) -> Future[StepOutcome]:
        """Store a checkpoint yield and call the handler again: neither an attempt nor a move."""
        step = self._steps[step_uuid]
        step.yields += 1
        if step.yields > MAX_CHECKPOINT_YIELDS:
            message = f"the handler yielded more than {MAX_CHECKPOINT_YIELDS} checkpoints"
            finished: Future[StepOutcome] = Future()
            finished.set_result(StepOutcome.failed(message, "checkpoint_limit", retryable=False))
            return finished
        checkpoint = outcome.checkpoint
        step.checkpoint = self._merged_checkpoint(step, checkpoint.to_dict() if checkpoint else {})
        self.repository.save_checkpoint(step_uuid, step.checkpoint)
        return self._submit(step, pool)

    def _submit(self, step: _Step, pool: _DaemonPool) -> Future[StepOutcome]:
        if step.record.timeout_seconds:
            step.deadline = self.options.clock() + step.record.timeout_seconds
        payload = self._payload(step)
        invoker = step.invoker
        assert invoker is not None
        return pool.submit(lambda: invoker.invoke(payload))

    def _record(self, step_uuid: str, outcome: StepOutcome) -> bool:
        """Commit what an attempt produced; True when the step is now complete."""
        step = self._steps[step_uuid]
        step.deadline = None
        attempt = AttemptOutcome(
            success=outcome.success,
            result=outcome.result,
            error=None if outcome.success else _error_json(outcome),
            metadata=outcome.metadata or None,
        )
        if outcome.success:
            step.result = outcome.result
            self._transition(
                step, (StepEvent.ENQUEUE_FOR_ORCHESTRATION, StepEvent.COMPLETE), outcome=attempt
            )
            return True
        decision = decide(
            step.policy,
            attempts=step.attempts,
            result_retryable=outcome.retryable,
            error_type=outcome.error_type,
            metadata=outcome.metadata,
        )
        error = ErrorInfo(
            outcome.error_message or "",
            outcome.error_type,
            outcome.error_code,
            not decision.permanent,
        )
        if decision.permanent:
            self._transition(
                step,
                (StepEvent.ENQUEUE_AS_ERROR_FOR_ORCHESTRATION, StepEvent.FAIL),
                outcome=attempt,
                error=error,
                metadata={"reason": decision.reason},
            )
            return False
        due = datetime.now(UTC) + timedelta(milliseconds=decision.delay_ms)
        step.retry_due = self.options.clock() + decision.delay_ms / 1000
        self._transition(
            step,
            (StepEvent.ENQUEUE_AS_ERROR_FOR_ORCHESTRATION, StepEvent.WAIT_FOR_RETRY),
            outcome=attempt,
            error=error,
            next_retry_at=due.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            delay_ms=decision.delay_ms,
        )
        return False

    def _merged_checkpoint(self, step: _Step, new: dict[str, Any]) -> dict[str, Any]:
        history = list((step.checkpoint or {}).get("history", []))
        history.append({"cursor": new.get("cursor"), "items_processed": new.get("items_processed")})
        return {**new, "timestamp": _now_text(), "history": history}

    def _expire_timeouts(self, in_flight: dict[Future[StepOutcome], str]) -> None:
        now = self.options.clock()
        for future, step_uuid in list(in_flight.items()):
            step = self._steps[step_uuid]
            if step.deadline is not None and step.deadline <= now and not future.done():
                # The thread cannot be stopped; its late result is ignored.
                del in_flight[future]
                seconds = step.record.timeout_seconds or 0
                self._record(step_uuid, StepOutcome.timed_out(seconds))

    def _drain(self, in_flight: dict[Future[StepOutcome], str]) -> None:
        """After Ctrl-C: let running handlers finish for a while and record what they did."""
        deadline = self.options.clock() + self.options.grace_seconds
        try:
            while in_flight:
                remaining = deadline - self.options.clock()
                if remaining <= 0:
                    break
                done, _ = wait(list(in_flight), timeout=remaining, return_when=FIRST_COMPLETED)
                for future in done:
                    step_uuid = in_flight.pop(future)
                    outcome = _outcome_of(future)
                    if not outcome.is_checkpoint_yield:
                        self._record(step_uuid, outcome)
        except KeyboardInterrupt:
            pass

    def _transition(
        self,
        step: _Step,
        events: Iterable[StepEvent],
        *,
        outcome: AttemptOutcome | None = None,
        error: ErrorInfo | None = None,
        next_retry_at: str | None = None,
        delay_ms: int | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        """Commit a sequence of transitions of one step atomically, then announce each."""
        changes = []
        moves = []
        state = step.state
        attempts = step.attempts
        for index, event in enumerate(events):
            target = STEP_MACHINE.transitions[(state, event)]
            if event == StepEvent.START:
                attempts += 1
            changes.append(
                StepChange(
                    step_uuid=step.record.uuid,
                    event=event,
                    expected_state=state,
                    outcome=outcome if index == 0 else None,
                    next_retry_at=next_retry_at if event == StepEvent.WAIT_FOR_RETRY else None,
                    backoff_ms=delay_ms if event == StepEvent.WAIT_FOR_RETRY else None,
                    metadata=metadata,
                )
            )
            moves.append((state, target, event))
            state = target
        self.repository.apply(changes)
        step.state, step.attempts = state, attempts
        at = _now_text()
        for from_state, to_state, event in moves:
            self.bus.emit(
                StepTransitioned(
                    task_uuid=self._task.uuid,
                    step_uuid=step.record.uuid,
                    step_name=step.record.name,
                    from_state=from_state,
                    to_state=to_state,
                    event=str(event),
                    attempt=attempts,
                    max_attempts=step.record.max_attempts,
                    at=at,
                    error=error if to_state in _FAILED_STATES else None,
                    next_retry_at=next_retry_at
                    if to_state == StepState.WAITING_FOR_RETRY
                    else None,
                    delay_ms=delay_ms if to_state == StepState.WAITING_FOR_RETRY else None,
                )
            )

    # --- the task ------------------------------------------------------------------------------

    def _open_task(self) -> None:
        if self._task_state in _TO_RUNNING:
            self._advance_task(_TO_RUNNING[self._task_state])
        else:
            self._advance_task(_REOPEN)

    def _finish_task(self) -> None:
        states = [s.state for s in self._steps.values()]
        if all(state in SATISFYING_STEP_STATES for state in states):
            self._advance_task(_FINISH_COMPLETE)
        else:
            self._advance_task(_FINISH_BLOCKED)

    def _advance_task(self, events: Iterable[TaskEvent]) -> None:
        events = tuple(events)
        if not events:
            return
        changes = []
        moves = []
        state = self._task_state
        for event in events:
            target = TASK_MACHINE.transitions[(state, event)]
            changes.append(TaskChange(self._task.uuid, event, expected_state=state))
            moves.append((state, target, event))
            state = target
        self.repository.apply(task_changes=changes)
        self._task_state = state
        at = _now_text()
        for from_state, to_state, event in moves:
            self.bus.emit(TaskTransitioned(self._task.uuid, from_state, to_state, str(event), at))

    def _result(self, started: float, interrupted: bool) -> RunResult:
        states = [s.state for s in self._steps.values()]
        completed = sum(1 for s in states if s in SATISFYING_STEP_STATES)
        failed = sum(1 for s in states if s == StepState.ERROR)
        duration_ms = int((self.options.clock() - started) * 1000)
        result = RunResult(
            task_uuid=self._task.uuid,
            status=self._task_state,
            completed=completed,
            failed=failed,
            pending=len(states) - completed - failed,
            duration_ms=duration_ms,
            interrupted=interrupted,
            observer_errors=tuple(f"{type(e).__name__}: {e}" for _, e in self.bus.failures),
        )
        self.bus.emit(
            RunFinished(
                result.task_uuid,
                result.status,
                duration_ms,
                completed,
                failed,
                result.pending,
                interrupted,
                _now_text(),
            )
        )
        return result


def _outcome_of(future: Future[StepOutcome]) -> StepOutcome:
    exc = future.exception()
    if exc is None:
        return future.result()
    return StepOutcome.failed(f"{type(exc).__name__}: {exc}", "handler_error", retryable=True)


def _error_json(outcome: StepOutcome) -> dict[str, Any]:
    return {
        "message": outcome.error_message,
        "error_type": outcome.error_type,
        "error_code": outcome.error_code,
        "retryable": outcome.retryable,
        "metadata": outcome.metadata,
    }


def _due_in(next_retry_at: str | None, now: float) -> float:
    if not next_retry_at:
        return now
    moment = datetime.fromisoformat(next_retry_at.replace("Z", "+00:00"))
    return now + max(0.0, (moment - datetime.now(UTC)).total_seconds())


def default_concurrency() -> int:
    """Handlers mostly wait on I/O, so more workers than cores pays off."""
    return max(DEFAULT_CONCURRENCY, 2 * (os.cpu_count() or 1))


_RESTING_STEP_STATES = frozenset(
    {
        StepState.COMPLETE,
        StepState.RESOLVED_MANUALLY,
        StepState.ERROR,
        StepState.CANCELLED,
    }
)
_FAILED_STATES = frozenset(
    {StepState.ENQUEUED_AS_ERROR_FOR_ORCHESTRATION, StepState.ERROR, StepState.WAITING_FOR_RETRY}
)
