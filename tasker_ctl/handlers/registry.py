"""Find the handler behind a template's ``handler.callable``.

Handlers are discovered by importing the packages named with ``--handlers`` or
``handler-packages`` (each with all its submodules) and registering every ``StepHandler`` subclass
with a ``handler_name`` and every functional-DSL handler under its name (reference §5.8). A
callable then resolves to a registered name first, then as an import path: ``pkg.mod.Class``,
``pkg.mod.function`` or ``pkg.mod:attr``. The current directory is importable. Only step handlers
and the user's handler code are ever reached (:mod:`tasker_ctl.handlers.policy`): anything else
is refused, before its module is imported. Discovery and resolution take a lock.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import sys
import threading
import traceback
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import ModuleType
from typing import Any

from tasker_ctl.errors import (
    EXIT_HANDLERS_UNLOADABLE,
    NotFoundError,
    TaskerCtlError,
    closest,
    did_you_mean,
)
from tasker_ctl.handlers.invoke import ResolvedHandler, UnresolvedHandler
from tasker_ctl.handlers.outcome import StepOutcome
from tasker_ctl.handlers.payload import HandlerDefinition
from tasker_ctl.handlers.policy import HandlerCodePolicy
from tasker_ctl.sdk.compat import activate_tasker_core
from tasker_ctl.template.callables import RULE, module_of, standard_library_refusal

_BASE_MODULES = frozenset({"tasker_core.step_handler.base", "tasker_ctl.sdk.step_handler.base"})
EXPLICIT_MAPPING = "explicit_mapping"
CLASS_LOOKUP = "class_lookup"
KNOWN_RESOLVERS = (EXPLICIT_MAPPING, CLASS_LOOKUP)


class HandlerImportError(TaskerCtlError):
    """A handler module exists but raised while being imported (``location``: its file:line)."""

    exit_code = EXIT_HANDLERS_UNLOADABLE

    def __init__(self, message: str, *, hint: str | None = None, location: str | None = None):
        super().__init__(message, hint=hint)
        self.location = location


class HandlerRefusedError(TaskerCtlError):
    """A module named as handler code is not handler code (the standard library, builtins)."""

    exit_code = EXIT_HANDLERS_UNLOADABLE


def is_step_handler_class(obj: object) -> bool:
    """Whether ``obj`` subclasses ``StepHandler`` of tasker-py or of tasker-ctl's SDK."""
    if not isinstance(obj, type):
        return False
    return any(
        base.__name__ == "StepHandler" and base.__module__ in _BASE_MODULES
        for base in obj.__mro__[1:]
    )


def _registrable(obj: object) -> type | None:
    """The handler class ``obj`` stands for in discovery: a named class or a DSL function's."""
    cls: object = obj
    if not isinstance(obj, type) and callable(obj):
        cls = getattr(obj, "_handler_class", None)
    if not isinstance(cls, type) or not is_step_handler_class(cls) or _is_abstract(cls):
        return None
    return cls if getattr(cls, "handler_name", "") else None


def _is_abstract(cls: object) -> bool:
    return bool(getattr(cls, "__abstractmethods__", None))


