"""``DecisionHandler``: the older base class for decision steps (prefer ``DecisionMixin``)."""

from __future__ import annotations

from tasker_ctl.sdk.step_handler.base import StepHandler
from tasker_ctl.sdk.step_handler.mixins.decision import DecisionMixin


class DecisionHandler(DecisionMixin, StepHandler):
    """A ``StepHandler`` with the decision result builders."""

    @property
    def capabilities(self) -> list[str]:
        """``process`` plus the decision capabilities."""
        return [*super().capabilities, *self.decision_capabilities]


__all__ = ["DecisionHandler"]
