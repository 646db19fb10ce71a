"""Structured log functions for handlers (``tasker_core.logging``): ``log_info(msg, fields)``.

tasker-py sends these to the worker's Rust tracing; here they go to Python's ``logging`` under
the ``tasker_core`` logger, the fields appended as ``key=value``, so handler logs appear where a
project's logging configuration sends them (warnings and errors reach stderr by default).
``log_trace`` uses level 5, below ``DEBUG``.
"""

from __future__ import annotations

import logging
from typing import Any

from tasker_ctl.sdk.types import LogContext

TRACE = 5
_logger = logging.getLogger("tasker_core")


def _fields(fields: dict[str, Any] | LogContext | None) -> dict[str, str]:
    """The fields as strings (``None`` entries of a ``LogContext`` left out), as tasker-py."""
    if fields is None:
        return {}
    if isinstance(fields, LogContext):
        return {k: str(v) for k, v in fields.model_dump().items() if v is not None}
    return {k: str(v) for k, v in fields.items()}


def _log(level: int, message: str, fields: dict[str, Any] | LogContext | None) -> None:
    if not _logger.isEnabledFor(level):
        return
    pairs = _fields(fields)
    suffix = "".join(f" {key}={value}" for key, value in pairs.items())
    _logger.log(level, "%s%s", message, suffix, extra={"tasker_fields": pairs})


def log_error(message: str, fields: dict[str, Any] | LogContext | None = None) -> None:
    """An unrecoverable failure."""
    _log(logging.ERROR, message, fields)


def log_warn(message: str, fields: dict[str, Any] | LogContext | None = None) -> None:
    """Degraded operation or a retryable failure."""
    _log(logging.WARNING, message, fields)


def log_info(message: str, fields: dict[str, Any] | LogContext | None = None) -> None:
    """A lifecycle event."""
    _log(logging.INFO, message, fields)


def log_debug(message: str, fields: dict[str, Any] | LogContext | None = None) -> None:
    """Diagnostic detail."""
    _log(logging.DEBUG, message, fields)


def log_trace(message: str, fields: dict[str, Any] | LogContext | None = None) -> None:
    """Very verbose detail (function entry and exit)."""
    _log(TRACE, message, fields)


__all__ = ["log_debug", "log_error", "log_info", "log_trace", "log_warn"]