class HandlerRegistry:
    """Handlers by name, filled by ``discover``; resolves ``handler.callable`` strings.

    ``root`` (default: the current directory) is put on ``sys.path`` so project modules import.
    Creating a registry activates ``tasker_core`` (tasker-py's, else tasker-ctl's own).
    """

    def __init__(self, *, root: Path | None = None) -> None:
        self._lock = threading.RLock()
        self._handlers: dict[str, type] = {}
        self._discovered: list[str] = []
        self.root = (root or Path.cwd()).resolve()
        self.policy = HandlerCodePolicy(self.root, self._discovered)
        _ensure_importable(self.root)
        activate_tasker_core()

    @property
    def discovered_modules(self) -> list[str]:
        """Modules (and packages) scanned so far, in order."""
        with self._lock:
            return list(self._discovered)

    def names(self) -> list[str]:
        """Registered handler names, sorted."""
        with self._lock:
            return sorted(self._handlers)

    def register(self, name: str, handler: type) -> None:
        """Register a ``StepHandler`` subclass; a second, different class for a name is refused."""
        if not is_step_handler_class(handler):
            raise TaskerCtlError(
                f"cannot register '{name}': {handler!r} is not a StepHandler subclass",
                hint="subclass tasker_core.StepHandler or decorate a function with @step_handler",
            )
        with self._lock:
            existing = self._handlers.get(name)
            if existing is not None and existing is not handler:
                raise TaskerCtlError(
                    f"handler name '{name}' is defined twice: {_describe(existing)} and "
                    f"{_describe(handler)}",
                    hint="give each handler a unique handler_name",
                )
            self._handlers[name] = handler

    def discover(self, module_name: str) -> list[str]:
        """Import ``module_name`` (a package with all its submodules) and register its handlers.

        Returns the names registered. Raises ``NotFoundError`` when the module does not exist and
        ``HandlerImportError`` naming the module and the exception when it fails to import.
        """
        refusal = standard_library_refusal(module_name)
        if refusal is not None:
            raise HandlerRefusedError(
                f"handler module '{module_name}' refused: {refusal}",
                hint="--handlers and handler-packages name your own handler modules",
            )
        with self._lock:
            found: list[str] = []
            for module in self._import_tree(module_name):
                for obj in list(vars(module).values()):
                    cls = _registrable(obj)
                    if cls is not None:
                        name = str(cls.handler_name)  # type: ignore[attr-defined]
                        self.register(name, cls)
                        found.append(name)
            self._discovered.append(module_name)
            return sorted(set(found))

    def _import_tree(self, module_name: str) -> list[ModuleType]:
        root = _import_handler_module(module_name)
        modules = [root]
        search_path = getattr(root, "__path__", None)
        if search_path is not None:
            for info in sorted(
                pkgutil.walk_packages(search_path, prefix=f"{module_name}.", onerror=_walk_error),
                key=lambda item: item.name,
            ):
                modules.append(_import_handler_module(info.name))
        return modules

    def resolve(self, definition: HandlerDefinition) -> ResolvedHandler | UnresolvedHandler:
        """Resolve a handler definition (reference §5.8, with ``method``/``resolver`` honoured)."""
        callable_name = definition.callable.strip()
        if not callable_name:
            return UnresolvedHandler(
                definition.callable,
                StepOutcome.handler_not_found("", "handler.callable is empty"),
            )
        resolver = definition.resolver
        if resolver is not None and resolver not in KNOWN_RESOLVERS:
            detail = (
                f"unknown resolver '{resolver}'{did_you_mean(resolver, KNOWN_RESOLVERS)} "
                f"(known: {', '.join(KNOWN_RESOLVERS)})"
            )
            return UnresolvedHandler(
                callable_name, StepOutcome.handler_not_found(callable_name, detail)
            )
        with self._lock:
            tried: list[str] = []
            target: Any = None
            registered_name = callable_name
            lookup = _Lookup()
            if resolver in (None, EXPLICIT_MAPPING):
                target = self._handlers.get(callable_name)
                tried.append(self._registry_summary())
            if target is None and resolver in (None, CLASS_LOOKUP):
                module = module_of(callable_name)
                refusal = None if module is None else self.policy.refusal_before_import(module)
                if refusal is not None:
                    return _refused(callable_name, f"{refusal}; {RULE}")
                lookup = _import_path_lookup(callable_name, self.policy)
                if lookup.failure is not None:
                    return lookup.failure
                target = lookup.target
                if lookup.tried:
                    tried.append("modules tried: " + ", ".join(lookup.tried))
                registered_name = ""
            if target is None:
                detail = "; ".join(tried) + self._suggestion(callable_name, lookup)
                outcome = StepOutcome.handler_not_found(callable_name, detail)
                return UnresolvedHandler(callable_name, outcome)
            return _make_resolved(callable_name, target, registered_name, definition, self.policy)

    def _registry_summary(self) -> str:
        names = sorted(self._handlers)
        packages = ", ".join(self._discovered) or "none (use --handlers or handler-packages)"
        shown = ", ".join(names[:10]) + (f", ... ({len(names)} in all)" if len(names) > 10 else "")
        registered = f"registered names: {shown}" if names else "no handlers registered"
        return f"{registered} (packages searched: {packages})"

    def _suggestion(self, callable_name: str, lookup: _Lookup) -> str:
        """`` (did you mean 'x'?)`` among the handlers found: by name, by import path."""
        candidates = set(self._handlers)
        candidates.update(_describe(cls) for cls in self._handlers.values())
        candidates.update(lookup.candidates)
        candidates.discard(callable_name)
        return did_you_mean(callable_name, sorted(candidates))


