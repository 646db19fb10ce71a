"""The seed e-commerce handlers ("Your First Workflow", Tasker docs), exactly as published.

They run unchanged against tasker-py's ``tasker_core`` or tasker-ctl's own implementation of it.
"""

from tasker_core import ErrorType, StepContext, StepHandler, StepHandlerResult


class ValidateCartHandler(StepHandler):
    handler_name = "validate_cart"
    handler_version = "1.0.0"

    TAX_RATE = 0.08
    FREE_SHIPPING_THRESHOLD = 100.00
    STANDARD_SHIPPING = 9.99

    def call(self, context: StepContext) -> StepHandlerResult:
        cart_items = context.get_input("cart_items")
        if not cart_items:
            return StepHandlerResult.failure(
                message="Cart is empty or items field is missing",
                error_type=ErrorType.VALIDATION_ERROR,
                retryable=False,
                error_code="EMPTY_CART",
            )

        validated_items = []
        subtotal = 0.0

        for idx, item in enumerate(cart_items):
            sku = item.get("sku")
            quantity = item.get("quantity", 0)
            unit_price = item.get("unit_price", 0.0)

            if not sku or quantity < 1 or unit_price <= 0:
                return StepHandlerResult.failure(
                    message=f"Invalid item at index {idx}",
                    error_type=ErrorType.VALIDATION_ERROR,
                    retryable=False,
                    error_code="INVALID_ITEM",
                )

            line_total = round(quantity * unit_price, 2)
            subtotal += line_total
            validated_items.append({
                "sku": sku,
                "name": item.get("name", sku),
                "quantity": quantity,
                "unit_price": unit_price,
                "line_total": line_total,
            })

        subtotal = round(subtotal, 2)
        tax = round(subtotal * self.TAX_RATE, 2)
        shipping = 0.0 if subtotal >= self.FREE_SHIPPING_THRESHOLD else self.STANDARD_SHIPPING
        total = round(subtotal + tax + shipping, 2)

        return StepHandlerResult.success(result={
            "validated_items": validated_items,
            "item_count": len(validated_items),
            "subtotal": subtotal,
            "tax": tax,
            "shipping": shipping,
            "total": total,
        })


class ProcessPaymentHandler(StepHandler):
    handler_name = "process_payment"
    handler_version = "1.0.0"

    def call(self, context: StepContext) -> StepHandlerResult:
        payment_token = context.get_input("payment_token") or "tok_test_success"

        # Read the total from the validate_cart step's result
        cart_result = context.get_dependency_result("validate_cart")
        if cart_result is None:
            return StepHandlerResult.failure(
                message="Missing validate_cart dependency result",
                error_type=ErrorType.HANDLER_ERROR,
                retryable=False,
            )

        total = cart_result.get("total", 0.0)

        # Call payment gateway (simulated here)
        if payment_token == "tok_test_declined":
            return StepHandlerResult.failure(
                message="Payment declined",
                error_type=ErrorType.PERMANENT_ERROR,
                retryable=False,
                error_code="PAYMENT_DECLINED",
            )

        if payment_token == "tok_test_gateway_error":
            return StepHandlerResult.failure(
                message="Payment gateway error, will retry",
                error_type=ErrorType.RETRYABLE_ERROR,
                retryable=True,
                error_code="GATEWAY_ERROR",
            )

        return StepHandlerResult.success(result={
            "payment_id": "pay_abc123",
            "transaction_id": "txn_def456",
            "amount_charged": total,
            "status": "completed",
        })


class UpdateInventoryHandler(StepHandler):
    handler_name = "update_inventory"
    handler_version = "1.0.0"

    def call(self, context: StepContext) -> StepHandlerResult:
        cart_result = context.get_dependency_result("validate_cart")
        if cart_result is None:
            return StepHandlerResult.failure(
                message="Missing validate_cart dependency result",
                error_type=ErrorType.HANDLER_ERROR,
                retryable=False,
            )

        validated_items = cart_result.get("validated_items", [])
        reservations = []

        for item in validated_items:
            reservations.append({
                "sku": item["sku"],
                "quantity_reserved": item["quantity"],
                "reservation_id": f"res_{item['sku'].lower()}",
                "warehouse": "WH-EAST-01",
            })

        return StepHandlerResult.success(result={
            "reservations": reservations,
            "total_items_reserved": sum(r["quantity_reserved"] for r in reservations),
            "inventory_log_id": "log_inv_001",
        })


class CreateOrderHandler(StepHandler):
    handler_name = "create_order"
    handler_version = "1.0.0"

    def call(self, context: StepContext) -> StepHandlerResult:
        customer_email = context.get_input("customer_email")

        # Gather results from all upstream steps
        cart_result = context.get_dependency_result("validate_cart")
        payment_result = context.get_dependency_result("process_payment")
        inventory_result = context.get_dependency_result("update_inventory")

        if not all([cart_result, payment_result, inventory_result]):
            return StepHandlerResult.failure(
                message="Missing upstream dependency results",
                error_type=ErrorType.HANDLER_ERROR,
                retryable=False,
            )

        return StepHandlerResult.success(result={
            "order_id": "ORD-20260218-ABC",
            "customer_email": customer_email,
            "items": cart_result["validated_items"],
            "total": cart_result["total"],
            "payment_id": payment_result["payment_id"],
            "transaction_id": payment_result["transaction_id"],
            "inventory_log_id": inventory_result["inventory_log_id"],
            "status": "confirmed",
        })


class SendConfirmationHandler(StepHandler):
    handler_name = "send_confirmation"
    handler_version = "1.0.0"

    def call(self, context: StepContext) -> StepHandlerResult:
        order_result = context.get_dependency_result("create_order")
        if order_result is None:
            return StepHandlerResult.failure(
                message="Missing create_order dependency result",
                error_type=ErrorType.HANDLER_ERROR,
                retryable=False,
            )

        return StepHandlerResult.success(result={
            "email_sent": True,
            "recipient": order_result["customer_email"],
            "subject": f"Order Confirmation - {order_result['order_id']}",
            "status": "sent",
        })
