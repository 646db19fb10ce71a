"""``StepHandler``: the base class of class-based handlers (``tasker_core.step_handler.base``)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable
from typing import Any

from tasker_ctl.sdk.types import ErrorType, StepContext, StepHandlerResult

StepHandlerCallResult = StepHandlerResult


class StepHandler(ABC):
    """Subclass it, set ``handler_name`` and implement ``call`` (``def`` or ``async def``).

    A new instance serves each execution, so instance state never leaks between steps.
    """

    handler_name: str = ""
    handler_version: str = "1.0.0"

    @abstractmethod
    def call(self, context: StepContext) -> StepHandlerResult | Awaitable[StepHandlerResult] | Any:
        """Run the step and return its result."""

    @property
    def name(self) -> str:
        """The registry name: ``handler_name``, else the class name."""
        return self.handler_name or type(self).__name__

    @property
    def version(self) -> str:
        """``handler_version``; informational."""
        return self.handler_version

    @property
    def capabilities(self) -> list[str]:
        """What the handler can do; mixins add their own entries."""
        return ["process"]

    def config_schema(self) -> dict[str, Any] | None:
        """JSON Schema of ``step_config``; None when the handler declares none."""
        return None

    def success(
        self, result: dict[str, Any] | None = None, metadata: dict[str, Any] | None = None
    ) -> StepHandlerResult:
        """A success result (an empty dict when ``result`` is None)."""
        return StepHandlerResult.success(result or {}, metadata)

    def failure(
        self,
        message: str,
        error_type: str | ErrorType = ErrorType.HANDLER_ERROR,
        retryable: bool = True,
        metadata: dict[str, Any] | None = None,
        error_code: str | None = None,
    ) -> StepHandlerResult:
        """A failure result."""
        return StepHandlerResult.failure(
            message=message,
            error_type=error_type,
            retryable=retryable,
            metadata=metadata,
            error_code=error_code,
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, version={self.version!r})"


__all__ = ["StepHandler", "StepHandlerCallResult"]
