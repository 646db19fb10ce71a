"""``tasker_core.handler``: where tasker-py also exports ``StepHandler`` from."""

from __future__ import annotations

from tasker_ctl.sdk.step_handler.base import StepHandler

__all__ = ["StepHandler"]
