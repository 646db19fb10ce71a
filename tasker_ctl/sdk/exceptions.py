"""Infrastructure errors (``tasker_core.exceptions``), distinct from handler errors.

The top-level ``tasker_core.TaskerError`` is this module's class, not ``errors.TaskerError``: the
same name clash exists in tasker-py, so handler code that relies on it behaves the same here.
"""

from __future__ import annotations


class TaskerError(Exception):
    """Base of the worker infrastructure errors."""


class WorkerNotInitializedError(TaskerError):
    """A worker call was made before the worker was bootstrapped."""


class WorkerBootstrapError(TaskerError):
    """The worker could not start."""


class WorkerAlreadyRunningError(TaskerError):
    """The worker was started twice."""


class FFIError(TaskerError):
    """A failure in the native layer."""


class ConversionError(TaskerError):
    """Data could not be converted across the native boundary."""


__all__ = [
    "ConversionError",
    "FFIError",
    "TaskerError",
    "WorkerAlreadyRunningError",
    "WorkerBootstrapError",
    "WorkerNotInitializedError",
]
