"""The local engine: runs a stored task's ready steps in parallel, durably, with retries.

One scheduler thread owns the store and the state of the run; worker threads only call handlers
(:mod:`tasker_ctl.engine.workers`). Readiness is counted per step (how many of its parents are
not yet satisfied), so steps created while the task runs (decision branches, batch workers: see
:mod:`tasker_ctl.engine.dynamic`) join the graph like any other. The scheduler blocks on the
workers' completion queue, with a timeout set to the next retry falling due or the next step
deadline, so there is no polling loop.

Durability: every transition is committed before the engine acts on it (a step is recorded
``in_progress`` before its handler is called, and its result is committed before its dependents
start). The steps a decision or batchable step creates are committed in the same transaction that
records it complete; a step completed another way (``task complete-step``) has its outcome applied
when the next run starts. A run killed at any moment resumes with ``task run``: finished steps are
never run again, and steps that were running are run again (at-least-once).

Batch workers (reference §6.3, going beyond it as its recommendations ask): at most
``batch_config.parallelism`` workers of one batch run at once (0: no cap), and
``failure_strategy`` decides what a worker's permanent failure means once its retries are spent:

- ``continue_on_failure``: the worker completes with a partial-failure result (``batch_failed``,
  ``items_failed`` = its batch size, the error), so the convergence step still runs;
- ``fail_fast``: the worker is in error and no further worker of that batch starts in this run
  (running ones finish); the task ends blocked;
- ``isolate``: the worker is in error and waits for an operator (``task resolve-step``,
  ``complete-step`` or ``retry``) while the other workers carry on.
"""

from __future__ import annotations

import heapq
import queue
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from tasker_ctl.engine.events import (
    ErrorInfo,
    Event,
    EventBus,
    RunFinished,
    RunStarted,
    RunStopping,
    StepsCreated,
    StepSnapshot,
    StepTransitioned,
    TaskTransitioned,
)
from tasker_ctl.engine.isolation import FrozenJson, fresh_copy
from tasker_ctl.engine.lease import DEFAULT_HEARTBEAT_SECONDS, RunLease
from tasker_ctl.engine.output import OutputRecorder
from tasker_ctl.engine.workers import Completion, WorkerPool
from tasker_ctl.errors import RunInterruptedError, TaskerCtlError
from tasker_ctl.handlers.invoke import ResolvedHandler, UnresolvedHandler
from tasker_ctl.handlers.outcome import StepOutcome
from tasker_ctl.handlers.payload import HandlerDefinition, build_payload
from tasker_ctl.handlers.registry import HandlerRegistry
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
    TaskGraph,
    TaskRecord,
)
from tasker_ctl.store.repository import Repository, TransitionConflictError

if TYPE_CHECKING:
    from tasker_ctl.engine.dynamic import StepPlan
    from tasker_ctl.template.models import TaskTemplate

DEFAULT_CONCURRENCY = 8
DEFAULT_GRACE_SECONDS = 10.0
MAX_CHECKPOINT_YIELDS = 10_000
CHECKPOINT_LIMIT = "checkpoint_limit"
CONTINUE_ON_FAILURE = "continue_on_failure"
FAIL_FAST = "fail_fast"
_CREATING_STEP_TYPES = frozenset({"decision", "batchable"})
_CHANGED_ELSEWHERE = "changed_by_operator"  # the event of a move another process made

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
    heartbeat_seconds: float = DEFAULT_HEARTBEAT_SECONDS
    take_over: bool = False  # take the task's lease even from a live (stuck) run


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
    abandoned: tuple[str, ...] = ()
    """Steps still running when an interrupted run stopped waiting (they run again next time)."""
    stopped_by: RunInterruptedError | None = None  # an operator command from another process

    @property
    def succeeded(self) -> bool:
        """True when every step is complete (or resolved)."""
        return self.status in (TaskState.COMPLETE, TaskState.RESOLVED_MANUALLY)


@dataclass(frozen=True)
class _BatchRule:
    """How the workers of one batch run: at most ``parallelism`` at once (0: no cap)."""

    parallelism: int
    failure_strategy: str


