"""Handler mixins (``tasker_core.step_handler.mixins``): combine with ``StepHandler``."""

from __future__ import annotations

from tasker_ctl.sdk.step_handler.mixins.api import APIMixin, ApiResponse
from tasker_ctl.sdk.step_handler.mixins.decision import DecisionMixin

__all__ = ["APIMixin", "ApiResponse", "DecisionMixin"]
