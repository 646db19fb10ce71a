"""Steps a task creates while it runs: decision branches and batch workers (reference §6.2, §6.3).

A ``decision`` step's result names the branches to create (``decision_point_outcome``); a
``batchable`` step's result describes batches (``batch_processing_outcome``). The functions here
read such a result, check it against the template, and plan which steps and edges to add. They
are pure: the engine commits the plan in the same transaction that records the step complete, and
plans again on resume for a step completed by other means (``task complete-step``). A plan never
repeats a step the task already has, so applying it twice changes nothing.

Where Tasker only logs a bad outcome, tasker-ctl fails the step permanently
(:class:`InvalidOutcomeError`, error types ``invalid_decision_outcome``/``invalid_batch_outcome``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tasker_ctl.errors import did_you_mean
from tasker_ctl.store.records import JsonObject, NewStep
from tasker_ctl.template.graph import dependency_map, dependents_map, descendants
from tasker_ctl.template.models import StepDefinition, StepType, TaskTemplate

INVALID_DECISION_OUTCOME = "invalid_decision_outcome"
INVALID_BATCH_OUTCOME = "invalid_batch_outcome"
MAX_STEPS_PER_DECISION = 100
MAX_DECISION_DEPTH = 20
NO_OP_BATCH_ID = "000"
TEMPLATE_STEP_NAME_KEY = "__template_step_name"

_DECISION_SHAPE = (
    'expected {"type": "create_steps", "step_names": [...]} or {"type": "no_branches"}'
)
_BATCH_SHAPE = (
    'expected {"type": "create_batches", "cursor_configs": [...]} or {"type": "no_batches"}'
)


class InvalidOutcomeError(Exception):
    """A decision or batch outcome the engine cannot apply; the step fails permanently."""

    def __init__(self, message: str, error_type: str) -> None:
        super().__init__(message)
        self.message = message
        self.error_type = error_type


@dataclass(frozen=True)
class ExistingStep:
    """What a plan needs to know about a step the task already has."""

    name: str
    template_step_name: str


@dataclass(frozen=True)
class StepPlan:
    """Steps to add to a task and the ``(from name, to name)`` edges that link them."""

    steps: tuple[NewStep, ...] = ()
    edges: tuple[tuple[str, str], ...] = ()

    @property
    def empty(self) -> bool:
        """Whether there is nothing to add."""
        return not self.steps and not self.edges


def plan_after(
    template: TaskTemplate,
    step_name: str,
    step_type: str,
    result: Any,
    existing: Sequence[ExistingStep],
) -> StepPlan:
    """What completing ``step_name`` with ``result`` adds; raises :class:`InvalidOutcomeError`."""
    if step_type == StepType.DECISION:
        return plan_decision(template, step_name, result, existing)
    if step_type == StepType.BATCHABLE:
        return plan_batches(template, step_name, result, existing)
    return StepPlan()


def new_step(
    definition: StepDefinition,
    *,
    name: str | None = None,
    inputs: JsonObject | None = None,
) -> NewStep:
    """A step to create from its template definition; batch workers get a name and inputs.

    A batch worker's inputs are also merged into its ``handler.initialization`` together with
    ``__template_step_name``, as Tasker does.
    """
    handler = definition.handler.model_dump(mode="json")
    if inputs is not None:
        handler["initialization"] = {
            **handler.get("initialization", {}),
            **inputs,
            TEMPLATE_STEP_NAME_KEY: definition.name,
        }
    return NewStep(
        name=name or definition.name,
        template_step_name=definition.name,
        step_type=str(definition.step_type),
        handler=handler,
        retry=definition.retry.model_dump(mode="json"),
        max_attempts=definition.retry.max_attempts,
        retryable=definition.retry.retryable,
        timeout_seconds=definition.timeout_seconds,
        inputs=inputs,
    )


# --- decisions ----------------------------------------------------------------------------------


def decision_branches(decision: str, result: Any) -> tuple[str, ...]:
    """The step names a decision's result asks for (empty for ``no_branches``)."""
    outcome = result.get("decision_point_outcome") if isinstance(result, dict) else None
    if not isinstance(outcome, dict):
        raise _bad_decision(
            f"decision step '{decision}' returned no decision_point_outcome ({_DECISION_SHAPE})"
        )
    kind = outcome.get("type")
    if kind == "no_branches":
        return ()
    if kind != "create_steps":
        raise _bad_decision(
            f"decision step '{decision}' returned decision_point_outcome type {kind!r} "
            f"({_DECISION_SHAPE})"
        )
    names = outcome.get("step_names")
    if not isinstance(names, list) or not all(isinstance(n, str) and n for n in names):
        raise _bad_decision(
            f"decision step '{decision}': decision_point_outcome.step_names must be a list of "
            f"step names, not {names!r}"
        )
    if not names:
        raise _bad_decision(
            f"decision step '{decision}': create_steps names no step; "
            'return {"type": "no_branches"} to create none'
        )
    return tuple(dict.fromkeys(names))


