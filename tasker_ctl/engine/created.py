"""Steps created while the task runs: what a decision or batchable step's result asks for.

The plan itself is made by :mod:`tasker_ctl.engine.dynamic` from the template snapshot the task
was created from; this module loads that snapshot once per run, asks for the plan when such a
step completes, and applies plans that an operator's ``task complete-step`` left unapplied.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tasker_ctl.engine.commits import Commits
from tasker_ctl.engine.events import StepsCreated
from tasker_ctl.engine.steps import RunGraph, RunStep
from tasker_ctl.engine.timestamps import now_text
from tasker_ctl.handlers.outcome import StepOutcome
from tasker_ctl.states import StepState
from tasker_ctl.store.repository import Repository

if TYPE_CHECKING:
    from tasker_ctl.engine.dynamic import StepPlan
    from tasker_ctl.template.models import TaskTemplate

CREATING_STEP_TYPES = frozenset({"decision", "batchable"})


class CreatedSteps:
    """Plans the steps a completing step creates, from the task's own template snapshot."""

    def __init__(
        self, repository: Repository, task_uuid: str, graph: RunGraph, commits: Commits
    ) -> None:
        self._repository = repository
        self._task_uuid = task_uuid
        self._graph = graph
        self._commits = commits
        self._template_model: TaskTemplate | None = None

    def template(self) -> TaskTemplate:
        """The template snapshot the task was created from (loaded when first needed)."""
        if self._template_model is None:
            from tasker_ctl.template.models import TaskTemplate

            snapshot = self._repository.load_template_snapshot(self._task_uuid)
            self._template_model = TaskTemplate.from_snapshot(snapshot)
        return self._template_model

    def plan(self, step: RunStep, result: Any) -> StepPlan | StepOutcome | None:
        """What completing ``step`` with ``result`` creates, or the failure a bad outcome is."""
        if step.record.step_type not in CREATING_STEP_TYPES:
            return None
        from tasker_ctl.engine.dynamic import ExistingStep, InvalidOutcomeError, plan_after

        template = self.template()
        existing = [
            ExistingStep(s.record.name, s.record.template_step_name)
            for s in self._graph.steps.values()
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

    def apply_pending(self) -> None:
        """Create what complete decision/batchable steps asked for but the task lacks.

        Needed after ``task complete-step`` on such a step; a run's own completions create their
        steps in the same transaction, so for them this finds nothing to do. An outcome that
        cannot be applied is left alone: the step is complete already.
        """
        graph = self._graph
        while (plan := self._pending_plan()) is not None:
            added = self._repository.add_steps(self._task_uuid, plan.steps, plan.edges)
            for record in added:
                graph.add(record)
            for source, target in plan.edges:
                graph.link(graph.uuids[source], graph.uuids[target])
            self.announce(plan)

    def _pending_plan(self) -> StepPlan | None:
        for step in list(self._graph.steps.values()):
            if step.state == StepState.COMPLETE:
                plan = self.plan(step, step.result)
                if plan is not None and not isinstance(plan, StepOutcome):
                    return plan
        return None

    def announce(self, plan: StepPlan) -> None:
        """Tell the observers which steps (and edges) ``plan`` added, once committed."""
        self._commits.emit(
            StepsCreated(
                self._task_uuid,
                tuple(step.name for step in plan.steps),
                tuple(plan.edges),
                now_text(),
            )
        )
