"""The task templates ``task create`` can use here: ``task templates`` without a server profile.

Each template of the search path is loaded and validated, and every handler its steps name is
resolved with the machinery ``task run`` uses before it runs anything (handler packages are
imported, so this imports handler code: that is what "its handlers resolve here" means).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tasker_ctl.errors import NotFoundError, TaskerCtlError, did_you_mean
from tasker_ctl.handlers.payload import HandlerDefinition
from tasker_ctl.handlers.preflight import (
    HandlerProblem,
    HandlerUse,
    discover_modules,
    unresolved_handlers,
)
from tasker_ctl.handlers.registry import HandlerRegistry
from tasker_ctl.store.records import JsonObject
from tasker_ctl.template.lookup import TemplateLocation, scan_templates, version_key
from tasker_ctl.template.models import StepDefinition


@dataclass(frozen=True)
class StepHandlerCheck:
    """One step of a template and whether its handler resolves."""

    name: str
    step_type: str
    callable: str
    max_attempts: int
    retryable: bool
    problem: str | None

    def to_json(self) -> JsonObject:
        """One step of ``task templates show --format json``."""
        return {
            "name": self.name,
            "type": self.step_type,
            "callable": self.callable,
            "max_attempts": self.max_attempts,
            "retryable": self.retryable,
            "handler_resolves": self.problem is None,
            "problem": self.problem,
        }


@dataclass(frozen=True)
class LocalTemplate:
    """A template of the search path, and whether ``task run`` could run it here."""

    namespace: str
    name: str
    version: str
    path: Path
    description: str | None
    steps: tuple[StepHandlerCheck, ...]
    invalid: str | None
    """Why the file is not a valid template (then ``steps`` is empty), else None."""
    module_problems: tuple[str, ...] = ()

    @property
    def step_count(self) -> int | None:
        """How many steps the template defines (None when it is not valid)."""
        return None if self.invalid else len(self.steps)

    @property
    def runnable(self) -> bool:
        """Valid, the handler packages import, and every step's handler resolves."""
        return self.invalid is None and not self.problems

    @property
    def problems(self) -> tuple[str, ...]:
        """Why its handlers do not resolve, one line each (the first explains the most)."""
        if self.invalid is not None:
            return (f"invalid template: {self.invalid}",)
        unresolved = tuple(f"{s.callable}: {s.problem}" for s in self.steps if s.problem)
        return self.module_problems + unresolved

    def to_json(self) -> JsonObject:
        """One template of ``task templates --format json``."""
        return {
            "namespace": self.namespace,
            "name": self.name,
            "version": self.version,
            "description": self.description,
            "step_count": self.step_count,
            "path": str(self.path),
            "handlers_resolve": self.runnable,
            "problems": list(self.problems),
        }


def list_local_templates(
    search_path: Sequence[Path], handler_modules: Sequence[str], namespace: str | None = None
) -> list[LocalTemplate]:
    """Every template of the search path (by namespace, name, then version), each checked."""
    locations = [
        location
        for location in scan_templates(search_path)
        if namespace is None or location.namespace == namespace
    ]
    locations.sort(key=lambda t: (t.namespace, t.name, version_key(t.version)))
    registry = HandlerRegistry()
    module_problems = tuple(
        problem.describe() for problem in discover_modules(registry, handler_modules)
    )
    return [_checked(location, registry, module_problems) for location in _unshadowed(locations)]


def _unshadowed(locations: list[TemplateLocation]) -> list[TemplateLocation]:
    """The template ``task create`` would pick for each identity (the earliest directory's)."""
    seen: set[tuple[str, str, str]] = set()
    chosen = []
    for location in locations:
        key = (location.namespace, location.name, location.version)
        if key not in seen:
            seen.add(key)
            chosen.append(location)
    return chosen


def local_template(
    search_path: Sequence[Path],
    handler_modules: Sequence[str],
    namespace: str,
    name: str,
    version: str,
) -> LocalTemplate:
    """One template of the search path, its steps and whether each handler resolves."""
    for template in list_local_templates(search_path, handler_modules, namespace):
        if (template.name, template.version) == (name, version):
            return template
    known = [f"{t.namespace}/{t.name} v{t.version}" for t in list_local_templates(search_path, [])]
    raise NotFoundError(
        f"no template {namespace}/{name} v{version} in "
        + (", ".join(map(str, search_path)) or "the template search path")
        + did_you_mean(f"{namespace}/{name} v{version}", known),
        hint="list them with `tasker-ctl task templates`",
    )


def _checked(
    location: TemplateLocation, registry: HandlerRegistry, module_problems: tuple[str, ...]
) -> LocalTemplate:
    from tasker_ctl.template.validation import load_template

    try:
        template = load_template(location.path)
    except TaskerCtlError as exc:
        message = exc.message.split(": ", 1)[-1] if ": " in exc.message else exc.message
        return LocalTemplate(
            location.namespace,
            location.name,
            location.version,
            location.path,
            None,
            (),
            message,
        )
    steps = tuple(_step_check(step, registry) for step in template.steps)
    return LocalTemplate(
        location.namespace,
        location.name,
        location.version,
        location.path,
        template.description,
        steps,
        None,
        module_problems,
    )


def _step_check(step: StepDefinition, registry: HandlerRegistry) -> StepHandlerCheck:
    handler = step.handler
    definition = HandlerDefinition(
        callable=handler.callable,
        method=handler.method,
        resolver=handler.resolver,
        initialization=handler.initialization,
    )
    problems: list[HandlerProblem] = unresolved_handlers(
        registry, [HandlerUse(definition, (step.name,))]
    )
    return StepHandlerCheck(
        name=step.name,
        step_type=str(step.step_type),
        callable=handler.callable,
        max_attempts=step.retry.max_attempts,
        retryable=step.retry.retryable,
        problem=problems[0].message if problems else None,
    )