@dataclass
class _Step:
    """The scheduler's view of one step, kept in step with what is committed."""

    record: StepRecord
    state: str
    attempts: int
    checkpoint: dict[str, Any] | None
    result: Any = None
    frozen_result: FrozenJson | None = None  # what handlers are handed: see engine.isolation
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
        step = self._engine.steps[step_uuid]
        if step.frozen_result is None:
            step.frozen_result = FrozenJson(step.result)
        return step_uuid, step.frozen_result.thaw()

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
        self._after_commit: list[Callable[[], None]] | None = None
        self.parents: dict[str, list[str]] = {}
        self.children: dict[str, list[str]] = {}
        self._uuids: dict[str, str] = {}
        self._waiting_on: dict[str, int] = {}
        self._handlers: dict[str, ResolvedHandler | UnresolvedHandler] = {}
        self._template_model: TaskTemplate | None = None
        self._batch_rules: dict[str, _BatchRule | None] = {}
        self._batch_running: Counter[str] = Counter()
        self._held: dict[str, deque[str]] = {}
        self._stopped_batches: set[str] = set()
        self._abandoned: tuple[str, ...] = ()
        self._output: OutputRecorder | None = None
        self._notice: TaskerCtlError | None = None
        self._pool: WorkerPool | None = None
        self._stopped_by: RunInterruptedError | None = None

    # --- the run -------------------------------------------------------------------------------

    def run(self, task_uuid: str) -> RunResult:
        """Run ``task_uuid`` until nothing more can run; resumable after any interruption."""
        started = self.options.clock()
        lease = RunLease(
            self.repository, task_uuid, self.options.heartbeat_seconds, self._on_notice
        )
        # The lease is taken in the transaction that moves the task: a second run is refused
        # before anything changes, and no write of this run can come before its lease.
        with self._one_transaction():
            graph = self.repository.load_graph(task_uuid)
            takeover = lease.acquire(
                take_over=self.options.take_over, task_state=str(graph.task.state)
            )
            schedule = self._start(graph, None if takeover is None else takeover.describe())
        lease.start()
        try:
            interrupted = self._schedule() if schedule else False
        finally:
            lease.stop(release=True)
        return self._result(started, interrupted)

    def _start(self, graph: TaskGraph, taken_over_from: str | None) -> bool:
        """Take in the stored graph, announce the run, open the task; False: nothing to run."""
        task_uuid = graph.task.uuid
        self._task: TaskRecord = graph.task
        self._task_state = str(graph.task.state)
        task_input = graph.task.input
        self._frozen_input = FrozenJson(task_input if isinstance(task_input, dict) else {})
        self.steps = {record.uuid: self._runtime(record) for record in graph.steps}
        self.parents = graph.parents()
        self._uuids = {record.name: record.uuid for record in graph.steps}
        finished = sum(1 for s in self.steps.values() if s.state in SATISFYING_STEP_STATES)
        snapshots = tuple(
            StepSnapshot(s.record.name, s.state, s.attempts, s.record.max_attempts)
            for s in self.steps.values()
        )
        self._emit(
            RunStarted(
                task_uuid,
                graph.task.name,
                graph.task.namespace,
                graph.task.version,
                len(self.steps),
                finished,
                _now_text(),
                snapshots,
                taken_over_from,
                synchronous=self.repository.synchronous(),
            )
        )
        runnable = any(s.state not in _RESTING_STEP_STATES for s in self.steps.values())
        schedule = self._task_state not in TASK_TERMINAL or runnable
        if schedule and self.steps:
            self._open_task()  # _schedule finds the task open already
        return schedule

    def _on_notice(self, notice: TaskerCtlError) -> None:
        """From the heartbeat thread: stop at the next turn of the loop (wake it if it waits)."""
        self._notice = notice
        pool = self._pool
        if pool is not None:
            pool.completions.put(_WAKE)

    def _raise_notice(self) -> None:
        if self._notice is not None:
            notice, self._notice = self._notice, None
            raise notice

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
        self._runnable: deque[str] = deque()
        self._retries: list[tuple[float, str]] = []
        self._deadlines: list[tuple[float, str, int]] = []
        self._in_flight: dict[str, int] = {}
        self._apply_pending_outcomes()
        self._build_readiness()
        from tasker_ctl.handlers.capture import routing

        self._output = OutputRecorder(self.repository, self._task.uuid, self.bus.emit, _now_text)
        with routing():
            self._output.start()
            try:
                return self._loop()
            finally:
                self._output.stop()

    def _loop(self) -> bool:
        pool = WorkerPool(max(1, self.options.concurrency), self.options.clock)
        self._pool = pool
        try:
            while True:
                self._raise_notice()
                self._release_due_retries()
                with self._one_transaction():
                    while self._runnable and len(self._in_flight) < self.options.concurrency:
                        step_uuid = self._runnable.popleft()
                        if not self._held_back(step_uuid):
                            self._dispatch(step_uuid, pool)
                if not self._in_flight and not self._retries:
                    break
                try:
                    completions = [pool.completions.get(timeout=self._next_wake())]
                except queue.Empty:
                    self._expire_timeouts(pool)
                    continue
                while not pool.completions.empty():
                    completions.append(pool.completions.get_nowait())
                self._flush_output()
                try:
                    with self._one_transaction():
                        for completion in completions:
                            self._handle(completion, pool)
                except RunInterruptedError:
                    for completion in completions:
                        pool.completions.put(completion)  # refused before any was recorded
                    raise
                self._expire_timeouts(pool)
        except KeyboardInterrupt:
            self._drain(pool)
            return True
        except RunInterruptedError as notice:
            # An operator changed the task from another process: its change stands; record
            # what the running handlers do within the grace period, then stop.
            self._stopped_by = notice
            self.repository.heed_interrupts(False)
            self._drain(pool)
            self._reload_states()
            return False
        finally:
            pool.shutdown()
        self._finish_task()
        return False

    def _handle(self, completion: Completion, pool: WorkerPool) -> None:
        """Record what a worker reported (inside the caller's transaction)."""
        if self._in_flight.get(completion.step_uuid) != completion.token:
            return  # the late result of an attempt already failed by its timeout
        outcome = completion.outcome
        if outcome.is_checkpoint_yield:
            limit = self._continue_from_checkpoint(completion.step_uuid, outcome, pool)
            if limit is None:
                return
            outcome = limit
        self._end_flight(completion.step_uuid)
        self._record(completion.step_uuid, outcome)

    @contextmanager
    def _one_transaction(self) -> Iterator[None]:
        """Transitions made inside share one commit; what acts on them waits for it.

        Each SQLite commit costs about as much as a step's own work, so steps started together
        or finished together are recorded together. Events and hand-offs to workers are queued
        and happen only after the commit: nothing acts on a transition that is not stored, and
        a rollback (Ctrl-C mid-way) leaves nothing behind.
        """
        if self._after_commit is not None:
            yield
            return
        self._after_commit = []
        try:
            with self.repository.write():
                yield
            actions = self._after_commit
        finally:
            self._after_commit = None
        for action in actions:
            action()

    def _after(self, action: Callable[[], None]) -> None:
        """Run ``action`` once the current transaction commits (at once outside one)."""
        if self._after_commit is None:
            action()
        else:
            self._after_commit.append(action)

    def _emit(self, event: Event) -> None:
        self._after(lambda: self.bus.emit(event))

    # --- readiness -----------------------------------------------------------------------------

    def _build_readiness(self) -> None:
        """Count each step's unsatisfied parents and queue the steps that wait for none."""
        self.children = {step_uuid: [] for step_uuid in self.steps}
        for step_uuid, parents in self.parents.items():
            for parent in parents:
                self.children[parent].append(step_uuid)
        self._waiting_on = {
            step_uuid: self._unsatisfied(parents) for step_uuid, parents in self.parents.items()
        }
        for step in self.steps.values():
            self._resolve_handler(step)
        for step_uuid, waiting in self._waiting_on.items():
            if not waiting:
                self._release(step_uuid)

    def _unsatisfied(self, parents: Iterable[str]) -> int:
        return sum(1 for p in parents if self.steps[p].state not in SATISFYING_STEP_STATES)

    def _release(self, step_uuid: str) -> None:
        """A step whose parents are all satisfied: run it now, or when its retry falls due."""
        step = self.steps[step_uuid]
        if step.state == StepState.WAITING_FOR_RETRY:
            due = self.options.clock() + _seconds_until(step.record.next_retry_at)
            heapq.heappush(self._retries, (due, step_uuid))
        elif step.state not in _RESTING_STEP_STATES:
            self._runnable.append(step_uuid)

    def _on_satisfied(
        self, step_uuid: str, added: Sequence[StepRecord], plan: StepPlan | None
    ) -> None:
        """A step completed: link the steps it created, then release whatever now may run."""
        children = list(self.children[step_uuid])
        if plan is not None:
            self._join_graph(added, plan.edges)
        for child in children:
            self._waiting_on[child] -= 1
            if self._waiting_on[child] == 0:
                self._release(child)
        for record in added:
            if self._waiting_on[record.uuid] == 0:
                self._release(record.uuid)

    def _join_graph(self, added: Sequence[StepRecord], edges: Iterable[tuple[str, str]]) -> None:
        """Steps created mid-run join the graph; an existing step not yet released waits too."""
        for record in added:
            self.steps[record.uuid] = self._runtime(record)
            self._uuids[record.name] = record.uuid
            self.parents[record.uuid] = []
            self.children[record.uuid] = []
            self._waiting_on[record.uuid] = 0
            self._resolve_handler(self.steps[record.uuid])
        new = {record.uuid for record in added}
        for source_name, target_name in edges:
            source, target = self._uuids[source_name], self._uuids[target_name]
            self.parents[target].append(source)
            self.children[source].append(target)
            unsatisfied = self.steps[source].state not in SATISFYING_STEP_STATES
            if unsatisfied and (target in new or self._waiting_on[target] > 0):
                self._waiting_on[target] += 1

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

    def _resolve_handler(self, step: _Step) -> None:
        key = repr(sorted(step.record.handler.items()))
        if key not in self._handlers:
            self._handlers[key] = self.registry.resolve(_handler_definition(step.record.handler))
        step.invoker = self._handlers[key]

    # --- batches -------------------------------------------------------------------------------

    def _batch_rule(self, step: _Step) -> _BatchRule | None:
        """The batch_config of a batch worker's template step (None for any other step)."""
        if step.record.step_type != "batch_worker":
            return None
        name = step.record.template_step_name
        if name not in self._batch_rules:
            template = self._template()
            config = next((s.batch_config for s in template.steps if s.name == name), None)
            self._batch_rules[name] = (
                None
                if config is None
                else _BatchRule(config.parallelism, str(config.failure_strategy))
            )
        return self._batch_rules[name]

    def _held_back(self, step_uuid: str) -> bool:
        """Keep a batch worker waiting while its batch is at ``parallelism`` or stopped."""
        step = self.steps[step_uuid]
        rule = self._batch_rule(step)
        if rule is None:
            return False
        batch = step.record.template_step_name
        if batch in self._stopped_batches:
            return True  # fail_fast: it stays pending for a later run
        if rule.parallelism and self._batch_running[batch] >= rule.parallelism:
            self._held.setdefault(batch, deque()).append(step_uuid)
            return True
        self._batch_running[batch] += 1
        return False

    def _end_flight(self, step_uuid: str) -> None:
        """An attempt is over: free its place, and its batch's place for a held worker."""
        del self._in_flight[step_uuid]
        step = self.steps[step_uuid]
        if self._batch_rule(step) is None:
            return
        batch = step.record.template_step_name
        self._batch_running[batch] -= 1
        held = self._held.get(batch)
        if held and batch not in self._stopped_batches:
            self._runnable.append(held.popleft())

    # --- created steps -------------------------------------------------------------------------

    def _template(self) -> TaskTemplate:
        """The template snapshot the task was created from (loaded when first needed)."""
        if self._template_model is None:
            from tasker_ctl.template.models import TaskTemplate

            snapshot = self.repository.load_template_snapshot(self._task.uuid)
            self._template_model = TaskTemplate.from_snapshot(snapshot)
        return self._template_model

    def _plan(self, step: _Step, result: Any) -> StepPlan | StepOutcome | None:
        """What completing ``step`` with ``result`` creates, or the failure a bad outcome is."""
        if step.record.step_type not in _CREATING_STEP_TYPES:
            return None
        from tasker_ctl.engine.dynamic import ExistingStep, InvalidOutcomeError, plan_after

        template = self._template()
        existing = [
            ExistingStep(s.record.name, s.record.template_step_name) for s in self.steps.values()
        ]
        try:
            plan = plan_after(
                template, step.record.template_step_name, step.record.step_type, result, existing
            )
        except InvalidOutcomeError as exc:
            return StepOutcome(
                success=False,
                result=result if isinstance(result, dict) else None,
                error_message=exc.message,
                error_type=exc.error_type,
                retryable=False,
            )
        return None if plan.empty else plan

    def _apply_pending_outcomes(self) -> None:
        """Create what complete decision/batchable steps asked for but the task lacks.

        Needed after ``task complete-step`` on such a step; a run's own completions create their
        steps in the same transaction, so for them this finds nothing to do. An outcome that
        cannot be applied is left alone: the step is complete already.
        """
        while (plan := self._pending_plan()) is not None:
            added = self.repository.add_steps(self._task.uuid, plan.steps, plan.edges)
            for record in added:
                self.steps[record.uuid] = self._runtime(record)
                self._uuids[record.name] = record.uuid
                self.parents[record.uuid] = []
            for source, target in plan.edges:
                self.parents[self._uuids[target]].append(self._uuids[source])
            self._announce_created(plan)

    def _pending_plan(self) -> StepPlan | None:
        for step in list(self.steps.values()):
            if step.state == StepState.COMPLETE:
                plan = self._plan(step, step.result)
                if plan is not None and not isinstance(plan, StepOutcome):
                    return plan
        return None

    def _announce_created(self, plan: StepPlan) -> None:
        self._emit(
            StepsCreated(
                self._task.uuid,
                tuple(step.name for step in plan.steps),
                tuple(plan.edges),
                _now_text(),
            )
        )

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
        token = step.token

        def job() -> StepOutcome:
            return invoker.invoke(payload)

        if self._output is not None:
            job = self._output.job(step_uuid, step.record.name, step.attempts, job)
        self._after(lambda: pool.submit(step_uuid, token, job))

    def _payload(self, step: _Step) -> dict[str, Any]:
        task = self._task
        return build_payload(
            task_uuid=task.uuid,
            correlation_id=task.correlation_id or task.uuid,
            task_name=task.name,
            task_version=task.version,
            namespace=task.namespace,
            context=self._frozen_input.thaw(),
            step_uuid=step.record.uuid,
            step_name=step.record.name,
            template_step_name=step.record.template_step_name,
            attempts=step.attempts - 1,
            max_attempts=step.record.max_attempts,
            inputs=fresh_copy(step.record.inputs),
            checkpoint=fresh_copy(step.checkpoint),
            dependency_results=_AncestorResults(step.record.uuid, self),
            handler=_handler_definition(fresh_copy(step.record.handler)),
        )

    def _continue_from_checkpoint(
        self, step_uuid: str, outcome: StepOutcome, pool: WorkerPool
    ) -> StepOutcome | None:
        """Store a checkpoint yield and call the handler again: neither an attempt nor a move.

        Returns the failure to record instead when the handler yields without end.
        """
        step = self.steps[step_uuid]
        step.yields += 1
        if step.yields > MAX_CHECKPOINT_YIELDS:
            message = f"the handler yielded more than {MAX_CHECKPOINT_YIELDS} checkpoints"
            return StepOutcome.failed(message, CHECKPOINT_LIMIT, retryable=False)
        self._save_checkpoint(step, outcome)
        self._submit(step, pool)
        return None

    def _save_checkpoint(self, step: _Step, outcome: StepOutcome) -> None:
        checkpoint = outcome.checkpoint
        step.checkpoint = _merged_checkpoint(
            step.checkpoint, checkpoint.to_dict() if checkpoint else {}
        )
        self.repository.save_checkpoint(step.record.uuid, step.checkpoint)

    def _record(self, step_uuid: str, outcome: StepOutcome) -> None:
        """Commit what an attempt produced; a completion also creates the steps it asks for."""
        step = self.steps[step_uuid]
        plan = self._plan(step, outcome.result) if outcome.success else None
        if isinstance(plan, StepOutcome):
            outcome, plan = plan, None  # an invalid decision/batch outcome fails the step
        if outcome.success:
            self._complete(step, outcome, plan)
            return
        decision = decide(
            step.policy,
            attempts=step.attempts,
            result_retryable=outcome.retryable,
            error_type=outcome.error_type,
            metadata=outcome.metadata,
        )
        error = ErrorInfo.from_outcome(outcome, not decision.permanent)
        attempt = AttemptOutcome(
            success=False,
            result=outcome.result,
            error=_error_json(outcome),
            metadata=outcome.metadata or None,
        )
        if decision.permanent:
            rule = self._batch_rule(step)
            if rule is not None and rule.failure_strategy == CONTINUE_ON_FAILURE:
                self._complete(step, _partial_failure(step, outcome), None, decision.reason)
                return
            if rule is not None and rule.failure_strategy == FAIL_FAST:
                self._stopped_batches.add(step.record.template_step_name)
            self._transition(
                step,
                (StepEvent.ENQUEUE_AS_ERROR_FOR_ORCHESTRATION, StepEvent.FAIL),
                outcome=attempt,
                error=error,
                metadata={"reason": decision.reason},
            )
            return
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

    def _complete(
        self,
        step: _Step,
        outcome: StepOutcome,
        plan: StepPlan | None,
        failure_reason: str | None = None,
    ) -> None:
        """Commit a completion (and the steps it creates, atomically), then release dependents."""
        attempt = AttemptOutcome(
            success=True, result=outcome.result, metadata=outcome.metadata or None
        )
        step.result = outcome.result
        step.frozen_result = FrozenJson(outcome.result)
        metadata = None
        if failure_reason is not None:
            metadata = {"failure_strategy": CONTINUE_ON_FAILURE, "reason": failure_reason}
        added = self._transition(
            step,
            (StepEvent.ENQUEUE_FOR_ORCHESTRATION, StepEvent.COMPLETE),
            outcome=attempt,
            metadata=metadata,
            plan=plan,
        )
        self._on_satisfied(step.record.uuid, added, plan)
        if plan is not None:
            self._announce_created(plan)

    def _expire_timeouts(self, pool: WorkerPool) -> None:
        """Fail the attempts whose handler has run past its timeout.

        A deadline pushed at dispatch is the earliest the attempt can overrun; the clock really
        starts when a worker starts the handler, so a deadline found early is pushed back.
        """
        now = self.options.clock()
        while self._deadlines and self._deadlines[0][0] <= now:
            _, step_uuid, token = heapq.heappop(self._deadlines)
            if self._in_flight.get(step_uuid) == token:
                seconds = self.steps[step_uuid].record.timeout_seconds or 0
                started = pool.started_at(step_uuid, token)
                if started is None or started + seconds > now:
                    later = now + seconds if started is None else started + seconds
                    heapq.heappush(self._deadlines, (later, step_uuid, token))
                    continue
                # The thread cannot be stopped: a new one takes its place; its result is ignored.
                pool.abandon(step_uuid, token)
                self._end_flight(step_uuid)
                self._record(step_uuid, StepOutcome.timed_out(seconds))

    def _drain(self, pool: WorkerPool) -> None:
        """After Ctrl-C: let running handlers finish for a while and record what they did."""
        deadline = self.options.clock() + self.options.grace_seconds
        try:
            self._announce_stopping()
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
                self._end_flight(completion.step_uuid)
                self._flush_output()
                if completion.outcome.is_checkpoint_yield:
                    # Keep the progress; the step stays in_progress and resumes from it.
                    self._save_checkpoint(self.steps[completion.step_uuid], completion.outcome)
                else:
                    self._record_drained(completion.step_uuid, completion.outcome)
        except KeyboardInterrupt:
            pass
        finally:
            self._abandoned = tuple(self.steps[uuid].record.name for uuid in self._in_flight)

    def _announce_stopping(self) -> None:
        running = tuple(self.steps[uuid].record.name for uuid in self._in_flight)
        self._emit(RunStopping(self._task.uuid, running, self.options.grace_seconds, _now_text()))

    def _flush_output(self) -> None:
        """Store and show what handlers printed before recording how their attempts ended."""
        if self._output is not None:
            self._output.flush()

    def _record_drained(self, step_uuid: str, outcome: StepOutcome) -> None:
        """Record a handler that finished while the run stops; if an operator moved its step
        meanwhile (``task cancel``), the move stands and the attempt's result is still kept."""
        try:
            self._record(step_uuid, outcome)
        except TransitionConflictError:
            step = self.steps[step_uuid]
            self.repository.add_attempt_result(
                self._task.uuid,
                step_uuid,
                step.attempts,
                AttemptOutcome(
                    success=outcome.success,
                    result=outcome.result,
                    error=None if outcome.success else _error_json(outcome),
                    metadata={**(outcome.metadata or {}), "step_moved_by_operator": True},
                ),
            )

    def _reload_states(self) -> None:
        """After an operator's change: where the task and its steps now stand in the store,
        told to the observers too (so a live view does not keep showing the old states)."""
        graph = self.repository.load_graph(self._task.uuid)
        at = _now_text()
        for record in graph.steps:
            step = self.steps.get(record.uuid)
            if step is not None and step.state != record.state:
                self._emit(
                    StepTransitioned(
                        task_uuid=self._task.uuid,
                        step_uuid=record.uuid,
                        step_name=record.name,
                        from_state=step.state,
                        to_state=str(record.state),
                        event=_CHANGED_ELSEWHERE,
                        attempt=record.attempts,
                        max_attempts=record.max_attempts,
                        at=at,
                    )
                )
                step.state = str(record.state)
        if self._task_state != graph.task.state:
            moved = (self._task_state, str(graph.task.state))
            self._emit(TaskTransitioned(self._task.uuid, *moved, _CHANGED_ELSEWHERE, at))
            self._task_state = moved[1]

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
        plan: StepPlan | None = None,
    ) -> list[StepRecord]:
        """Commit a sequence of transitions of one step atomically, then announce each.

        With a ``plan``, the steps it creates are committed in the same transaction (and returned).
        """
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
        added: list[StepRecord] = []
        with self.repository.write():
            self.repository.apply(changes)
            if plan is not None:
                added = self.repository.add_steps(self._task.uuid, plan.steps, plan.edges)
        step.state, step.attempts = state, attempts
        at = _now_text()
        for from_state, to_state, event in moves:
            waiting = to_state == StepState.WAITING_FOR_RETRY
            self._emit(
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
        return added

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
            self._emit(TaskTransitioned(self._task.uuid, from_state, to_state, str(event), at))

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
            abandoned=self._abandoned,
            stopped_by=self._stopped_by,
        )
        self._emit(
            RunFinished(
                result.task_uuid,
                result.status,
                duration_ms,
                completed,
                failed,
                result.pending,
                interrupted,
                _now_text(),
                self._abandoned,
            )
        )
        return result


