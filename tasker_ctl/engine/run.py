"""One run of one task: the per-run state, and the scheduling loop that drives the sections.

:class:`Run` is created by :meth:`tasker_ctl.engine.scheduler.Engine.run` for each run and holds
everything that belongs to it (the steps, the queues, the template snapshot, the running
attempts); the sections of the engine are the modules it calls:

- :mod:`.readiness` which steps may run;  :mod:`.batches` which batch workers may start;
- :mod:`.dispatch` starting an attempt;  :mod:`.checkpoints` a handler's checkpoint yields;
- :mod:`.outcomes` recording how an attempt ended (and retries);  :mod:`.created` the steps a
  decision or batchable step creates;  :mod:`.timeouts` and :mod:`.drain` overrun attempts and
  stopping;  :mod:`.transitions`, :mod:`.task` and :mod:`.commits` the moves, their commits
  and their events.

Per step, a run calls :func:`.dispatch.dispatch` once per attempt and, when the worker reports,
:meth:`Run._handle` → :func:`.outcomes.record` → :func:`.transitions.move_step` and
:meth:`.readiness.Readiness.on_satisfied`.
"""

from __future__ import annotations

import queue

from tasker_ctl.engine.batches import BatchGate
from tasker_ctl.engine.checkpoints import continue_from_checkpoint
from tasker_ctl.engine.commits import Commits
from tasker_ctl.engine.created import CreatedSteps
from tasker_ctl.engine.dispatch import dispatch, end_flight
from tasker_ctl.engine.drain import drain, reload_states
from tasker_ctl.engine.events import EventBus, RunFinished, RunStarted, StepSnapshot
from tasker_ctl.engine.isolation import FrozenJson
from tasker_ctl.engine.lease import RunLease
from tasker_ctl.engine.options import RunOptions, SkippingClock
from tasker_ctl.engine.outcomes import record
from tasker_ctl.engine.output import OutputRecorder
from tasker_ctl.engine.paths import RESTING_STEP_STATES
from tasker_ctl.engine.readiness import Readiness
from tasker_ctl.engine.result import RunResult
from tasker_ctl.engine.steps import Invokers, RunGraph
from tasker_ctl.engine.task import TaskProgress
from tasker_ctl.engine.timeouts import Deadlines, expire_timeouts
from tasker_ctl.engine.timestamps import now_text
from tasker_ctl.engine.workers import Completion, WorkerPool, start_pool
from tasker_ctl.errors import RunInterruptedError, TaskerCtlError
from tasker_ctl.handlers.outcome import StepOutcome
from tasker_ctl.handlers.registry import HandlerRegistry
from tasker_ctl.states import SATISFYING_STEP_STATES, TASK_TERMINAL, StepState, TaskEvent
from tasker_ctl.store.records import TaskGraph
from tasker_ctl.store.repository import Repository