class ResolvedHandlers:
    """Handler definitions resolved once per callable, method and resolver.

    What a callable resolves to does not depend on its ``initialization`` (only what a class
    handler is created with does), and definitions often differ in nothing else: a 10,000-step
    template with one callable resolves it once, not 10,000 times.
    """

    def __init__(self, registry: HandlerRegistry) -> None:
        self._registry = registry
        self._resolved: dict[tuple[str, Any, Any], ResolvedHandler | UnresolvedHandler] = {}

    def get(self, definition: HandlerDefinition) -> ResolvedHandler | UnresolvedHandler:
        """``definition`` resolved, with its own ``initialization``."""
        key = (definition.callable, definition.method, definition.resolver)
        resolved = self._resolved.get(key)
        if resolved is None:
            resolved = self._resolved[key] = self._registry.resolve(definition)
        initialization = definition.initialization
        if isinstance(resolved, ResolvedHandler) and resolved.initialization != initialization:
            resolved = replace(resolved, initialization=initialization)
        return resolved


def _refused(callable_name: str, reason: str) -> UnresolvedHandler:
    return UnresolvedHandler(callable_name, StepOutcome.handler_refused(callable_name, reason))


def _describe(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _walk_error(name: str) -> None:
    exc = sys.exc_info()[1]
    raise _import_failure(name, exc if exc is not None else ImportError(name))


def _ensure_importable(root: Path) -> None:
    entry = str(root)
    if entry not in sys.path:
        sys.path.insert(0, entry)
    importlib.invalidate_caches()


def _import_handler_module(module_name: str) -> ModuleType:
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name is not None and (
            module_name == exc.name or module_name.startswith(exc.name + ".")
        ):
            raise NotFoundError(
                f"handler module '{module_name}' not found",
                hint="check --handlers / handler-packages; modules are imported from the "
                "current directory and the installed packages",
            ) from exc
        raise _import_failure(module_name, exc) from exc
    except Exception as exc:
        raise _import_failure(module_name, exc) from exc


def _import_failure(module_name: str, exc: BaseException) -> HandlerImportError:
    location = _error_location(exc)
    detail = exc.msg if isinstance(exc, SyntaxError) and exc.msg else str(exc)
    where = f" at {location}" if location else ""
    return HandlerImportError(
        f"handler module '{module_name}' failed to import: {type(exc).__name__}: {detail}{where}",
        hint=f"fix the error in that module (python -c 'import {module_name}' shows the traceback)",
        location=location,
    )


def _error_location(exc: BaseException) -> str | None:
    """``file:line`` where importing a module failed: the syntax error, else the innermost frame
    of the user's code (not importlib's, not tasker-ctl's)."""
    if isinstance(exc, SyntaxError) and exc.filename and exc.lineno:
        return f"{_display_path(exc.filename)}:{exc.lineno}"
    own = Path(__file__).resolve().parents[1]
    frames = [
        frame
        for frame in traceback.extract_tb(exc.__traceback__)
        if not frame.filename.startswith("<")
        and "importlib" not in Path(frame.filename).parts
        and not Path(frame.filename).resolve().is_relative_to(own)
    ]
    if not frames:
        return None
    return f"{_display_path(frames[-1].filename)}:{frames[-1].lineno}"


def _display_path(filename: str) -> str:
    path = Path(filename)
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError):
        return filename


@dataclass
class _Lookup:
    """What an import-path lookup found: the target, the modules tried, near misses."""

    target: Any = None
    tried: list[str] = field(default_factory=list)
    candidates: list[str] = field(default_factory=list)
    failure: UnresolvedHandler | None = None


def _import_path_lookup(callable_name: str, policy: HandlerCodePolicy) -> _Lookup:
    """Import ``pkg.mod:attr`` or the longest importable module prefix of ``pkg.mod.Attr``.

    A module the policy refuses is never imported. ``failure`` is set when a module exists but
    fails to import; ``candidates`` are handlers near the name, for a did-you-mean.
    """
    if ":" in callable_name:
        module_part, _, attr_part = callable_name.partition(":")
        splits = [(module_part, attr_part)]
    else:
        parts = callable_name.split(".")
        splits = [(".".join(parts[:i]), ".".join(parts[i:])) for i in range(len(parts) - 1, 0, -1)]
    lookup = _Lookup()
    for module_name, attr_path in splits:
        if not module_name or not attr_path or policy.refusal_before_import(module_name):
            continue
        lookup.tried.append(module_name)
        try:
            module = _import_handler_module(module_name)
        except NotFoundError:
            continue
        except HandlerImportError as exc:
            outcome = StepOutcome.handler_not_found(callable_name, exc.message)
            lookup.failure = UnresolvedHandler(callable_name, outcome, exc.location)
            return lookup
        target: Any = module
        for attr in attr_path.split("."):
            target = getattr(target, attr, None)
            if target is None:
                break
        if target is not None:
            lookup.target = target
            return lookup
        lookup.tried[-1] = f"{module_name} (no attribute '{attr_path}')"
        lookup.candidates.extend(_near_candidates(module, attr_path))
    return lookup


