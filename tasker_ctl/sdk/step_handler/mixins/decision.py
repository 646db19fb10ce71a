"""``DecisionMixin``: result builders for decision steps (``tasker_core.step_handler.mixins``).

Results carry ``decision_point_outcome`` (``create_steps`` with ``step_names``, or
``no_branches``) in the shape the engine reads (reference §5.7, §6.2), and metadata naming the
handler.
"""

from __future__ import annotations

from typing import Any

from tasker_ctl.sdk.types import DecisionPointOutcome, StepHandlerResult


class DecisionMixin:
    """Use as ``class Route(DecisionMixin, StepHandler)``."""

    handler_name: str
    handler_version: str

    @property
    def decision_capabilities(self) -> list[str]:
        """Capabilities a decision handler adds."""
        return ["decision", "routing"]

    def _decision_metadata(self, metadata: dict[str, Any] | None) -> dict[str, Any]:
        combined = metadata if metadata is not None else {}
        combined["decision_handler"] = self.handler_name or type(self).__name__
        combined["decision_version"] = self.handler_version
        return combined

    def decision_success(
        self,
        steps: list[str],
        routing_context: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> StepHandlerResult:
        """Route to ``steps``."""
        outcome = DecisionPointOutcome.create_steps(steps, routing_context=routing_context)
        return self.decision_success_with_outcome(outcome, metadata=metadata)

    def route_to_steps(
        self,
        step_names: list[str],
        routing_context: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> StepHandlerResult:
        """``decision_success`` under tasker-py's other name (its first parameter named so)."""
        return self.decision_success(step_names, routing_context, metadata)

    def decision_success_with_outcome(
        self, outcome: DecisionPointOutcome, metadata: dict[str, Any] | None = None
    ) -> StepHandlerResult:
        """A success result carrying ``outcome`` (steps, optional dynamic steps and context)."""
        result: dict[str, Any] = {
            "decision_point_outcome": {
                "type": outcome.decision_type.value,
                "step_names": outcome.next_step_names,
            }
        }
        if outcome.dynamic_steps:
            result["dynamic_steps"] = outcome.dynamic_steps
        if outcome.routing_context:
            result["routing_context"] = outcome.routing_context
        return StepHandlerResult.success(result, self._decision_metadata(metadata))

    def decision_no_branches(
        self, outcome: DecisionPointOutcome, metadata: dict[str, Any] | None = None
    ) -> StepHandlerResult:
        """A success result that creates no branch, with the reason."""
        result: dict[str, Any] = {
            "decision_point_outcome": {"type": outcome.decision_type.value},
            "reason": outcome.reason,
        }
        if outcome.routing_context:
            result["routing_context"] = outcome.routing_context
        return StepHandlerResult.success(result, self._decision_metadata(metadata))

    def skip_branches(
        self,
        reason: str,
        routing_context: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> StepHandlerResult:
        """Create no branch, saying why."""
        outcome = DecisionPointOutcome.no_branches(reason, routing_context=routing_context)
        return self.decision_no_branches(outcome, metadata=metadata)

    def decision_failure(
        self,
        message: str,
        error_type: str = "decision_error",
        retryable: bool = False,
        metadata: dict[str, Any] | None = None,
    ) -> StepHandlerResult:
        """The decision could not be made (permanent by default)."""
        return StepHandlerResult.failure(
            message=message,
            error_type=error_type,
            retryable=retryable,
            metadata=self._decision_metadata(metadata),
        )


__all__ = ["DecisionMixin"]