class Run:
    """Everything of one run of ``task_uuid``; :meth:`run` drives it to a resting state."""

    task: TaskProgress
    frozen_input: FrozenJson  # the task's input, as each handler is handed a fresh copy of it

    def __init__(
        self,
        repository: Repository,
        registry: HandlerRegistry,
        bus: EventBus,
        options: RunOptions,
        task_uuid: str,
    ) -> None:
        self.repository = repository
        self.registry = registry
        self.bus = bus
        self.options = options
        self.task_uuid = task_uuid
        self.commits = Commits(repository, bus)
        self.graph = RunGraph()
        invokers = Invokers(registry)
        self.readiness = Readiness(self.graph, invokers, options.clock)
        self.created = CreatedSteps(repository, task_uuid, self.graph, self.commits)
        self.batches = BatchGate(self.created.template)
        self.deadlines = Deadlines()
        self.in_flight: dict[str, int] = {}  # step uuid -> token of its running attempt
        self.output: OutputRecorder | None = None
        self.abandoned: tuple[str, ...] = ()
        self.stopped_by: RunInterruptedError | None = None
        self._notice: TaskerCtlError | None = None
        self._pool: WorkerPool | None = None
        self._observer_failures_before = len(bus.failures)  # the bus outlives the run

    # --- the run -------------------------------------------------------------------------------

    def run(self) -> RunResult:
        """Run the task until nothing more can run; resumable after any interruption."""
        started = self.options.clock()
        lease = RunLease(
            self.repository, self.task_uuid, self.options.heartbeat_seconds, self._on_notice
        )
        # The lease is taken in the transaction that moves the task: a second run is refused
        # before anything changes, and no write of this run can come before its lease.
        with self.commits.one_transaction():
            graph = self.repository.load_graph(self.task_uuid)
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
        self.task = TaskProgress(self.repository, self.commits, graph.task)
        task_input = graph.task.input
        self.frozen_input = FrozenJson(task_input if isinstance(task_input, dict) else {})
        self.graph.load(graph.steps, graph.parents())
        steps = self.graph.steps
        finished = sum(1 for s in steps.values() if s.state in SATISFYING_STEP_STATES)
        snapshots = tuple(
            StepSnapshot(s.record.name, s.state, s.attempts, s.record.max_attempts)
            for s in steps.values()
        )
        self.commits.emit(
            RunStarted(
                self.task_uuid,
                graph.task.name,
                graph.task.namespace,
                graph.task.version,
                len(steps),
                finished,
                now_text(),
                snapshots,
                taken_over_from,
                synchronous=self.repository.synchronous(),
            )
        )
        runnable = any(s.state not in RESTING_STEP_STATES for s in steps.values())
        schedule = self.task.state not in TASK_TERMINAL or runnable
        if schedule and steps:
            self.task.open()  # _schedule finds the task open already
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

    def _schedule(self) -> bool:
        """The scheduling loop; returns True when it stopped because of Ctrl-C."""
        if not self.graph.steps:
            self.task.advance((TaskEvent.START, TaskEvent.NO_STEPS_FOUND))
            return False
        self.created.apply_pending()
        self.readiness.build()
        from tasker_ctl.handlers.capture import routing

        self.output = OutputRecorder(self.repository, self.task_uuid, self.bus.emit, now_text)
        with routing():
            self.output.start()
            try:
                return self._loop()
            finally:
                self.output.stop()

    def _loop(self) -> bool:
        pool = start_pool(self.options, self.registry)
        self._pool = pool
        readiness, in_flight = self.readiness, self.in_flight
        completions: list[Completion] = []
        try:
            while True:
                self._raise_notice()
                readiness.release_due_retries()
                # What the workers reported, the attempts that overran and the steps that now
                # may start share one commit: on a chain, a step's completion and its
                # successor's start.
                try:
                    with self.commits.one_transaction():
                        for completion in completions:
                            self._handle(completion, pool)
                        expire_timeouts(self, pool)
                        while readiness.runnable and len(in_flight) < self.options.concurrency:
                            step_uuid = readiness.runnable.popleft()
                            if not self.batches.held_back(self.graph.steps[step_uuid]):
                                dispatch(self, step_uuid, pool)
                except RunInterruptedError:
                    for completion in completions:
                        pool.completions.put(completion)  # refused before any was recorded
                    raise
                completions = []
                if not in_flight and not readiness.retries:
                    break
                wake = self._next_wake()
                if not in_flight and wake and isinstance(self.options.clock, SkippingClock):
                    self.options.clock.skip(wake)  # only retries wait: skip to the first
                    continue
                try:
                    completions.append(pool.completions.get(timeout=wake))
                except queue.Empty:
                    continue  # a retry fell due or an attempt overran: the next turn sees to it
                while not pool.completions.empty():
                    completions.append(pool.completions.get_nowait())
                self.flush_output()
        except KeyboardInterrupt:
            drain(self, pool)
            return True
        except RunInterruptedError as notice:
            # An operator changed the task from another process: its change stands; record
            # what the running handlers do within the grace period, then stop.
            self.stopped_by = notice
            self.repository.heed_interrupts(False)
            drain(self, pool)
            reload_states(self)
            return False
        finally:
            pool.shutdown()
        self.task.finish(self.graph.all_satisfied())
        return False

    def _handle(self, completion: Completion, pool: WorkerPool) -> None:
        """Record what a worker reported (inside the caller's transaction)."""
        if self.in_flight.get(completion.step_uuid) != completion.token:
            return  # the late result of an attempt already failed by its timeout
        outcome = completion.outcome
        if outcome.is_checkpoint_yield:
            limit = continue_from_checkpoint(self, completion.step_uuid, outcome, pool)
            if limit is None:
                return
            outcome = limit
        end_flight(self, completion.step_uuid)
        record(self, completion.step_uuid, outcome)

    def _next_wake(self) -> float | None:
        """Seconds until the next retry falls due or a running step overruns (None: no limit)."""
        moments = [
            moment
            for moment in (self.readiness.next_retry(), self.deadlines.next(self.in_flight))
            if moment is not None
        ]
        if not moments:
            return None
        return max(0.0, min(moments) - self.options.clock())

    def flush_output(self) -> None:
        """Store and show what handlers printed before recording how their attempts ended."""
        if self.output is not None:
            self.output.flush()

    def _result(self, started: float, interrupted: bool) -> RunResult:
        states = [s.state for s in self.graph.steps.values()]
        completed = sum(1 for s in states if s in SATISFYING_STEP_STATES)
        failed = sum(1 for s in states if s == StepState.ERROR)
        duration_ms = int((self.options.clock() - started) * 1000)
        failures = self.bus.failures[self._observer_failures_before :]
        result = RunResult(
            task_uuid=self.task_uuid,
            status=self.task.state,
            completed=completed,
            failed=failed,
            pending=len(states) - completed - failed,
            duration_ms=duration_ms,
            interrupted=interrupted,
            observer_errors=tuple(f"{type(e).__name__}: {e}" for _, e in failures),
            abandoned=self.abandoned,
            stopped_by=self.stopped_by,
        )
        self.commits.emit(
            RunFinished(
                result.task_uuid,
                result.status,
                duration_ms,
                completed,
                failed,
                result.pending,
                interrupted,
                now_text(),
                self.abandoned,
            )
        )
        return result


_WAKE = Completion("", -1, StepOutcome.failed("wake the scheduler", "wake", retryable=False))
"""Put on the completion queue to wake a waiting scheduler; it matches no step."""
