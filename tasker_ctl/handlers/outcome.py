"""The result of one handler execution as the engine sees it, whichever SDK ran the handler.

``StepOutcome`` is plain data: success with a JSON-serialisable ``result``, or failure with an
error type, an optional error code and whether a retry may help. A checkpoint yield (reference
§6.4) is a success whose metadata has ``checkpoint_yield: true``; ``checkpoint`` reads it. The
constructors below cover the failures the runner itself produces, so their error types are
spelled in one place.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

HANDLER_NOT_FOUND = "handler_not_found"
HANDLER_REFUSED = "handler_refused"
METHOD_NOT_FOUND = "method_not_found"
RESULT_NOT_SERIALIZABLE = "result_not_serializable"
INVALID_PAYLOAD = "invalid_payload"
HANDLER_ERROR = "handler_error"
TIMEOUT = "timeout"


@dataclass(frozen=True)
class Checkpoint:
    """Progress a handler saved before asking to be called again (reference §6.4)."""

    cursor: Any
    items_processed: int
    accumulated_results: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        """The ``workflow_step.checkpoint`` value for the next call (without history)."""
        data: dict[str, Any] = {"cursor": self.cursor, "items_processed": self.items_processed}
        if self.accumulated_results is not None:
            data["accumulated_results"] = self.accumulated_results
        return data


@dataclass(frozen=True)
class StepOutcome:
    """What one execution of a step produced."""

    success: bool
    result: dict[str, Any] | None = None
    error_message: str | None = None
    error_type: str | None = None
    error_code: str | None = None
    retryable: bool = False
    metadata: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def succeeded(
        cls, result: dict[str, Any], metadata: dict[str, Any] | None = None
    ) -> StepOutcome:
        """A success carrying ``result``."""
        return cls(success=True, result=result, metadata=metadata or {})

    @classmethod
    def failed(
        cls,
        message: str,
        error_type: str = HANDLER_ERROR,
        *,
        retryable: bool,
        error_code: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> StepOutcome:
        """A failure; ``retryable`` is always explicit."""
        return cls(
            success=False,
            error_message=message,
            error_type=error_type,
            error_code=error_code,
            retryable=retryable,
            metadata=metadata or {},
        )

    @classmethod
    def handler_not_found(cls, callable_name: str, detail: str) -> StepOutcome:
        """No handler matches ``callable_name``; ``detail`` says what was tried."""
        return cls.failed(
            f"handler '{callable_name}' not found: {detail}", HANDLER_NOT_FOUND, retryable=False
        )

    @classmethod
    def handler_refused(cls, callable_name: str, reason: str) -> StepOutcome:
        """``callable_name`` names code that is not a step handler; it is never called."""
        return cls.failed(
            f"handler '{callable_name}' refused: {reason}", HANDLER_REFUSED, retryable=False
        )

    @classmethod
    def method_not_found(cls, callable_name: str, method: str) -> StepOutcome:
        """The template's ``handler.method`` does not exist on the handler."""
        return cls.failed(
            f"handler '{callable_name}' has no method '{method}' (handler.method)",
            METHOD_NOT_FOUND,
            retryable=False,
        )

    @classmethod
    def result_not_serializable(cls, detail: str) -> StepOutcome:
        """The handler succeeded but its result cannot be stored as JSON; retrying won't help."""
        return cls.failed(
            f"handler result is not JSON-serialisable: {detail}",
            RESULT_NOT_SERIALIZABLE,
            retryable=False,
        )

    @classmethod
    def timed_out(cls, seconds: float) -> StepOutcome:
        """The step overran its ``timeout_seconds``; retried like any transient failure."""
        return cls.failed(f"step timed out after {seconds:g}s", TIMEOUT, retryable=True)

    @property
    def is_checkpoint_yield(self) -> bool:
        """Whether the handler saved progress and asks to be called again."""
        return self.success and self.metadata.get("checkpoint_yield") is True

    @property
    def checkpoint(self) -> Checkpoint | None:
        """The saved progress of a checkpoint yield; None for any other outcome."""
        if not self.is_checkpoint_yield:
            return None
        result = self.result or {}
        accumulated = result.get("accumulated_results")
        return Checkpoint(
            cursor=result.get("cursor"),
            items_processed=int(result.get("items_processed") or 0),
            accumulated_results=accumulated if isinstance(accumulated, dict) else None,
        )


def unserializable_part(value: Any, path: str = "result") -> str | None:
    """Where ``value`` stops being JSON (e.g. ``result['at']: datetime``); None if it is JSON."""
    if value is None or isinstance(value, str | bool | int):
        return None
    if isinstance(value, float):
        return None if math.isfinite(value) else f"{path}: {value!r} is not valid JSON"
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str | int | float | bool) and key is not None:
                return f"{path}: key {key!r} of type {type(key).__name__}"
            found = unserializable_part(item, f"{path}[{key!r}]")
            if found:
                return found
        return None
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            found = unserializable_part(item, f"{path}[{index}]")
            if found:
                return found
        return None
    return f"{path}: {type(value).__name__}"


def json_safe_metadata(metadata: dict[str, Any]) -> dict[str, Any]:
    """Metadata as plain JSON; values that are not JSON become their ``repr``."""
    try:
        text = json.dumps(metadata, default=repr, allow_nan=False)
    except ValueError:  # NaN or infinity somewhere
        return {"metadata_repr": repr(metadata)}
    safe: dict[str, Any] = json.loads(text)
    return safe


__all__ = [
    "HANDLER_ERROR",
    "HANDLER_NOT_FOUND",
    "INVALID_PAYLOAD",
    "METHOD_NOT_FOUND",
    "RESULT_NOT_SERIALIZABLE",
    "TIMEOUT",
    "Checkpoint",
    "StepOutcome",
    "json_safe_metadata",
    "unserializable_part",
]
