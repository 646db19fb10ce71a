"""Before a run: load every handler module and resolve every callable a task can reach.

A run that would only discover a missing or refused handler when it reaches that step leaves
the task half-run, with a step failed for good; fixing the code then needs a ``task retry``.
Checking first stops the run before any step changes state, lists every problem at once, and
leaves the task as it was, so that after the fix a plain ``task run`` just works.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from tasker_ctl.errors import EXIT_HANDLERS_UNLOADABLE, NotFoundError, TaskerCtlError
from tasker_ctl.handlers.invoke import UnresolvedHandler
from tasker_ctl.handlers.payload import HandlerDefinition
from tasker_ctl.handlers.registry import HandlerImportError, HandlerRefusedError, HandlerRegistry


@dataclass(frozen=True)
class HandlerUse:
    """One handler block of the task and the steps (or template steps) that use it."""

    definition: HandlerDefinition
    steps: tuple[str, ...]


_STEPS_SHOWN = 5  # a 10,000-step task's problem stays one readable line


@dataclass(frozen=True)
class HandlerProblem:
    """A handler module that failed to load, or a callable that did not resolve."""

    subject: str  # "module 'x'" or the callable
    steps: tuple[str, ...]
    message: str
    location: str | None = None

    def describe(self) -> str:
        """``subject (steps a, b): message`` in one line."""
        used_by = ""
        if self.steps:
            label = "step" if len(self.steps) == 1 else "steps"
            shown = ", ".join(self.steps[:_STEPS_SHOWN])
            more = len(self.steps) - _STEPS_SHOWN
            if more > 0:
                shown += f" and {more:,} more"
            used_by = f" ({label} {shown})"
        return f"{self.subject}{used_by}: {self.message}"


class HandlersUnloadableError(TaskerCtlError):
    """Some of a task's handlers cannot be loaded; nothing was run (exit 78)."""

    exit_code = EXIT_HANDLERS_UNLOADABLE

    def __init__(self, task_uuid: str, problems: Sequence[HandlerProblem]) -> None:
        count = len(problems)
        noun = "handler problem" if count == 1 else "handler problems"
        lines = [
            f"task {task_uuid} cannot run: {count} {noun}; nothing was run and the task is "
            "unchanged"
        ]
        lines.extend(f"  ✗ {problem.describe()}" for problem in problems)
        super().__init__(
            "\n".join(lines),
            hint=f"fix them, then run `tasker-ctl task run {task_uuid}` again",
        )
        self.task_uuid = task_uuid
        self.problems = tuple(problems)


def discover_modules(registry: HandlerRegistry, modules: Iterable[str]) -> list[HandlerProblem]:
    """Import each module named as handler code; a failure is a problem, not an exception."""
    problems: list[HandlerProblem] = []
    for module in modules:
        try:
            registry.discover(module)
        except HandlerImportError as exc:
            problems.append(HandlerProblem(f"module '{module}'", (), exc.message, exc.location))
        except (HandlerRefusedError, NotFoundError) as exc:
            problems.append(HandlerProblem(f"module '{module}'", (), exc.message))
    return problems


def unresolved_handlers(
    registry: HandlerRegistry, uses: Iterable[HandlerUse]
) -> list[HandlerProblem]:
    """Every handler use that does not resolve (not found, refused, method missing)."""
    problems: list[HandlerProblem] = []
    for use in uses:
        handler = registry.resolve(use.definition)
        if isinstance(handler, UnresolvedHandler):
            problems.append(
                HandlerProblem(
                    use.definition.callable or "(empty callable)",
                    use.steps,
                    handler.message,
                    handler.location,
                )
            )
    return problems


__all__ = [
    "HandlerProblem",
    "HandlerUse",
    "HandlersUnloadableError",
    "discover_modules",
    "unresolved_handlers",
]
