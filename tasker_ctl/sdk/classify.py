"""How an exception escaping a handler becomes a failure: its type, retryability and metadata.

One rule for the functional DSL and for the runner, and for both the real tasker-py error classes
and tasker-ctl's own (reference §5.6, with §5.9's recommendation): the ``PermanentError`` family,
or any exception whose ``retryable`` is ``False``, is permanent; everything else is retried.
Families are recognised by class name and module, so the check holds whichever implementation of
``tasker_core.errors`` the handler imported.
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass, field
from typing import Any

_ERROR_MODULES = frozenset({"tasker_core.errors", "tasker_ctl.sdk.errors"})
_FAMILIES = ("PermanentError", "RetryableError", "TaskerError")
TRACEBACK_FRAMES = 8


@dataclass(frozen=True)
class ClassifiedFailure:
    """The failure an exception stands for."""

    message: str
    error_type: str
    retryable: bool
    error_code: str | None
    metadata: dict[str, Any] = field(default_factory=dict)


def error_family(exc: BaseException) -> str | None:
    """``PermanentError``, ``RetryableError`` or ``TaskerError`` if ``exc`` is a handler error."""
    for cls in type(exc).__mro__:
        if cls.__name__ in _FAMILIES and cls.__module__ in _ERROR_MODULES:
            return cls.__name__
    return None


def short_traceback(exc: BaseException) -> str:
    """The innermost frames of ``exc``'s traceback, where handler bugs usually are."""
    return "".join(traceback.format_exception(exc, limit=-TRACEBACK_FRAMES))


def classify_exception(exc: BaseException, *, trace_all: bool = False) -> ClassifiedFailure:
    """Map ``exc`` to a failure; handler errors keep their metadata and ``error_code``.

    Other exceptions get ``exception_type`` and a short ``traceback`` in the metadata, as in
    tasker-py's DSL; ``trace_all`` adds them to handler errors too (the runner wants them).
    """
    family = error_family(exc)
    raw_metadata = getattr(exc, "metadata", None)
    metadata = dict(raw_metadata) if isinstance(raw_metadata, dict) else {}
    error_code = getattr(exc, "error_code", None) or metadata.get("error_code")
    message = getattr(exc, "message", None) if family else None
    text = message if isinstance(message, str) else str(exc)
    if family == "PermanentError":
        error_type, retryable = "permanent_error", False
    elif family == "RetryableError":
        error_type, retryable = "retryable_error", True
    else:
        error_type = "handler_error"
        retryable = getattr(exc, "retryable", True) is not False
    if family is None or trace_all:
        metadata["exception_type"] = type(exc).__name__
        metadata["traceback"] = short_traceback(exc)
    return ClassifiedFailure(
        message=text or type(exc).__name__,
        error_type=error_type,
        retryable=retryable,
        error_code=str(error_code) if error_code is not None else None,
        metadata=metadata,
    )


__all__ = ["ClassifiedFailure", "classify_exception", "error_family", "short_traceback"]