_WAKE = Completion("", -1, StepOutcome.failed("wake the scheduler", "wake", retryable=False))
"""Put on the completion queue to wake a waiting scheduler; it matches no step."""


def _handler_definition(handler: Mapping[str, Any]) -> HandlerDefinition:
    return HandlerDefinition(
        callable=str(handler.get("callable", "")),
        method=handler.get("method"),
        resolver=handler.get("resolver"),
        initialization=handler.get("initialization") or {},
    )


def _partial_failure(step: _Step, outcome: StepOutcome) -> StepOutcome:
    """A ``continue_on_failure`` worker's result when its batch failed: nothing processed."""
    inputs = step.record.inputs or {}
    found = inputs.get("cursor")
    cursor: dict[str, Any] = found if isinstance(found, dict) else {}
    size = cursor.get("batch_size")
    return StepOutcome.succeeded(
        {
            "batch_id": cursor.get("batch_id"),
            "items_processed": 0,
            "items_succeeded": 0,
            "items_failed": size if isinstance(size, int) else 0,
            "items_skipped": 0,
            "last_cursor": None,
            "batch_metadata": inputs.get("batch_metadata") or {},
            "partial_failure": True,
            "batch_failed": True,
            "error": {"message": outcome.error_message, "error_type": outcome.error_type},
        },
        {"batch_worker": True, "had_failures": True, "failure_strategy": CONTINUE_ON_FAILURE},
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