def plan_decision(
    template: TaskTemplate,
    decision: str,
    result: Any,
    existing: Sequence[ExistingStep],
) -> StepPlan:
    """The branches a completed decision creates, with what follows them (reference §6.2).

    Created: the requested steps; the steps after them up to the next decision (which is created,
    its own branches waiting for it); every ``deferred_convergence`` step that depends on a
    created step; and the steps after such a convergence whose dependencies all exist.
    """
    requested = decision_branches(decision, result)
    dependencies = dependency_map(template)
    below = descendants(dependencies, [decision])
    types = {step.name: step.step_type for step in template.steps}
    depth = _decision_depth(template, decision)
    if depth > MAX_DECISION_DEPTH:
        raise _bad_decision(
            f"decision step '{decision}' is nested {depth} decisions deep, "
            f"exceeding the maximum of {MAX_DECISION_DEPTH}"
        )
    nested = [n for n in below if types[n] is StepType.DECISION]
    below_nested = descendants(dependencies, nested)
    for name in requested:
        if name not in types:
            raise _bad_decision(
                f"decision step '{decision}' asked for step '{name}', which the template does "
                f"not have{did_you_mean(name, list(types))}"
            )
        if name not in below:
            raise _bad_decision(
                f"Step '{name}' is not a valid descendant of decision point '{decision}'"
            )
        if name in below_nested:
            raise _bad_decision(
                f"decision step '{decision}' asked for step '{name}', which lies below a nested "
                "decision; that decision creates it"
            )
        if types[name] is StepType.BATCH_WORKER:
            raise _bad_decision(
                f"decision step '{decision}' asked for batch worker '{name}'; batch workers are "
                "created by their batchable step"
            )
    known = {step.name for step in existing}
    created = _close_forward(template, list(requested), known)
    if len(created) > MAX_STEPS_PER_DECISION:
        raise _bad_decision(
            f"Decision outcome creates {len(created)} steps, exceeding maximum of "
            f"{MAX_STEPS_PER_DECISION}"
        )
    edges = _template_edges(template, created, existing, fallback_parent=decision)
    return _plan(template, created, (), edges, known)


def _decision_depth(template: TaskTemplate, decision: str) -> int:
    """1 for a top-level decision, 2 for a decision below one, and so on."""
    dependencies = dependency_map(template)
    enclosing = [
        step.name
        for step in template.steps
        if step.step_type is StepType.DECISION
        and step.name != decision
        and decision in descendants(dependencies, [step.name])
    ]
    return 1 + len(enclosing)


def _bad_decision(message: str) -> InvalidOutcomeError:
    return InvalidOutcomeError(message, INVALID_DECISION_OUTCOME)


# --- batches ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BatchOutcome:
    """A batchable step's outcome: the worker template and one cursor per batch (none: no-op)."""

    worker_template: str
    cursors: tuple[JsonObject, ...]

    @property
    def no_batches(self) -> bool:
        """Whether the analyzer found nothing to split (one ``_000`` no-op worker runs)."""
        return not self.cursors


def batch_outcome(template: TaskTemplate, batchable: str, result: Any) -> BatchOutcome:
    """Read and check a batchable step's ``batch_processing_outcome`` (reference §6.3)."""
    outcome = result.get("batch_processing_outcome") if isinstance(result, dict) else None
    if not isinstance(outcome, dict):
        raise _bad_batch(
            f"batchable step '{batchable}': Step result does not contain batch processing "
            f"outcome ({_BATCH_SHAPE})"
        )
    kind = outcome.get("type")
    if kind not in ("create_batches", "no_batches"):
        raise _bad_batch(
            f"batchable step '{batchable}' returned batch_processing_outcome type {kind!r} "
            f"({_BATCH_SHAPE})"
        )
    worker = _worker_template(template, batchable, outcome.get("worker_template_name"))
    if kind == "no_batches":
        return BatchOutcome(worker, ())
    configs = outcome.get("cursor_configs")
    if not isinstance(configs, list) or not all(isinstance(c, dict) for c in configs):
        raise _bad_batch(
            f"batchable step '{batchable}': cursor_configs must be a list of objects, "
            f"not {configs!r}"
        )
    if not configs:
        raise _bad_batch(
            f"batchable step '{batchable}': cursor_configs cannot be empty for CreateBatches "
            'outcome; return {"type": "no_batches"} instead'
        )
    cursors = tuple(_cursor(batchable, config) for config in configs)
    ids = [cursor["batch_id"] for cursor in cursors]
    duplicates = sorted(i for i, n in Counter(ids).items() if n > 1)
    if duplicates:
        raise _bad_batch(
            f"batchable step '{batchable}': batch ids repeat ({', '.join(duplicates)}); "
            "each batch needs its own id"
        )
    return BatchOutcome(worker, cursors)


