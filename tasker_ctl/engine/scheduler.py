"""The local engine: runs a stored task's ready steps in parallel, durably, with retries.

:class:`Engine` is the entry point; each :meth:`Engine.run` is a fresh
:class:`~tasker_ctl.engine.run.Run` (that module lists the sections of the engine, one module
each). The guarantees:

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

from tasker_ctl.engine.batches import CONTINUE_ON_FAILURE, FAIL_FAST
from tasker_ctl.engine.checkpoints import CHECKPOINT_LIMIT, MAX_CHECKPOINT_YIELDS
from tasker_ctl.engine.events import EventBus
from tasker_ctl.engine.options import DEFAULT_CONCURRENCY, DEFAULT_GRACE_SECONDS, RunOptions
from tasker_ctl.engine.result import RunResult
from tasker_ctl.engine.run import Run
from tasker_ctl.handlers.registry import HandlerRegistry
from tasker_ctl.store.repository import Repository

__all__ = [
    "CHECKPOINT_LIMIT",
    "CONTINUE_ON_FAILURE",
    "DEFAULT_CONCURRENCY",
    "DEFAULT_GRACE_SECONDS",
    "FAIL_FAST",
    "MAX_CHECKPOINT_YIELDS",
    "Engine",
    "RunOptions",
    "RunResult",
]


class Engine:
    """Runs tasks, one at a time, each to a resting state; see the module docstring.

    The engine holds only what every run shares (the store, the handler registry, the observers'
    bus, the options): each :meth:`run` starts a fresh :class:`~tasker_ctl.engine.run.Run` from
    what the store holds, so nothing of an earlier task (its template, batch rules, queues) is
    reused.
    """

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

    def run(self, task_uuid: str) -> RunResult:
        """Run ``task_uuid`` until nothing more can run; resumable after any interruption."""
        return Run(self.repository, self.registry, self.bus, self.options, task_uuid).run()
