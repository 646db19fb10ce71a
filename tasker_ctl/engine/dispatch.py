"""Dispatch: record a step as running, hand its handler to a worker, free its place after.

Per attempt: :func:`dispatch` commits the move to ``in_progress``, :func:`submit` builds the
handler's payload and queues the call for after the commit; :func:`end_flight` is called when
the attempt is over (however it ended).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tasker_ctl.engine.ancestors import AncestorResults
from tasker_ctl.engine.isolation import fresh_copy
from tasker_ctl.engine.paths import TO_IN_PROGRESS
from tasker_ctl.engine.steps import RunStep, handler_definition
from tasker_ctl.engine.transitions import move_step
from tasker_ctl.engine.workers import StepCall, WorkerPool
from tasker_ctl.handlers.outcome import StepOutcome
from tasker_ctl.handlers.payload import HandlerDefinition, build_payload
from tasker_ctl.states import StepState

if TYPE_CHECKING:
    from tasker_ctl.engine.run import Run


def dispatch(run: Run, step_uuid: str, pool: WorkerPool) -> None:
    """Record the step as running, then hand its handler to a worker."""
    step = run.graph.steps[step_uuid]
    recovering = step.state == StepState.IN_PROGRESS
    events = TO_IN_PROGRESS[StepState(step.state)]
    move_step(run, step, events, metadata={"recovered": True} if recovering else None)
    submit(run, step, pool)


def submit(run: Run, step: RunStep, pool: WorkerPool) -> None:
    """Queue a call of the step's handler (after the commit), with its deadline if it has one."""
    step.token += 1
    step_uuid = step.record.uuid
    run.in_flight[step_uuid] = step.token
    if step.record.timeout_seconds:
        deadline = run.options.clock() + step.record.timeout_seconds
        run.deadlines.add(deadline, step_uuid, step.token)
    definition = handler_definition(fresh_copy(step.record.handler))
    payload = _payload(run, step, definition)
    invoker = step.invoker
    assert invoker is not None
    token = step.token

    def job() -> StepOutcome:
        return invoker.invoke(payload)

    deliver = None
    if run.output is not None:
        job = run.output.job(step_uuid, step.record.name, step.attempts, job)
        deliver = run.output.deliverer(step_uuid, step.record.name, step.attempts)
    call = StepCall(job, definition, payload, invoker.ok, deliver)
    run.commits.hand_off(lambda: pool.submit(step_uuid, token, call))


def end_flight(run: Run, step_uuid: str) -> None:
    """An attempt is over: free its place, and its batch's place for a held worker."""
    del run.in_flight[step_uuid]
    released = run.batches.finished(run.graph.steps[step_uuid])
    if released is not None:
        run.readiness.runnable.append(released)


def _payload(run: Run, step: RunStep, definition: HandlerDefinition) -> dict[str, Any]:
    task = run.task.record
    return build_payload(
        task_uuid=task.uuid,
        correlation_id=task.correlation_id or task.uuid,
        task_name=task.name,
        task_version=task.version,
        namespace=task.namespace,
        context=run.frozen_input.thaw(),
        step_uuid=step.record.uuid,
        step_name=step.record.name,
        template_step_name=step.record.template_step_name,
        attempts=step.attempts - 1,
        max_attempts=step.record.max_attempts,
        inputs=fresh_copy(step.record.inputs),
        checkpoint=fresh_copy(step.checkpoint),
        dependency_results=AncestorResults(step.record.uuid, run.graph),
        handler=definition,
    )