def plan_batches(
    template: TaskTemplate,
    batchable: str,
    result: Any,
    existing: Sequence[ExistingStep],
) -> StepPlan:
    """The workers ``{worker_template}_{batch_id}`` and the convergence steps after them."""
    outcome = batch_outcome(template, batchable, result)
    definition = template.step_named(outcome.worker_template)
    config = definition.batch_config
    assert config is not None  # checked by _worker_template
    batch_metadata = {
        "cursor_field": config.cursor_field,
        "failure_strategy": str(config.failure_strategy),
    }
    cursors = outcome.cursors or (
        {"batch_id": NO_OP_BATCH_ID, "start_cursor": 0, "end_cursor": 0, "batch_size": 0},
    )
    known = {step.name for step in existing}
    workers = [
        new_step(
            definition,
            name=f"{outcome.worker_template}_{cursor['batch_id']}",
            inputs={
                "cursor": cursor,
                "batch_metadata": batch_metadata,
                "is_no_op": outcome.no_batches,
            },
        )
        for cursor in cursors
    ]
    worker_names = [worker.name for worker in workers]
    convergence = [
        step.name
        for step in template.steps
        if step.step_type is StepType.DEFERRED_CONVERGENCE
        and outcome.worker_template in step.dependencies
    ]
    created = _close_forward(template, convergence, known)
    edges = [(batchable, name) for name in worker_names]
    edges += [(worker, name) for worker in worker_names for name in convergence]
    # The workers link each convergence step to the batch; no edge from the batchable step.
    edges += [
        edge
        for edge in _template_edges(template, created, existing, fallback_parent=None)
        if edge[0] != batchable
    ]
    return _plan(template, created, workers, edges, known)


def _worker_template(template: TaskTemplate, batchable: str, named: Any) -> str:
    """The worker template: from the outcome, the initialization, or the only worker child."""
    definition = template.step_named(batchable)
    name = named or definition.handler.initialization.get("worker_template_name")
    if not name:
        children = [
            step.name
            for step in template.steps
            if step.step_type is StepType.BATCH_WORKER and batchable in step.dependencies
        ]
        if len(children) != 1:
            raise _bad_batch(
                f"Batchable step '{batchable}' missing worker_template_name",
            )
        name = children[0]
    steps = {step.name: step for step in template.steps}
    worker = steps.get(str(name))
    if worker is None:
        raise _bad_batch(
            f"batchable step '{batchable}': Worker template not found: {name}"
            f"{did_you_mean(str(name), list(steps))}"
        )
    if worker.step_type is not StepType.BATCH_WORKER:
        raise _bad_batch(f"batchable step '{batchable}': Template {name} is not a BatchWorker type")
    if worker.batch_config is None:
        raise _bad_batch(f"batchable step '{batchable}': Step {name} missing batch configuration")
    return worker.name


def _cursor(batchable: str, config: JsonObject) -> JsonObject:
    batch_id = config.get("batch_id")
    if isinstance(batch_id, int) and not isinstance(batch_id, bool):
        batch_id = str(batch_id)
    if not isinstance(batch_id, str) or not batch_id:
        raise _bad_batch(
            f"batchable step '{batchable}': every cursor config needs a batch_id, not {config!r}"
        )
    start, end = config.get("start_cursor"), config.get("end_cursor")
    size = config.get("batch_size")
    if size is None:
        both_ints = isinstance(start, int) and isinstance(end, int)
        size = end - start if both_ints else 0  # type: ignore[operator]
    return {"batch_id": batch_id, "start_cursor": start, "end_cursor": end, "batch_size": size}


def _bad_batch(message: str) -> InvalidOutcomeError:
    return InvalidOutcomeError(message, INVALID_BATCH_OUTCOME)


# --- showing what was not created ----------------------------------------------------------------


