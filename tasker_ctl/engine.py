"""The local engine: runs a stored task's ready steps in parallel, durably, with retries.

One scheduler thread owns the store and the state of the run; worker threads only call handlers
(:mod:`tasker_ctl.workers`). ``graphlib.TopologicalSorter`` says which steps are ready; the
scheduler blocks on the workers' completion queue, with a timeout set to the next retry falling
due or the next step deadline, so there is no polling loop.

Durability: every transition is committed before the engine acts on it (a step is recorded
``in_progress`` before its handler is called, and its result is committed before its dependents
start). A run killed at any moment resumes with ``task run``: finished steps are never run again,
and steps that were running are run again (at-least-once).
"""

from __future__ import annotations

import heapq
import queue
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
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
from tasker_ctl.store.records import AttemptOutcome, StepChange, StepRecord, TaskChange, TaskRecord
from tasker_ctl.store.repository import Repository
from tasker_ctl.workers import WorkerPool

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

# What takes a step from where it rests to in_progress.
_TO_IN_PROGRESS: dict[str, tuple[StepEvent, ...]] = {
    StepState.WAITING_FOR_RETRY: (StepEvent.RETRY, StepEvent.ENQUEUE, StepEvent.START),
    StepState.PENDING: (StepEvent.ENQUEUE, StepEvent.START),
    StepState.ENQUEUED: (StepEvent.START,),
    # A run that was killed left these behind: the attempt is made again (at-least-once).
    StepState.IN_PROGRESS: (
        StepEvent.WAIT_FOR_RETRY,
        StepEvent.RETRY,
        StepEvent.ENQUEUE,
        StepEvent.START,
    ),
}
_RESTING_STEP_STATES = frozenset(
    {StepState.COMPLETE, StepState.RESOLVED_MANUALLY, StepState.ERROR, StepState.CANCELLED}
)
_FAILED_STATES = frozenset(
    {StepState.ENQUEUED_AS_ERROR_FOR_ORCHESTRATION, StepState.ERROR, StepState.WAITING_FOR_RETRY}
)


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
    token: int = 0
    yields: int = 0
    invoker: ResolvedHandler | UnresolvedHandler | None = None
    policy: RetryPolicy = field(default_factory=RetryPolicy)


class _AncestorResults(Mapping[str, tuple[str, Any]]):
    """Every ancestor's ``(step uuid, result)``, found the first time a handler looks.

    Tasker hands each step the results of all its transitive ancestors. Computing that set for
    every step of a deep, wide DAG up front costs far more than the run; most handlers read one
    or two parents, and many none.
    """

    def __init__(self, step_uuid: str, engine: Engine) -> None:
        self._step_uuid = step_uuid
        self._engine = engine
        self._found: dict[str, str] | None = None

    def _ancestors(self) -> dict[str, str]:
        if self._found is None:
            steps, parents = self._engine.steps, self._engine.parents
            found: dict[str, str] = {}
            frontier = list(parents[self._step_uuid])
            seen: set[str] = set()
            while frontier:
                parent = frontier.pop()
                if parent not in seen:
                    seen.add(parent)
                    found[steps[parent].record.name] = parent
                    frontier.extend(parents[parent])
            self._found = found
        return self._found

    def __getitem__(self, name: str) -> tuple[str, Any]:
        step_uuid = self._ancestors()[name]
        return step_uuid, self._engine.steps[step_uuid].result

    def __iter__(self) -> Iterator[str]:
        return iter(self._ancestors())

    def __len__(self) -> int:
        return len(self._ancestors())


