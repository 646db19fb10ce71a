"""The functional DSL: plain functions become handlers (``tasker_core.step_handler.functional``).

``@step_handler("name")`` (outermost) generates a ``StepHandler`` subclass and attaches it to the
function as ``_handler_class``; the function itself is returned unchanged, so tests can call it
directly. ``@depends_on`` and ``@inputs`` declare what is injected as keyword arguments. Return
values and exceptions are turned into ``StepHandlerResult`` as in reference §5.6.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, cast

from tasker_ctl.sdk.batch_processing.batchable import Batchable
from tasker_ctl.sdk.classify import classify_exception
from tasker_ctl.sdk.step_handler.base import StepHandler
from tasker_ctl.sdk.step_handler.mixins.api import APIMixin
from tasker_ctl.sdk.step_handler.mixins.decision import DecisionMixin
from tasker_ctl.sdk.types import (
    DecisionPointOutcome,
    DecisionType,
    StepContext,
    StepHandlerResult,
)


class FunctionalHandler(Protocol):
    """A decorated function: still callable, plus the generated ``_handler_class``."""

    _handler_class: type[StepHandler]
    __name__: str
    __call__: Callable[..., Any]


HandlerDecorator = Callable[[Callable[..., Any]], FunctionalHandler]

# Turns a function's raw return value into a result; gets the handler instance for mixin helpers.
_Transform = Callable[[StepHandler, Any], StepHandlerResult]
# Adds decorator-specific keyword arguments (batch_context, ...) before the call.
_Prepare = Callable[[StepHandler, StepContext, dict[str, Any]], None]


@dataclass(frozen=True)
class Decision:
    """Return value of a ``@decision_handler`` function: route to branches or skip them."""

    outcome: DecisionPointOutcome

    @staticmethod
    def route(steps: list[str], **routing_context: Any) -> Decision:
        """Create the named branch steps."""
        return Decision(DecisionPointOutcome.create_steps(steps, routing_context=routing_context))

    @staticmethod
    def skip(reason: str, **routing_context: Any) -> Decision:
        """Create no branch."""
        return Decision(DecisionPointOutcome.no_branches(reason, routing_context=routing_context))


@dataclass
class BatchConfig:
    """Return value of a ``@batch_analyzer`` function: how many items, in batches of what size."""

    total_items: int
    batch_size: int
    metadata: dict[str, Any] = field(default_factory=dict)


def wrap_result(value: Any) -> StepHandlerResult:
    """The generic return handling: results pass, dicts and models succeed, others are wrapped."""
    if isinstance(value, StepHandlerResult):
        return value
    if isinstance(value, dict):
        return StepHandlerResult.success(value)
    if hasattr(value, "model_dump"):
        return StepHandlerResult.success(value.model_dump(mode="json"))
    if value is None:
        return StepHandlerResult.success({})
    return StepHandlerResult.success({"result": value})


def wrap_exception(exc: BaseException) -> StepHandlerResult:
    """A failure result for an exception raised by a DSL function."""
    failure = classify_exception(exc)
    return StepHandlerResult.failure(
        message=failure.message,
        error_type=failure.error_type,
        retryable=failure.retryable,
        metadata=failure.metadata,
    )


@dataclass(frozen=True)
class _Injection:
    """What ``@depends_on`` and ``@inputs`` declared, captured when the handler is generated.

    Captured then (as tasker-py does) so a generating decorator that is not outermost fails the
    same way under both implementations.
    """

    dependencies: dict[str, str]
    dependency_models: dict[str, type]
    input_keys: list[str]
    input_model: type | None
    context_parameter: str | None

    @classmethod
    def of(cls, fn: Callable[..., Any]) -> _Injection:
        parameters = inspect.signature(fn).parameters
        context_parameter = next((p for p in ("context", "_context") if p in parameters), None)
        return cls(
            dependencies=dict(getattr(fn, "_depends_on", {})),
            dependency_models=dict(getattr(fn, "_dep_models", {})),
            input_keys=list(getattr(fn, "_inputs", [])),
            input_model=getattr(fn, "_input_model", None),
            context_parameter=context_parameter,
        )

    def kwargs(self, context: StepContext) -> dict[str, Any]:
        """Keyword arguments for one call."""
        kwargs: dict[str, Any] = {}
        for param, step_name in self.dependencies.items():
            raw = context.get_dependency_result(step_name)
            model = self.dependency_models.get(param)
            validate = getattr(model, "model_validate", None)
            kwargs[param] = validate(raw) if validate and isinstance(raw, dict) else raw
        if self.input_model is not None:
            fields = getattr(self.input_model, "model_fields", {})
            kwargs["inputs"] = self.input_model(
                **{name: context.get_input(name) for name in fields}
            )
        else:
            kwargs.update({key: context.get_input(key) for key in self.input_keys})
        if self.context_parameter is not None:
            kwargs[self.context_parameter] = context
        return kwargs


def _generic(_handler: StepHandler, value: Any) -> StepHandlerResult:
    return wrap_result(value)


def _handler_class(
    fn: Callable[..., Any],
    name: str,
    version: str,
    *,
    mixins: tuple[type, ...] = (),
    prepare: _Prepare | None = None,
    transform: _Transform = _generic,
    attributes: dict[str, Any] | None = None,
) -> type[StepHandler]:
    """Generate the handler class; ``call`` is a coroutine function when ``fn`` is one."""

    injection = _Injection.of(fn)

    def arguments(handler: StepHandler, context: StepContext) -> dict[str, Any]:
        kwargs = injection.kwargs(context)
        if prepare is not None:
            prepare(handler, context, kwargs)
        return kwargs

    def call_sync(self: StepHandler, context: StepContext) -> StepHandlerResult:
        try:
            return transform(self, fn(**arguments(self, context)))
        except Exception as exc:
            return wrap_exception(exc)

    async def call_async(self: StepHandler, context: StepContext) -> StepHandlerResult:
        try:
            return transform(self, await fn(**arguments(self, context)))
        except Exception as exc:
            return wrap_exception(exc)

    namespace: dict[str, Any] = {
        "handler_name": name,
        "handler_version": version,
        "call": call_async if inspect.iscoroutinefunction(fn) else call_sync,
        "__doc__": fn.__doc__,
        "__module__": getattr(fn, "__module__", __name__),
        "__qualname__": getattr(fn, "__qualname__", fn.__name__),
        **(attributes or {}),
    }
    return cast(type[StepHandler], type(fn.__name__, (*mixins, StepHandler), namespace))


def _attach(fn: Callable[..., Any], cls: type[StepHandler]) -> FunctionalHandler:
    fn._handler_class = cls  # type: ignore[attr-defined]
    return cast(FunctionalHandler, fn)


def step_handler(name: str, version: str = "1.0.0") -> HandlerDecorator:
    """Make ``fn`` a handler registered as ``name``; apply it outermost."""

    def decorate(fn: Callable[..., Any]) -> FunctionalHandler:
        return _attach(fn, _handler_class(fn, name, version))

    return decorate


def depends_on(
    **deps: str | tuple[str, type],
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Inject ancestors' results: ``param="step"``, or ``param=("step", Model)`` for a model."""

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        steps: dict[str, str] = dict(getattr(fn, "_depends_on", {}))
        models: dict[str, type] = dict(getattr(fn, "_dep_models", {}))
        for param, spec in deps.items():
            if isinstance(spec, tuple):
                steps[param], models[param] = spec
            else:
                steps[param] = spec
        fn._depends_on = steps  # type: ignore[attr-defined]
        fn._dep_models = models  # type: ignore[attr-defined]
        return fn

    return decorate