def _near_candidates(module: ModuleType, attr_path: str) -> Iterable[str]:
    """Handler paths in ``module`` and its submodules' names (unimported): near misses."""
    prefix = module.__name__
    for name, obj in vars(module).items():
        if not name.startswith("_") and _looks_like_handler(obj, prefix):
            yield f"{prefix}.{name}"
    search_path = getattr(module, "__path__", None)
    head, dot, rest = attr_path.partition(".")
    if search_path is not None and dot:
        submodules = [info.name for info in pkgutil.iter_modules(search_path)]
        match = closest(head, submodules)
        if match is not None:
            yield f"{prefix}.{match}.{rest}"


def _looks_like_handler(obj: object, module_name: str) -> bool:
    if _registrable(obj) is not None or is_step_handler_class(obj):
        return True
    defined_here = getattr(obj, "__module__", None) == module_name
    return defined_here and (inspect.isfunction(obj) or isinstance(obj, type))


def _make_resolved(
    callable_name: str,
    target: Any,
    registered_name: str,
    definition: HandlerDefinition,
    policy: HandlerCodePolicy,
) -> ResolvedHandler | UnresolvedHandler:
    if not isinstance(target, type) and getattr(target, "_handler_class", None) is not None:
        target = target._handler_class
    method = definition.method if definition.method not in (None, "", "call") else None
    initialization = dict(definition.initialization or {})
    if isinstance(target, type):
        if not is_step_handler_class(target):
            refusal = _definition_refusal(target, policy)
            if refusal is not None:
                return _refused(callable_name, refusal)
            if not callable(getattr(target, "call", None)):
                detail = (
                    f"{_describe(target)} is not a StepHandler subclass and has no call() method"
                )
                return UnresolvedHandler(
                    callable_name, StepOutcome.handler_not_found(callable_name, detail)
                )
        if method is not None and not callable(getattr(target, method, None)):
            return UnresolvedHandler(
                callable_name, StepOutcome.method_not_found(callable_name, method)
            )
        name = registered_name or getattr(target, "handler_name", "") or target.__name__
        return ResolvedHandler(callable_name, target, name, True, method, initialization)
    if inspect.isfunction(target):
        refusal = _definition_refusal(target, policy)
        if refusal is not None:
            return _refused(callable_name, refusal)
        if method is not None:
            return UnresolvedHandler(
                callable_name, StepOutcome.method_not_found(callable_name, method)
            )
        return ResolvedHandler(callable_name, target, target.__name__, False, None, initialization)
    if inspect.isbuiltin(target) or inspect.ismethod(target) or inspect.ismodule(target):
        kind = "a built-in function" if inspect.isbuiltin(target) else f"a {type(target).__name__}"
        return _refused(callable_name, f"it is {kind}, not a step handler; {RULE}")
    detail = f"it is a {type(target).__name__}, not a handler class or function"
    return UnresolvedHandler(callable_name, StepOutcome.handler_not_found(callable_name, detail))


def _definition_refusal(target: Any, policy: HandlerCodePolicy) -> str | None:
    """Why a plain function or class (not a step handler) may not be called: where it is from."""
    module = sys.modules.get(getattr(target, "__module__", None) or "")
    origin = f"{getattr(target, '__module__', '?')}.{getattr(target, '__qualname__', '?')}"
    refusal = (
        f"'{getattr(target, '__module__', '?')}' is not a module"
        if module is None
        else policy.module_refusal(module)
    )
    return None if refusal is None else f"it is {origin}: {refusal}; {RULE}"


__all__ = [
    "CLASS_LOOKUP",
    "EXPLICIT_MAPPING",
    "HandlerImportError",
    "HandlerRefusedError",
    "HandlerRegistry",
    "ResolvedHandlers",
    "is_step_handler_class",
]
