"""Turn what a handler did (its return value or its exception) into a ``StepOutcome``.

Return values are wrapped as Tasker's generic return wrapping does (reference §5.6); exceptions
are classified as the SDK classifies them, and ``PermanentError`` is never retried (§5.9).
"""

from __future__ import annotations

from typing import Any

from tasker_ctl.handlers.frames import traceback_metadata
from tasker_ctl.handlers.outcome import (
    HANDLER_ERROR,
    StepOutcome,
    json_safe_metadata,
    unserializable_part,
)
from tasker_ctl.sdk.classify import ClassifiedFailure, classify_exception


def _looks_like_handler_result(value: object) -> bool:
    return type(value).__name__ == "StepHandlerResult" and hasattr(value, "is_success")


def _from_handler_result(value: Any) -> StepOutcome:
    metadata = json_safe_metadata(dict(value.metadata or {}))
    if value.is_success:
        return _success(value.result if value.result is not None else {}, metadata)
    error_code = value.error_code or metadata.get("error_code")
    error_type = value.error_type
    return StepOutcome.failed(
        value.error_message or "the handler reported a failure without a message",
        str(getattr(error_type, "value", error_type) or HANDLER_ERROR),
        retryable=bool(value.retryable),
        error_code=str(error_code) if error_code is not None else None,
        metadata=metadata,
    )


def _success(result: Any, metadata: dict[str, Any] | None = None) -> StepOutcome:
    if not isinstance(result, dict):
        return StepOutcome.result_not_serializable(
            f"result must be a JSON object, not {type(result).__name__}"
        )
    problem = unserializable_part(result)
    if problem is not None:
        return StepOutcome.result_not_serializable(problem)
    return StepOutcome.succeeded(result, metadata)


def outcome_from_return(value: Any) -> StepOutcome:
    """Normalise a handler's return value (reference §5.6, generic return wrapping)."""
    if _looks_like_handler_result(value):
        return _from_handler_result(value)
    if isinstance(value, dict):
        return _success(value)
    if value is None:
        return _success({})
    if hasattr(value, "model_dump"):
        return _success(value.model_dump(mode="json"))
    return _success({"result": value})


def outcome_from_exception(exc: BaseException) -> StepOutcome:
    """Classify an exception escaping a handler; ``PermanentError`` is never retried (§5.9).

    The metadata carries the exception's type, its frames as data and the traceback text.
    """
    failure = classify_exception(exc, trace_all=True)
    return StepOutcome.failed(
        failure.message,
        failure.error_type,
        retryable=failure.retryable,
        error_code=failure.error_code,
        metadata=failure_metadata(exc, classified=failure),
    )


def failure_metadata(
    exc: BaseException, *, classified: ClassifiedFailure | None = None
) -> dict[str, Any]:
    """JSON-safe metadata of a failure raised as ``exc``: its classification's (exception type,
    traceback text) and its frames as data; ``classified`` is ``exc`` already classified."""
    failure = classify_exception(exc, trace_all=True) if classified is None else classified
    return json_safe_metadata({**failure.metadata, **traceback_metadata(exc)})
