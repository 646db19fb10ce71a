"""Planning the steps decisions and batches create (tasker_ctl.engine.dynamic); environments."""

from __future__ import annotations

from typing import Any

import pytest

from tasker_ctl.engine.dynamic import (
    INVALID_BATCH_OUTCOME,
    INVALID_DECISION_OUTCOME,
    ExistingStep,
    InvalidOutcomeError,
    StepPlan,
    branches_not_taken,
    plan_batches,
    plan_decision,
)
from tasker_ctl.template.models import TaskTemplate


def _template(*steps: dict[str, Any], environments: dict[str, Any] | None = None) -> TaskTemplate:
    return TaskTemplate.model_validate(
        {
            "name": "t",
            "namespace_name": "ns",
            "version": "1.0.0",
            "steps": [{"handler": {"callable": "m.H"}, **step} for step in steps],
            "environments": environments or {},
        }
    )


def _existing(*names: str) -> list[ExistingStep]:
    return [ExistingStep(name, name) for name in names]


APPROVAL = _template(
    {"name": "validate"},
    {"name": "route", "type": "decision", "dependencies": ["validate"]},
    {"name": "auto", "dependencies": ["route"]},
    {"name": "manager", "dependencies": ["route"]},
    {"name": "manager_notes", "dependencies": ["manager"]},
    {"name": "finance", "dependencies": ["route"]},
    {
        "name": "finalize",
        "type": "deferred_convergence",
        "dependencies": ["auto", "manager", "finance"],
    },
    {"name": "archive", "dependencies": ["finalize"]},
)


def _names(plan: StepPlan) -> list[str]:
    return [step.name for step in plan.steps]


def _route(*names: str) -> dict[str, Any]:
    return {"decision_point_outcome": {"type": "create_steps", "step_names": list(names)}}


def test_a_decision_creates_its_branches_what_follows_them_and_the_convergence() -> None:
    plan = plan_decision(
        APPROVAL, "route", _route("manager", "finance"), _existing("validate", "route")
    )

    assert _names(plan) == ["manager", "manager_notes", "finance", "finalize", "archive"]
    assert set(plan.edges) == {
        ("route", "manager"),
        ("manager", "manager_notes"),
        ("route", "finance"),
        ("manager", "finalize"),
        ("finance", "finalize"),
        ("finalize", "archive"),
    }


def test_no_branches_creates_nothing() -> None:
    result = {"decision_point_outcome": {"type": "no_branches"}, "reason": "waived"}

    assert plan_decision(APPROVAL, "route", result, _existing("validate", "route")).empty


def test_planning_again_after_the_branches_exist_adds_nothing() -> None:
    existing = _existing("validate", "route", "auto", "finalize", "archive")

    assert plan_decision(APPROVAL, "route", _route("auto"), existing).empty


@pytest.mark.parametrize(
    ("result", "message"),
    [
        ({"approved": True}, "returned no decision_point_outcome"),
        ("not a dict", "returned no decision_point_outcome"),
        ({"decision_point_outcome": {"type": "create_step"}}, "type 'create_step'"),
        (
            {"decision_point_outcome": {"type": "create_steps", "step_names": "auto"}},
            "step_names must be a list of step names",
        ),
        (_route(), "names no step"),
        (_route("validate"), "Step 'validate' is not a valid descendant of decision point 'route'"),
        (_route("finanse"), "does not have (did you mean 'finance'?)"),
    ],
)
def test_an_invalid_decision_outcome_is_refused_with_a_message_naming_the_problem(
    result: Any, message: str
) -> None:
    with pytest.raises(InvalidOutcomeError) as caught:
        plan_decision(APPROVAL, "route", result, _existing("validate", "route"))

    assert message in caught.value.message
    assert caught.value.error_type == INVALID_DECISION_OUTCOME


def test_a_nested_decision_is_created_but_its_own_branches_wait_for_it() -> None:
    template = _template(
        {"name": "outer", "type": "decision"},
        {"name": "inner", "type": "decision", "dependencies": ["outer"]},
        {"name": "deep", "dependencies": ["inner"]},
    )

    plan = plan_decision(template, "outer", _route("inner"), _existing("outer"))
    assert _names(plan) == ["inner"]
    with pytest.raises(InvalidOutcomeError, match="lies below a nested decision"):
        plan_decision(template, "outer", _route("deep"), _existing("outer"))


def test_branches_not_taken_are_the_missing_steps_below_a_complete_decision() -> None:
    states = {"validate": "complete", "route": "complete", "auto": "complete"}
    states |= {"finalize": "complete", "archive": "complete"}

    names, edges = branches_not_taken(APPROVAL, states)

    assert names == ["manager", "manager_notes", "finance"]
    assert set(edges) == {
        ("route", "manager"),
        ("manager", "manager_notes"),
        ("route", "finance"),
        ("manager", "finalize"),
        ("finance", "finalize"),
    }
    assert branches_not_taken(APPROVAL, {"validate": "complete", "route": "pending"}) == ([], [])


