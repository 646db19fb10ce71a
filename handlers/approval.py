"""Approval routing: a decision step picks the approvers an amount needs (reference §6.2, §12.1).

Below 1,000 the request is approved automatically; from 1,000 a manager approves; from 5,000
finance reviews as well. The class handlers use ``DecisionMixin.decision_success``; the DSL twin
of the decision (``@decision_handler`` returning ``Decision.route``/``Decision.skip``) is
registered as ``approval.routing_decision_dsl`` for templates that name it.
"""

from __future__ import annotations

from typing import Any

from tasker_core import StepContext, StepHandler, StepHandlerResult
from tasker_core.errors import PermanentError
from tasker_core.step_handler import Decision, decision_handler, inputs
from tasker_core.step_handler.mixins import DecisionMixin

MANAGER_THRESHOLD = 1000
FINANCE_THRESHOLD = 5000


def approvers_for(amount: float) -> list[str]:
    """The branch steps an amount needs."""
    if amount < MANAGER_THRESHOLD:
        return ["auto_approve"]
    if amount < FINANCE_THRESHOLD:
        return ["manager_approval"]
    return ["manager_approval", "finance_review"]


class ValidateRequestHandler(StepHandler):
    """Checks that the request names an amount, a requester and a purpose."""

    handler_name = "approval.validate_request"

    def call(self, context: StepContext) -> StepHandlerResult:
        amount = context.get_input("amount")
        requester = context.get_input("requester")
        purpose = context.get_input("purpose")
        if not isinstance(amount, int | float) or amount <= 0:
            raise PermanentError(message=f"amount must be a positive number, not {amount!r}")
        if not requester or not purpose:
            raise PermanentError(message="requester and purpose are required")
        return StepHandlerResult.success(
            {"amount": amount, "requester": requester, "purpose": purpose, "validated": True}
        )


class RoutingDecisionHandler(DecisionMixin, StepHandler):
    """Routes by amount.

    For tests: an ``override_route`` input forces the step names; ``raw_outcome`` is returned as
    the ``decision_point_outcome`` as it is, bypassing the builders' checks.
    """

    handler_name = "approval.routing_decision"

    def call(self, context: StepContext) -> StepHandlerResult:
        request = context.get_dependency_result("validate_request") or {}
        amount = request.get("amount", 0)
        raw = context.get_input("raw_outcome")
        if raw is not None:
            return StepHandlerResult.success({"decision_point_outcome": raw})
        override = context.get_input("override_route")
        if override is not None:
            return self.decision_success(override, routing_context={"amount": amount})
        if context.get_input("skip_approval"):
            return self.skip_branches("approval waived", routing_context={"amount": amount})
        return self.decision_success(approvers_for(amount), routing_context={"amount": amount})


@decision_handler("approval.routing_decision_dsl")
@inputs("amount")
def routing_decision_dsl(amount: float) -> Decision:
    """The DSL twin of :class:`RoutingDecisionHandler`."""
    if amount <= 0:
        return Decision.skip("nothing to approve", amount=amount)
    return Decision.route(approvers_for(amount), amount=amount)


def _approval(context: StepContext, approver: str) -> StepHandlerResult:
    request = context.get_dependency_result("validate_request") or {}
    return StepHandlerResult.success(
        {"approved": True, "approver": approver, "amount": request.get("amount")}
    )


class AutoApproveHandler(StepHandler):
    """Small amounts need nobody."""

    handler_name = "approval.auto_approve"

    def call(self, context: StepContext) -> StepHandlerResult:
        return _approval(context, "system")


class ManagerApprovalHandler(StepHandler):
    """The requester's manager approves."""

    handler_name = "approval.manager_approval"

    def call(self, context: StepContext) -> StepHandlerResult:
        return _approval(context, "manager")


class FinanceReviewHandler(StepHandler):
    """Finance reviews large amounts."""

    handler_name = "approval.finance_review"

    def call(self, context: StepContext) -> StepHandlerResult:
        return _approval(context, "finance")


class FinalizeApprovalHandler(StepHandler):
    """Converges: collects the approvals of whichever branches ran."""

    handler_name = "approval.finalize_approval"

    def call(self, context: StepContext) -> StepHandlerResult:
        approvals: dict[str, Any] = {}
        for branch in ("auto_approve", "manager_approval", "finance_review"):
            result = context.get_dependency_result(branch)
            if result is not None:
                approvals[branch] = result["approver"]
        request = context.get_dependency_result("validate_request") or {}
        return StepHandlerResult.success(
            {
                "approved": bool(approvals) and all(approvals.values()),
                "approved_by": approvals,
                "amount": request.get("amount"),
            }
        )
