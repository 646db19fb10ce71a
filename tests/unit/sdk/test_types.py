"""tasker-ctl's own StepContext, StepHandlerResult and error classes (reference §5.2–§5.5)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tasker_ctl.sdk import errors
from tasker_ctl.sdk.types import (
    ErrorType,
    FfiStepEvent,
    StepContext,
    StepHandlerResult,
)


def make_context(**sections: Any) -> StepContext:
    payload = {
        "task": {"task": {"context": sections.get("context", {})}},
        "workflow_step": sections.get("workflow_step", {}),
        "dependency_results": sections.get("dependency_results", {}),
        "step_definition": {"handler": {"initialization": sections.get("initialization", {})}},
    }
    event = FfiStepEvent(
        event_id="e",
        task_uuid=str(uuid.uuid4()),
        step_uuid=str(uuid.uuid4()),
        correlation_id=str(uuid.uuid4()),
        task_sequence_step=payload,
    )
    return StepContext.from_ffi_event(event, "handler")


def test_inputs_and_config() -> None:
    context = make_context(context={"a": 1, "gone": None}, initialization={"limit": 3})

    assert context.get_input("a") == 1
    assert context.get_input("missing") is None
    assert context.get_input_or("gone", "fallback") == "fallback"
    assert context.get_input_or("a", "fallback") == 1
    assert context.get_config("limit") == 3


def test_dependency_results_are_unwrapped() -> None:
    context = make_context(
        dependency_results={
            "wrapped": {"result": {"total": 5, "nested": {"deep": 1}}, "status": "completed"},
            "raw": 7,
            "batch_001": {"result": {"n": 1}},
            "batch_002": {"result": {"n": 2}},
        }
    )

    assert context.get_dependency_result("wrapped") == {"total": 5, "nested": {"deep": 1}}
    assert context.get_dependency_result("raw") == 7
    assert context.get_dependency_result("absent") is None
    assert context.get_dependency_field("wrapped", "nested", "deep") == 1
    assert context.get_dependency_field("wrapped", "total", "deeper") is None
    assert context.get_all_dependency_results("batch_") == [{"n": 1}, {"n": 2}]
    assert context.get_dependency_result_keys() == ["wrapped", "raw", "batch_001", "batch_002"]


def test_retry_counters_default_when_falsy() -> None:
    fresh = make_context(workflow_step={"attempts": None, "max_attempts": 0})
    last = make_context(workflow_step={"attempts": 2, "max_attempts": 3})

    assert (fresh.retry_count, fresh.max_retries, fresh.is_retry()) == (0, 3, False)
    assert (last.is_retry(), last.is_last_retry()) == (True, True)


def test_checkpoint_accessors() -> None:
    none = make_context(workflow_step={"checkpoint": None})
    saved = make_context(
        workflow_step={
            "name": "worker_001",
            "checkpoint": {"cursor": 40, "items_processed": 40, "accumulated_results": {"s": 1}},
        }
    )

    assert (none.checkpoint, none.has_checkpoint(), none.checkpoint_items_processed) == (
        None,
        False,
        0,
    )
    assert saved.has_checkpoint()
    assert (saved.checkpoint_cursor, saved.checkpoint_items_processed) == (40, 40)
    assert saved.accumulated_results == {"s": 1}
    assert saved.task_sequence_step.workflow_step.name == "worker_001"


def test_success_trap_and_flags() -> None:
    ok = StepHandlerResult.success({"x": 1})
    failed = StepHandlerResult.failure("bad", ErrorType.VALIDATION_ERROR, False, error_code="E1")

    assert ok.is_success is True
    assert ok.success is not True  # the classmethod, as in tasker-py
    assert ok.model_dump(by_alias=True)["success"] is True
    assert StepHandlerResult.model_validate({"success": False}).is_failure_result()
    assert failed.error_type == "validation_error"
    assert (failed.retryable, failed.error_code) == (False, "E1")


def test_result_must_be_a_dict() -> None:
    with pytest.raises(ValueError, match="dict"):
        StepHandlerResult(is_success=True, result=[1, 2])  # type: ignore[arg-type]


def test_error_type_helpers() -> None:
    assert ErrorType.is_typically_retryable("timeout")
    assert not ErrorType.is_typically_retryable("validation_error")
    assert ErrorType.is_standard("handler_error")
    assert not ErrorType.is_standard("TICKET_CLOSED")


def test_error_metadata_collects_code_retry_after_and_context() -> None:
    error = errors.RateLimitError(
        "slow down", error_code="RL", retry_after=5, context={"endpoint": "/pay"}
    )

    assert error.retryable is True
    assert error.metadata == {"error_code": "RL", "retry_after": 5, "endpoint": "/pay"}
    assert error.to_dict() == {
        "error_type": "RateLimitError",
        "message": "slow down",
        "retryable": True,
        "metadata": error.metadata,
    }


@pytest.mark.parametrize(
    ("cls", "retryable"),
    [
        (errors.PermanentError, False),
        (errors.ValidationError, False),
        (errors.BusinessLogicError, False),
        (errors.RetryableError, True),
        (errors.TimeoutError, True),
        (errors.FFIError, True),
    ],
)
def test_error_families(cls: type[errors.TaskerError], retryable: bool) -> None:
    assert cls("m").retryable is retryable
    assert cls("m", retryable=not retryable).retryable is (not retryable)


def test_top_level_tasker_error_is_the_infrastructure_one() -> None:
    from tasker_ctl import sdk

    assert not issubclass(sdk.PermanentError, sdk.TaskerError)
    assert sdk.StepTimeoutError is errors.TimeoutError
    assert sdk.StepValidationError is errors.ValidationError