def inputs(*keys_or_model: str | type) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Inject task inputs by key, or one model built from them as the ``inputs`` argument."""

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        if len(keys_or_model) == 1 and isinstance(keys_or_model[0], type):
            fn._input_model = keys_or_model[0]  # type: ignore[attr-defined]
        else:
            fn._inputs = [*getattr(fn, "_inputs", []), *keys_or_model]  # type: ignore[attr-defined]
        return fn

    return decorate


def _decision_result(handler: StepHandler, value: Any) -> StepHandlerResult:
    if not isinstance(value, Decision):
        return wrap_result(value)
    decider = cast(DecisionMixin, handler)
    outcome = value.outcome
    if outcome.decision_type == DecisionType.CREATE_STEPS:
        return decider.decision_success(
            outcome.next_step_names, routing_context=outcome.routing_context
        )
    return decider.skip_branches(
        reason=outcome.reason or "No branches", routing_context=outcome.routing_context
    )


def decision_handler(name: str, version: str = "1.0.0") -> HandlerDecorator:
    """Make ``fn`` a decision handler returning ``Decision.route(...)``/``Decision.skip(...)``."""

    def decorate(fn: Callable[..., Any]) -> FunctionalHandler:
        cls = _handler_class(fn, name, version, mixins=(DecisionMixin,), transform=_decision_result)
        return _attach(fn, cls)

    return decorate


def batch_analyzer(name: str, worker_template: str, version: str = "1.0.0") -> HandlerDecorator:
    """Make ``fn`` a batch analyzer; a returned ``BatchConfig`` becomes a batch outcome."""

    def analyzer_result(handler: StepHandler, value: Any) -> StepHandlerResult:
        if not isinstance(value, BatchConfig):
            return wrap_result(value)
        batcher = cast(Batchable, handler)
        outcome = batcher.create_batch_outcome(
            total_items=value.total_items,
            batch_size=value.batch_size,
            batch_metadata=value.metadata or {},
        )
        return batcher.batch_analyzer_success(outcome, worker_template_name=worker_template)

    def decorate(fn: Callable[..., Any]) -> FunctionalHandler:
        cls = _handler_class(fn, name, version, mixins=(Batchable,), transform=analyzer_result)
        return _attach(fn, cls)

    return decorate


def _add_batch_context(handler: StepHandler, context: StepContext, kwargs: dict[str, Any]) -> None:
    kwargs["batch_context"] = cast(Batchable, handler).get_batch_context(context)


def batch_worker(name: str, version: str = "1.0.0") -> HandlerDecorator:
    """Make ``fn`` a batch worker; it also receives ``batch_context`` (None without inputs)."""

    def decorate(fn: Callable[..., Any]) -> FunctionalHandler:
        cls = _handler_class(fn, name, version, mixins=(Batchable,), prepare=_add_batch_context)
        return _attach(fn, cls)

    return decorate


def _add_api(handler: StepHandler, _context: StepContext, kwargs: dict[str, Any]) -> None:
    kwargs["api"] = handler


def api_handler(
    name: str,
    base_url: str,
    version: str = "1.0.0",
    timeout: float = 30.0,
    default_headers: dict[str, str] | None = None,
) -> HandlerDecorator:
    """Make ``fn`` an HTTP handler; it also receives ``api``, the handler instance with the
    ``APIMixin`` methods (``get``/``post``/…, ``api_success``, ``api_failure``, …) on
    ``base_url``."""

    def decorate(fn: Callable[..., Any]) -> FunctionalHandler:
        attributes = {
            "base_url": base_url,
            "default_timeout": timeout,
            "default_headers": default_headers or {},
        }
        cls = _handler_class(
            fn, name, version, mixins=(APIMixin,), prepare=_add_api, attributes=attributes
        )
        return _attach(fn, cls)

    return decorate


__all__ = [
    "BatchConfig",
    "Decision",
    "FunctionalHandler",
    "HandlerDecorator",
    "api_handler",
    "batch_analyzer",
    "batch_worker",
    "decision_handler",
    "depends_on",
    "inputs",
    "step_handler",
    "wrap_exception",
    "wrap_result",
]
