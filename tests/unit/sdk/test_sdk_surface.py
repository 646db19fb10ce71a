"""With tasker-py installed: tasker-ctl's ``tasker_core`` offers every handler-facing name of it.

For each tasker-py module a handler may import, every public name must exist in the matching
``tasker_ctl.sdk`` module with a compatible signature (same parameters in the same order with the
same defaults; tasker-ctl may add optional parameters at the end), and every public member of a
class must exist on tasker-ctl's class. What is deliberately left out (the worker, its FFI, the
server client, the handler registry and resolvers, domain-event publishing) is listed below, so
that a tasker-py release adding a handler-facing name or module fails this test.

Skipped unless tasker-py is importable; CI runs the suite a second time with it installed.
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.machinery
import inspect
import os
import pkgutil
from types import ModuleType
from typing import Any

import pytest

if importlib.machinery.PathFinder.find_spec("tasker_core") is None:
    pytest.skip("tasker-py is not installed", allow_module_level=True)

os.environ.setdefault("RUST_LOG", "warn")

import tasker_core
from pydantic import BaseModel

# Server-side names: they need a running Tasker worker or orchestration server.
_WORKER = {
    "__version__", "version", "get_version", "get_rust_version", "health_check",
    "bootstrap_worker", "stop_worker", "get_worker_status", "transition_to_graceful_shutdown",
    "is_worker_running", "poll_step_events", "complete_step_event", "get_ffi_dispatch_metrics",
    "check_starvation_warnings", "cleanup_timeouts", "poll_in_process_events",
    "BootstrapConfig", "BootstrapResult", "WorkerStatus", "WorkerState", "StepHandlerCallResult",
    "StepExecutionResult", "StepError", "FfiDispatchMetrics", "StarvationWarning",
    "EventPoller", "EventBridge", "EventNames", "StepExecutionSubscriber", "StepExecutionError",
    "Worker", "get_health_check", "get_metrics", "get_worker_config", "ComponentHealth",
    "HealthCheck", "WorkerMetrics", "WorkerConfig", "TemplatePath", "TemplateParser",
    "HandlerDiscovery",
}  # fmt: skip
_REGISTRY = {
    "HandlerRegistry", "BaseResolver", "ResolverChain", "ResolverNotFoundError",
    "ResolutionError", "HandlerDefinition", "MethodDispatchWrapper", "RegistryResolver",
    "ExplicitMappingResolver", "ClassLookupResolver",
}  # fmt: skip
_DOMAIN_EVENTS = {
    "InProcessDomainEventPoller", "DomainEventMetadata", "ExecutionResult",
    "InProcessDomainEvent", "StepEventContext", "BasePublisher", "BaseSubscriber",
    "EventDeclaration", "StepResult", "PublishContext",
}  # fmt: skip
_CLIENT = {
    "TaskerClient", "ClientTaskResponse", "ClientTaskListResponse", "ClientStepResponse",
    "ClientStepAuditResponse", "ClientHealthResponse", "ClientPaginationInfo",
    "ClientStepReadiness",
}  # fmt: skip
SERVER_SIDE_NAMES = _WORKER | _REGISTRY | _DOMAIN_EVENTS | _CLIENT

# Whole modules left out: the worker, its event plumbing, the client, the registry, examples.
SERVER_SIDE_MODULES = {
    "tasker_core._tasker_core", "tasker_core.bootstrap", "tasker_core.client",
    "tasker_core.domain_events", "tasker_core.event_bridge", "tasker_core.event_poller",
    "tasker_core.examples", "tasker_core.examples.checkpoint_yield",
    "tasker_core.examples.checkpoint_yield.handlers", "tasker_core.observability",
    "tasker_core.registry", "tasker_core.registry.base_resolver",
    "tasker_core.registry.handler_definition", "tasker_core.registry.method_dispatch_wrapper",
    "tasker_core.registry.registry_resolver", "tasker_core.registry.resolver_chain",
    "tasker_core.registry.resolvers", "tasker_core.registry.resolvers.class_lookup",
    "tasker_core.registry.resolvers.explicit_mapping", "tasker_core.step_execution_subscriber",
    "tasker_core.template_discovery", "tasker_core.worker",
}  # fmt: skip

HANDLER_MODULES = sorted(
    {m.name for m in pkgutil.walk_packages(tasker_core.__path__, "tasker_core.")}
    - SERVER_SIDE_MODULES
    | {"tasker_core"}
)


def _ours(module_name: str) -> ModuleType:
    return importlib.import_module("tasker_ctl.sdk" + module_name.removeprefix("tasker_core"))


def _public_names(module: ModuleType) -> list[str]:
    declared = getattr(module, "__all__", None)
    if declared is not None:
        return sorted(declared)
    return sorted(
        name
        for name, value in vars(module).items()
        if not name.startswith("_") and getattr(value, "__module__", None) == module.__name__
    )


def _handler_names(module_name: str) -> list[str]:
    return [
        name
        for name in _public_names(importlib.import_module(module_name))
        if name not in SERVER_SIDE_NAMES
    ]


def test_no_tasker_py_module_is_unaccounted_for() -> None:
    """A new tasker-py module is either compared here or listed as server-side."""
    for name in HANDLER_MODULES:
        assert importlib.util.find_spec("tasker_ctl.sdk" + name.removeprefix("tasker_core")), (
            f"{name} has no tasker-ctl counterpart (implement it or list it as server-side)"
        )


@pytest.mark.parametrize("module_name", HANDLER_MODULES)
def test_every_handler_facing_name_exists(module_name: str) -> None:
    ours = _ours(module_name)
    missing = [name for name in _handler_names(module_name) if not hasattr(ours, name)]
    assert missing == [], f"{module_name}: tasker-ctl lacks {missing}"


def _parameters(callable_: Any) -> list[tuple[str, Any, Any]] | None:
    try:
        signature = inspect.signature(callable_)
    except (TypeError, ValueError):
        return None
    return [(p.name, p.kind, p.default) for p in signature.parameters.values()]


def _compatible(theirs: Any, ours: Any) -> bool:
    """Same parameters, kinds and defaults in the same order; ours may add optional ones."""
    their_params, our_params = _parameters(theirs), _parameters(ours)
    if their_params is None or our_params is None:
        return True
    if our_params[: len(their_params)] != their_params:
        # Defaults such as enums compare by value; a Field() default compares by repr.
        pairs = zip(their_params, our_params[: len(their_params)], strict=False)
        if any(
            t[0] != o[0] or t[1] != o[1] or (t[2] != o[2] and repr(t[2]) != repr(o[2]))
            for t, o in pairs
        ) or len(our_params) < len(their_params):
            return False
    extra = our_params[len(their_params) :]
    return all(default is not inspect.Parameter.empty for _n, _k, default in extra) or any(
        kind is inspect.Parameter.VAR_KEYWORD for _n, kind, _d in their_params
    )


_BASE_MEMBERS = set(dir(BaseModel)) | set(dir(object)) | set(dir(Exception))


def _members(cls: type) -> list[str]:
    return sorted(
        name for name in dir(cls) if not name.startswith("_") and name not in _BASE_MEMBERS
    )


def _signature_target(cls: type) -> Any:
    # A pydantic model's constructor is its fields (compared by name below), not a signature.
    if issubclass(cls, BaseModel):
        return None
    return cls


def _shown(callable_: Any) -> str:
    try:
        return str(inspect.signature(callable_))
    except (TypeError, ValueError):
        return "(?)"


def _compare(module_name: str, name: str) -> list[str]:
    theirs = getattr(importlib.import_module(module_name), name)
    ours = getattr(_ours(module_name), name)
    problems: list[str] = []
    if inspect.isclass(theirs):
        if not inspect.isclass(ours):
            return [f"{name} is a class in tasker-py"]
        target = _signature_target(theirs)
        if target is not None and not _compatible(target, ours):
            problems.append(f"{name}{_shown(ours)} vs tasker-py {name}{_shown(theirs)}")
        if issubclass(theirs, BaseModel):
            their_fields = set(theirs.model_fields)
            our_fields = set(getattr(ours, "model_fields", {}))
            if not their_fields <= our_fields:
                problems.append(f"{name} lacks fields {sorted(their_fields - our_fields)}")
        if dataclasses.is_dataclass(theirs):
            their_fields = {f.name for f in dataclasses.fields(theirs)}
            our_fields = {f.name for f in dataclasses.fields(ours)}
            if not their_fields <= our_fields:
                problems.append(f"{name} lacks fields {sorted(their_fields - our_fields)}")
        for member in _members(theirs):
            if not hasattr(ours, member):
                problems.append(f"{name}.{member} is missing")
                continue
            their_member = inspect.getattr_static(theirs, member)
            our_member = inspect.getattr_static(ours, member)
            if (
                callable(their_member)
                and callable(our_member)
                and not _compatible(getattr(theirs, member), getattr(ours, member))
            ):
                problems.append(
                    f"{name}.{member}{_shown(getattr(ours, member))} vs tasker-py "
                    f"{_shown(getattr(theirs, member))}"
                )
    elif inspect.isfunction(theirs) and not _compatible(theirs, ours):
        problems.append(f"{name}{_shown(ours)} vs tasker-py {name}{_shown(theirs)}")
    return problems


@pytest.mark.parametrize("module_name", HANDLER_MODULES)
def test_signatures_and_class_members_match(module_name: str) -> None:
    problems = [
        problem
        for name in _handler_names(module_name)
        if hasattr(_ours(module_name), name)
        for problem in _compare(module_name, name)
    ]
    assert problems == [], f"{module_name}:\n" + "\n".join(problems)