BATCH = _template(
    {"name": "analyze", "type": "batchable"},
    {
        "name": "worker",
        "type": "batch_worker",
        "dependencies": ["analyze"],
        "handler": {"callable": "m.W", "initialization": {"mode": "fast"}},
        "retry": {"max_attempts": 5},
        "batch_config": {
            "batch_size": 2,
            "parallelism": 2,
            "cursor_field": "row",
            "worker_template": "worker",
            "failure_strategy": "isolate",
        },
    },
    {"name": "aggregate", "type": "deferred_convergence", "dependencies": ["worker"]},
    {"name": "report", "dependencies": ["aggregate"]},
)


def _batches(*ids: str, template: str | None = "worker") -> dict[str, Any]:
    configs = [
        {"batch_id": batch_id, "start_cursor": i * 2, "end_cursor": i * 2 + 2, "batch_size": 2}
        for i, batch_id in enumerate(ids)
    ]
    outcome: dict[str, Any] = {"type": "create_batches", "cursor_configs": configs}
    if template:
        outcome["worker_template_name"] = template
    return {"batch_processing_outcome": outcome}


def test_batches_become_named_workers_with_their_inputs_then_the_convergence() -> None:
    plan = plan_batches(BATCH, "analyze", _batches("001", "002"), _existing("analyze"))

    assert _names(plan) == ["worker_001", "worker_002", "aggregate", "report"]
    worker = plan.steps[1]
    assert worker.template_step_name == "worker"
    assert worker.step_type == "batch_worker"
    assert worker.max_attempts == 5
    assert worker.inputs == {
        "cursor": {"batch_id": "002", "start_cursor": 2, "end_cursor": 4, "batch_size": 2},
        "batch_metadata": {"cursor_field": "row", "failure_strategy": "isolate"},
        "is_no_op": False,
    }
    assert worker.handler["initialization"] == {
        "mode": "fast",
        **worker.inputs,
        "__template_step_name": "worker",
    }
    assert set(plan.edges) == {
        ("analyze", "worker_001"),
        ("analyze", "worker_002"),
        ("worker_001", "aggregate"),
        ("worker_002", "aggregate"),
        ("aggregate", "report"),
    }


def test_no_batches_creates_the_000_no_op_worker_found_without_a_template_name() -> None:
    plan = plan_batches(BATCH, "analyze", {"batch_processing_outcome": {"type": "no_batches"}}, [])

    assert _names(plan) == ["worker_000", "aggregate", "report"]
    assert plan.steps[0].inputs is not None
    assert plan.steps[0].inputs["is_no_op"] is True
    assert plan.steps[0].inputs["cursor"] == {
        "batch_id": "000",
        "start_cursor": 0,
        "end_cursor": 0,
        "batch_size": 0,
    }


@pytest.mark.parametrize(
    ("result", "message"),
    [
        ({"rows": 3}, "Step result does not contain batch processing outcome"),
        (_batches("001", template="wroker"), "Worker template not found: wroker"),
        (_batches("001", template="aggregate"), "Template aggregate is not a BatchWorker type"),
        (_batches(), "cursor_configs cannot be empty"),
        (_batches("001", "001"), "batch ids repeat (001)"),
    ],
)
def test_an_invalid_batch_outcome_is_refused(result: Any, message: str) -> None:
    with pytest.raises(InvalidOutcomeError) as caught:
        plan_batches(BATCH, "analyze", result, _existing("analyze"))

    assert message in caught.value.message
    assert caught.value.error_type == INVALID_BATCH_OUTCOME


def test_a_worker_template_without_batch_config_is_refused() -> None:
    template = _template(
        {"name": "analyze", "type": "batchable"},
        {"name": "worker", "type": "batch_worker", "dependencies": ["analyze"]},
    )

    with pytest.raises(InvalidOutcomeError, match="Step worker missing batch configuration"):
        plan_batches(template, "analyze", _batches("001"), [])


def test_environment_overrides_apply_in_order_all_matching_every_step() -> None:
    template = _template(
        {"name": "a", "handler": {"callable": "m.A", "initialization": {"k": 1, "keep": True}}},
        {"name": "b", "timeout_seconds": 60, "retry": {"max_attempts": 9, "backoff_base_ms": 500}},
        environments={
            "test": {
                "steps": [
                    {"name": "ALL", "timeout_seconds": 5, "retry": {"max_attempts": 2}},
                    {"name": "a", "handler": {"initialization": {"k": 2}}, "timeout_seconds": 7},
                ]
            }
        },
    )

    applied = template.with_environment("test")

    a, b = applied.steps
    assert a.handler.initialization == {"k": 2, "keep": True}
    assert (a.timeout_seconds, b.timeout_seconds) == (7, 5)
    assert b.retry.max_attempts == 2
    assert b.retry.backoff_base_ms is None  # the whole block is replaced
    assert template.steps[1].retry.max_attempts == 9  # the original is untouched
    with pytest.raises(KeyError):
        template.with_environment("production")
