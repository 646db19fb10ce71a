"""The functional DSL of tasker-ctl's SDK: injection, return wrapping, exception mapping."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from pydantic import BaseModel

from tasker_ctl.sdk.errors import PermanentError, RetryableError
from tasker_ctl.sdk.step_handler import StepHandler
from tasker_ctl.sdk.step_handler.functional import depends_on, inputs, step_handler
from tasker_ctl.sdk.types import FfiStepEvent, StepContext, StepHandlerResult


def context_with(inputs_: dict[str, Any], deps: dict[str, Any] | None = None) -> StepContext:
    event = FfiStepEvent(
        event_id="e",
        task_uuid=str(uuid.uuid4()),
        step_uuid=str(uuid.uuid4()),
        correlation_id=str(uuid.uuid4()),
        task_sequence_step={
            "task": {"task": {"context": inputs_}},
            "dependency_results": {k: {"result": v} for k, v in (deps or {}).items()},
        },
    )
    return StepContext.from_ffi_event(event, "t")


class Cart(BaseModel):
    total: float


class OrderInput(BaseModel):
    email: str | None
    coupon: str | None


@step_handler("charge", version="2.0.0")
@depends_on(cart=("validate_cart", Cart), raw="validate_cart")
@inputs(OrderInput)
def charge(cart: Cart, raw: dict[str, Any], inputs: OrderInput, context: StepContext) -> Any:
    return {"total": cart.total, "raw": raw, "email": inputs.email, "coupon": inputs.coupon}


def run(fn: Any, context: StepContext) -> StepHandlerResult:
    result = fn._handler_class().call(context)
    return asyncio.run(result) if asyncio.iscoroutine(result) else result


def test_decorator_returns_the_function_with_a_named_handler_class() -> None:
    cls = charge._handler_class

    assert issubclass(cls, StepHandler)
    assert (cls.handler_name, cls.handler_version, cls.__name__) == ("charge", "2.0.0", "charge")
    assert charge(Cart(total=1), {}, OrderInput(email=None, coupon=None), None)["total"] == 1


def test_models_and_raw_dependencies_are_injected() -> None:
    result = run(charge, context_with({"email": "a@b.c"}, {"validate_cart": {"total": 9.5}}))

    assert result.is_success
    assert result.result == {
        "total": 9.5,
        "raw": {"total": 9.5},
        "email": "a@b.c",
        "coupon": None,
    }


def test_underscore_context_and_no_context() -> None:
    @step_handler("a")
    def with_private(_context: StepContext) -> Any:
        return {"has": _context is not None}

    @step_handler("b")
    @inputs("x")
    def without(x: int) -> Any:
        return x

    assert run(with_private, context_with({})).result == {"has": True}
    assert run(without, context_with({"x": 3})).result == {"result": 3}


def test_return_wrapping() -> None:
    @step_handler("none")
    def nothing() -> None:
        return None

    @step_handler("model")
    def model() -> Cart:
        return Cart(total=2.5)

    @step_handler("explicit")
    def explicit() -> StepHandlerResult:
        return StepHandlerResult.failure("no", retryable=False)

    assert run(nothing, context_with({})).result == {}
    assert run(model, context_with({})).result == {"total": 2.5}
    assert run(explicit, context_with({})).retryable is False


def test_exceptions_become_failures() -> None:
    @step_handler("perm")
    def perm() -> None:
        raise PermanentError("bad card", error_code="DECLINED")

    @step_handler("retry")
    def retry() -> None:
        raise RetryableError("later", retry_after=5)

    @step_handler("bug")
    def bug() -> None:
        raise KeyError("k")

    permanent = run(perm, context_with({}))
    retryable = run(retry, context_with({}))
    buggy = run(bug, context_with({}))

    assert (permanent.error_type, permanent.retryable, permanent.error_code) == (
        "permanent_error",
        False,
        None,
    )
    assert permanent.metadata == {"error_code": "DECLINED"}
    assert (retryable.error_type, retryable.retryable, retryable.metadata) == (
        "retryable_error",
        True,
        {"retry_after": 5},
    )
    assert (buggy.error_type, buggy.retryable) == ("handler_error", True)
    assert buggy.metadata["exception_type"] == "KeyError"


def test_wrong_decorator_order_is_a_retryable_handler_error() -> None:
    @inputs("x")
    @step_handler("inner")
    def inner(x: int) -> Any:
        return x

    result = run(inner, context_with({"x": 1}))

    assert (result.is_success, result.error_type, result.retryable) == (
        False,
        "handler_error",
        True,
    )


def test_async_function_gives_a_coroutine_call() -> None:
    @step_handler("later")
    async def later(context: StepContext) -> Any:
        await asyncio.sleep(0)
        return {"ok": True}

    pending = later._handler_class().call(context_with({}))

    assert asyncio.iscoroutine(pending)
    assert asyncio.run(pending).result == {"ok": True}