def branches_not_taken(
    template: TaskTemplate, states: Mapping[str, str]
) -> tuple[list[str], list[tuple[str, str]]]:
    """Template steps a finished decision did not create, and the template edges into them.

    ``states`` maps the task's step names to their states. A step counts when it lies below a
    complete decision step and does not exist; the edges come from existing or not-taken steps,
    so a status graph can draw the branches greyed out (state ``not_taken``).
    """
    dependencies = dependency_map(template)
    decided = [
        step.name
        for step in template.steps
        if step.step_type is StepType.DECISION and states.get(step.name) == "complete"
    ]
    below = descendants(dependencies, decided)
    missing = [
        step.name
        for step in template.steps
        if step.name in below
        and step.name not in states
        and step.step_type is not StepType.BATCH_WORKER
    ]
    shown = set(missing) | set(states)
    edges = [(d, name) for name in missing for d in dependencies[name] if d in shown]
    edges += [
        (name, child) for child in states for name in dependencies.get(child, ()) if name in missing
    ]
    return missing, edges


# --- shared -------------------------------------------------------------------------------------


def _close_forward(template: TaskTemplate, seeds: list[str], known: set[str]) -> list[str]:
    """``seeds`` and the template steps that follow them, in template order.

    A step follows a created regular step (up to and including the next decision, whose own
    branches wait for it); a ``deferred_convergence`` step follows any created dependency; a step
    after a convergence step only once all its dependencies exist. Batch workers never follow:
    their batchable step creates them.
    """
    dependencies = dependency_map(template)
    dependents = dependents_map(dependencies)
    types = {step.name: step.step_type for step in template.steps}
    created: set[str] = set(seeds)
    changed = True
    while changed:
        changed = False
        for parent in [name for name in dependencies if name in created]:
            if types[parent] is StepType.DECISION:
                continue  # a nested decision creates its own branches
            for child in dependents[parent]:
                if child in created or child in known:
                    continue
                kind = types[child]
                if kind is StepType.BATCH_WORKER:
                    continue
                after_convergence = types[parent] is StepType.DEFERRED_CONVERGENCE
                if (
                    kind is not StepType.DEFERRED_CONVERGENCE
                    and after_convergence
                    and not all(d in created or d in known for d in dependencies[child])
                ):
                    continue
                created.add(child)
                changed = True
    return [name for name in dependencies if name in created]


def _template_edges(
    template: TaskTemplate,
    created: list[str],
    existing: Sequence[ExistingStep],
    *,
    fallback_parent: str | None,
) -> list[tuple[str, str]]:
    """Edges into the created template steps from their declared dependencies.

    A dependency that exists (or is created here) gives an edge. A convergence step waits only
    for the dependencies that exist (intersection semantics), and for the batchable step of a
    batch-worker dependency, so its workers can be linked to it before it could start. Another
    step whose dependency was never created waits for ``fallback_parent`` (the decision).
    """
    known = {step.name for step in existing} | set(created)
    steps = {step.name: step for step in template.steps}
    edges: list[tuple[str, str]] = []
    for name in created:
        step = steps[name]
        for dependency in step.dependencies:
            if dependency in known:
                edges.append((dependency, name))
            elif step.step_type is StepType.DEFERRED_CONVERGENCE:
                worker = steps.get(dependency)
                if worker is not None and worker.step_type is StepType.BATCH_WORKER:
                    workers = [s.name for s in existing if s.template_step_name == dependency]
                    edges += [(w, name) for w in workers]
                    edges += [(p, name) for p in worker.dependencies if p in known]
            elif fallback_parent is not None:
                edges.append((fallback_parent, name))
    return list(dict.fromkeys(edges))


def _plan(
    template: TaskTemplate,
    names: list[str],
    extra: Sequence[NewStep],
    edges: list[tuple[str, str]],
    known: set[str],
) -> StepPlan:
    """The steps not yet in the task, and the edges that touch at least one of them."""
    steps = [step for step in extra if step.name not in known]
    steps += [new_step(template.step_named(name)) for name in names if name not in known]
    fresh = {step.name for step in steps}
    return StepPlan(
        steps=tuple(steps),
        edges=tuple(e for e in dict.fromkeys(edges) if e[0] in fresh or e[1] in fresh),
    )


__all__ = [
    "INVALID_BATCH_OUTCOME",
    "INVALID_DECISION_OUTCOME",
    "BatchOutcome",
    "ExistingStep",
    "InvalidOutcomeError",
    "StepPlan",
    "batch_outcome",
    "branches_not_taken",
    "decision_branches",
    "new_step",
    "plan_after",
    "plan_batches",
    "plan_decision",
]