def _now_text() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


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
        self.steps: dict[str, _Step] = {}
        self.parents: dict[str, list[str]] = {}

    # --- the run -------------------------------------------------------------------------------

    def run(self, task_uuid: str) -> RunResult:
        """Run ``task_uuid`` until nothing more can run; resumable after any interruption."""
        started = self.options.clock()
        graph = self.repository.load_graph(task_uuid)
        self._task: TaskRecord = graph.task
        self._task_state = str(graph.task.state)
        self.steps = {record.uuid: self._runtime(record) for record in graph.steps}
        self.parents = graph.parents()
        finished = sum(1 for s in self.steps.values() if s.state in SATISFYING_STEP_STATES)
        snapshots = tuple(
            StepSnapshot(s.record.name, s.state, s.attempts, s.record.max_attempts)
            for s in self.steps.values()
        )
        self.bus.emit(
            RunStarted(
                task_uuid,
                graph.task.name,
                graph.task.namespace,
                graph.task.version,
                len(self.steps),
                finished,
                _now_text(),
                snapshots,
            )
        )
        interrupted = False
        runnable = any(s.state not in _RESTING_STEP_STATES for s in self.steps.values())
        if self._task_state not in TASK_TERMINAL or runnable:
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

    def _schedule(self) -> bool:
        """The scheduling loop; returns True when it stopped because of Ctrl-C."""
        if not self.steps:
            self._advance_task((TaskEvent.START, TaskEvent.NO_STEPS_FOUND))
            return False
        self._open_task()
        self._resolve_handlers()
        sorter: TopologicalSorter[str] = TopologicalSorter(self.parents)
        sorter.prepare()
        self._runnable: deque[str] = deque()
        self._retries: list[tuple[float, str]] = []
        self._deadlines: list[tuple[float, str, int]] = []
        self._in_flight: dict[str, int] = {}
        pool = WorkerPool(max(1, self.options.concurrency))
        self._take_ready(sorter)
        try:
            while True:
                self._release_due_retries()
                while self._runnable and len(self._in_flight) < self.options.concurrency:
                    self._dispatch(self._runnable.popleft(), pool)
                if not self._in_flight and not self._retries:
                    break
                try:
                    completion = pool.completions.get(timeout=self._next_wake())
                except queue.Empty:
                    self._expire_timeouts()
                    continue
                if self._in_flight.get(completion.step_uuid) != completion.token:
                    continue  # the late result of an attempt already failed by its timeout
                del self._in_flight[completion.step_uuid]
                outcome = completion.outcome
                if outcome.success and outcome.is_checkpoint_yield:
                    self._continue_from_checkpoint(completion.step_uuid, outcome, pool)
                elif self._record(completion.step_uuid, outcome):
                    sorter.done(completion.step_uuid)
                    self._take_ready(sorter)
                self._expire_timeouts()
        except KeyboardInterrupt:
            self._drain(pool)
            return True
        finally:
            pool.shutdown()
        self._finish_task()
        return False

    def _take_ready(self, sorter: TopologicalSorter[str]) -> None:
        """Queue every step the sorter releases; already finished ones release their children."""
        ready = deque(sorter.get_ready())
        now = self.options.clock()
        while ready:
            step_uuid = ready.popleft()
            step = self.steps[step_uuid]
            if step.state in SATISFYING_STEP_STATES:
                sorter.done(step_uuid)
                ready.extend(sorter.get_ready())
            elif step.state == StepState.WAITING_FOR_RETRY:
                due = now + _seconds_until(step.record.next_retry_at)
                heapq.heappush(self._retries, (due, step_uuid))
            elif step.state not in _RESTING_STEP_STATES:
                self._runnable.append(step_uuid)

    def _release_due_retries(self) -> None:
        now = self.options.clock()
        while self._retries and self._retries[0][0] <= now:
            self._runnable.append(heapq.heappop(self._retries)[1])

    def _next_wake(self) -> float | None:
        """Seconds until the next retry falls due or a running step overruns (None: no limit)."""
        while (
            self._deadlines and self._in_flight.get(self._deadlines[0][1]) != self._deadlines[0][2]
        ):
            heapq.heappop(self._deadlines)  # that attempt already finished
        moments = [heap[0][0] for heap in (self._retries, self._deadlines) if heap]
        if not moments:
            return None
        return max(0.0, min(moments) - self.options.clock())

    # --- steps ---------------------------------------------------------------------------------

    def _resolve_handlers(self) -> None:
        resolved: dict[str, ResolvedHandler | UnresolvedHandler] = {}
        for step in self.steps.values():
            key = repr(sorted(step.record.handler.items()))
            if key not in resolved:
                resolved[key] = self.registry.resolve(_handler_definition(step.record.handler))
            step.invoker = resolved[key]

    def _dispatch(self, step_uuid: str, pool: WorkerPool) -> None:
        """Record the step as running, then hand its handler to a worker."""
        step = self.steps[step_uuid]
        recovering = step.state == StepState.IN_PROGRESS
        events = _TO_IN_PROGRESS[StepState(step.state)]
        self._transition(step, events, metadata={"recovered": True} if recovering else None)
        self._submit(step, pool)

    def _submit(self, step: _Step, pool: WorkerPool) -> None:
        step.token += 1
        step_uuid = step.record.uuid
        self._in_flight[step_uuid] = step.token
        if step.record.timeout_seconds:
            deadline = self.options.clock() + step.record.timeout_seconds
            heapq.heappush(self._deadlines, (deadline, step_uuid, step.token))
        payload = self._payload(step)
        invoker = step.invoker
        assert invoker is not None
        pool.submit(step_uuid, step.token, lambda: invoker.invoke(payload))

    def _payload(self, step: _Step) -> dict[str, Any]:
        task = self._task
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
            dependency_results=_AncestorResults(step.record.uuid, self),
            handler=_handler_definition(step.record.handler),
        )

    def _continue_from_checkpoint(
        self, step_uuid: str, outcome: StepOutcome, pool: WorkerPool
    ) -> None:
        """Store a checkpoint yield and call the handler again: neither an attempt nor a move."""
        step = self.steps[step_uuid]
        step.yields += 1
        if step.yields > MAX_CHECKPOINT_YIELDS:
            message = f"the handler yielded more than {MAX_CHECKPOINT_YIELDS} checkpoints"
            self._record(
                step_uuid, StepOutcome.failed(message, "checkpoint_limit", retryable=False)
            )
            return
        checkpoint = outcome.checkpoint
        step.checkpoint = _merged_checkpoint(
            step.checkpoint, checkpoint.to_dict() if checkpoint else {}
        )
        self.repository.save_checkpoint(step_uuid, step.checkpoint)
        self._submit(step, pool)

    def _record(self, step_uuid: str, outcome: StepOutcome) -> bool:
        """Commit what an attempt produced; True when the step is now complete."""
        step = self.steps[step_uuid]
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
        self._transition(
            step,
            (StepEvent.ENQUEUE_AS_ERROR_FOR_ORCHESTRATION, StepEvent.WAIT_FOR_RETRY),
            outcome=attempt,
            error=error,
            next_retry_at=due.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            delay_ms=decision.delay_ms,
        )
        # Counted from the commit, so the recorded gap is never shorter than the delay.
        heapq.heappush(self._retries, (self.options.clock() + decision.delay_ms / 1000, step_uuid))
        return False

    def _expire_timeouts(self) -> None:
        now = self.options.clock()
        while self._deadlines and self._deadlines[0][0] <= now:
            _, step_uuid, token = heapq.heappop(self._deadlines)
            if self._in_flight.get(step_uuid) == token:
                # The thread cannot be stopped; its late result will be ignored.
                del self._in_flight[step_uuid]
                seconds = self.steps[step_uuid].record.timeout_seconds or 0
                self._record(step_uuid, StepOutcome.timed_out(seconds))

    def _drain(self, pool: WorkerPool) -> None:
        """After Ctrl-C: let running handlers finish for a while and record what they did."""
        deadline = self.options.clock() + self.options.grace_seconds
        try:
            while self._in_flight:
                remaining = deadline - self.options.clock()
                if remaining <= 0:
                    break
                try:
                    completion = pool.completions.get(timeout=remaining)
                except queue.Empty:
                    break
                if self._in_flight.get(completion.step_uuid) != completion.token:
                    continue
                del self._in_flight[completion.step_uuid]
                if not completion.outcome.is_checkpoint_yield:
                    self._record(completion.step_uuid, completion.outcome)
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
            waiting = event == StepEvent.WAIT_FOR_RETRY
            changes.append(
                StepChange(
                    step_uuid=step.record.uuid,
                    event=event,
                    expected_state=state,
                    outcome=outcome if index == 0 else None,
                    next_retry_at=next_retry_at if waiting else None,
                    backoff_ms=delay_ms if waiting else None,
                    metadata=metadata,
                )
            )
            moves.append((state, target, event))
            state = target
        self.repository.apply(changes)
        step.state, step.attempts = state, attempts
        at = _now_text()
        for from_state, to_state, event in moves:
            waiting = to_state == StepState.WAITING_FOR_RETRY
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
                    next_retry_at=next_retry_at if waiting else None,
                    delay_ms=delay_ms if waiting else None,
                )
            )

    # --- the task ------------------------------------------------------------------------------

    def _open_task(self) -> None:
        self._advance_task(_TO_RUNNING.get(self._task_state, _REOPEN))

    def _finish_task(self) -> None:
        done = all(s.state in SATISFYING_STEP_STATES for s in self.steps.values())
        self._advance_task(_FINISH_COMPLETE if done else _FINISH_BLOCKED)

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
        states = [s.state for s in self.steps.values()]
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


def _handler_definition(handler: Mapping[str, Any]) -> HandlerDefinition:
    return HandlerDefinition(
        callable=str(handler.get("callable", "")),
        method=handler.get("method"),
        resolver=handler.get("resolver"),
        initialization=handler.get("initialization") or {},
    )


def _merged_checkpoint(previous: dict[str, Any] | None, new: dict[str, Any]) -> dict[str, Any]:
    history = list((previous or {}).get("history", []))
    history.append({"cursor": new.get("cursor"), "items_processed": new.get("items_processed")})
    return {**new, "timestamp": _now_text(), "history": history}


def _error_json(outcome: StepOutcome) -> dict[str, Any]:
    return {
        "message": outcome.error_message,
        "error_type": outcome.error_type,
        "error_code": outcome.error_code,
        "retryable": outcome.retryable,
        "metadata": outcome.metadata,
    }


def _seconds_until(next_retry_at: str | None) -> float:
    if not next_retry_at:
        return 0.0
    moment = datetime.fromisoformat(next_retry_at.replace("Z", "+00:00"))
    return max(0.0, (moment - datetime.now(UTC)).total_seconds())
