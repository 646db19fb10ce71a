"""The seed order-processing handlers ("Your First Workflow", Tasker docs), exactly as published.

The template names them by bare class name, so run with ``--handlers handlers.orders``.
"""

from tasker_core import StepHandler, StepContext, StepHandlerResult
from tasker_core.errors import PermanentError

class ValidateOrderHandler(StepHandler):
    handler_name = "ValidateOrderHandler"

    def call(self, context: StepContext) -> StepHandlerResult:
        order_id = context.get_input("order_id")
        items = context.get_input("items")
        
        if not order_id or not items:
            raise PermanentError(message="Missing order_id or items", error_code="MISSING_INPUT")
        
        total = sum(item["price"] * item["quantity"] for item in items)
        return StepHandlerResult.success({"valid": True, "total": total, "item_count": len(items)})


class ReserveInventoryHandler(StepHandler):
    handler_name = "ReserveInventoryHandler"

    def call(self, context: StepContext) -> StepHandlerResult:
        validation = context.get_dependency_result("validate_order")
        items = context.get_input("items")
        
        # Reserve inventory logic...
        return StepHandlerResult.success({"reserved": True, "reservation_id": "RES-12345"})


class NotifyCustomerHandler(StepHandler):
    handler_name = "NotifyCustomerHandler"

    def call(self, context: StepContext) -> StepHandlerResult:
        email = context.get_input("customer_email")
        validation = context.get_dependency_result("validate_order")
        
        # Send email logic...
        return StepHandlerResult.success({"notified": True, "email": email})


class ChargePaymentHandler(StepHandler):
    handler_name = "ChargePaymentHandler"

    def call(self, context: StepContext) -> StepHandlerResult:
        validation = context.get_dependency_result("validate_order")
        reservation = context.get_dependency_result("reserve_inventory")
        
        total = validation["total"]
        # Charge payment logic...
        return StepHandlerResult.success({"charged": True, "amount": total, "transaction_id": "TXN-67890"})
