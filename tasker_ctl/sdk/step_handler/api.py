"""``ApiHandler``: the older base class for HTTP handlers (prefer ``APIMixin``)."""

from __future__ import annotations

from tasker_ctl.sdk.step_handler.base import StepHandler
from tasker_ctl.sdk.step_handler.mixins.api import APIMixin, ApiResponse


class ApiHandler(APIMixin, StepHandler):
    """A ``StepHandler`` with the HTTP helpers of ``APIMixin``."""

    @property
    def capabilities(self) -> list[str]:
        """``process`` plus the HTTP capabilities."""
        return ["process", "http", "api"]


__all__ = ["ApiHandler", "ApiResponse"]
