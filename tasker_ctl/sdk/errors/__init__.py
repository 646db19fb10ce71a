"""Errors a handler raises to say whether a failure is worth retrying (``tasker_core.errors``).

The ``PermanentError`` family is never retried; the ``RetryableError`` family is. ``error_code``
and ``retry_after`` are copied into ``metadata`` and ``context`` is merged into it, as tasker-py
does, so the runner finds them in one place.
"""

from __future__ import annotations

from typing import Any


class TaskerError(Exception):
    """Base of every handler error; ``retryable`` defaults per class and can be overridden."""

    retryable: bool = True

    def __init__(
        self,
        message: str,
        *,
        retryable: bool | None = None,
        metadata: dict[str, Any] | None = None,
        error_code: str | None = None,
        retry_after: float | None = None,
        context: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if retryable is not None:
            self.retryable = retryable
        self.metadata: dict[str, Any] = metadata if metadata is not None else {}
        self.error_code = error_code
        self.retry_after = retry_after
        if error_code is not None:
            self.metadata["error_code"] = error_code
        if retry_after is not None:
            self.metadata["retry_after"] = retry_after
        if context is not None:
            self.metadata.update(context)

    def to_dict(self) -> dict[str, Any]:
        """The error as plain data: class name, message, retryability, metadata."""
        return {
            "error_type": type(self).__name__,
            "message": self.message,
            "retryable": self.retryable,
            "metadata": self.metadata,
        }


class RetryableError(TaskerError):
    """A transient failure: retry with backoff."""

    retryable = True


class PermanentError(TaskerError):
    """A failure no retry can fix: fail the step at once."""

    retryable = False


class TimeoutError(RetryableError):
    """An operation took too long (top-level alias ``StepTimeoutError``)."""


class NetworkError(RetryableError):
    """A network call failed."""


class RateLimitError(RetryableError):
    """A service asked us to slow down."""


class ServiceUnavailableError(RetryableError):
    """A dependency is temporarily down."""


class ResourceContentionError(RetryableError):
    """A lock or resource is held by someone else."""


class ValidationError(PermanentError):
    """Input is invalid (top-level alias ``StepValidationError``)."""


class NotFoundError(PermanentError):
    """A required record does not exist."""


class AuthenticationError(PermanentError):
    """Credentials were rejected."""


class AuthorizationError(PermanentError):
    """The caller may not do this."""


class ConfigurationError(PermanentError):
    """The step or environment is misconfigured."""


class BusinessLogicError(PermanentError):
    """A business rule forbids the operation."""


class FFIError(TaskerError):
    """A failure crossing the native boundary; retryable unless stated otherwise."""

    retryable = True


__all__ = [
    "AuthenticationError",
    "AuthorizationError",
    "BusinessLogicError",
    "ConfigurationError",
    "FFIError",
    "NetworkError",
    "NotFoundError",
    "PermanentError",
    "RateLimitError",
    "ResourceContentionError",
    "RetryableError",
    "ServiceUnavailableError",
    "TaskerError",
    "TimeoutError",
    "ValidationError",
]
