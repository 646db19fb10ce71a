"""Handlers ready to run: call one on a step payload and get its ``StepOutcome``.

``ResolvedHandler.invoke(payload)`` builds the ``StepContext``, creates a new handler instance,
calls ``call`` (or ``handler.method``), runs coroutines to completion and normalises the result.
``invoke`` shares nothing mutable, so worker threads may call it at once.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tasker_ctl.handlers.normalise import (
    failure_metadata,
    outcome_from_exception,
    outcome_from_return,
)
from tasker_ctl.handlers.outcome import HANDLER_ERROR, INVALID_PAYLOAD, StepOutcome
from tasker_ctl.handlers.payload import build_context


@dataclass(frozen=True)
class ResolvedHandler:
    """A handler ready to run: a class (new instance per call) or a plain function."""

    callable: str
    target: Any
    handler_name: str
    is_class: bool
    method: str | None = None
    initialization: Mapping[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Always true: this handler can run."""
        return True

    @property
    def description(self) -> str:
        """``module.Qualname`` of the handler, for messages."""
        return f"{self.target.__module__}.{self.target.__qualname__}"

    def invoke(self, payload: Mapping[str, Any]) -> StepOutcome:
        """Run the handler on ``payload`` (reference §5.3) and return its outcome."""
        try:
            context = build_context(payload, self.handler_name)
        except Exception as exc:
            return StepOutcome.failed(
                f"cannot build the step context: {exc}", INVALID_PAYLOAD, retryable=False
            )
        if self.is_class:
            try:
                handler = self._instantiate()
            except Exception as exc:
                return StepOutcome.failed(
                    f"cannot create handler {self.description}: {type(exc).__name__}: {exc}",
                    HANDLER_ERROR,
                    retryable=False,
                    metadata=failure_metadata(exc),
                )
            entry: Callable[[Any], Any] = getattr(handler, self.method or "call")
        else:
            entry = self.target
        try:
            value = entry(context)
            if inspect.isawaitable(value):
                import asyncio  # only async handlers need it (~15 ms to import)

                value = asyncio.run(_await(value))
        except (Exception, SystemExit) as exc:
            return outcome_from_exception(exc)
        return outcome_from_return(value)

    def _instantiate(self) -> Any:
        try:
            return self.target()
        except TypeError:
            return self.target(config=dict(self.initialization))


async def _await(awaitable: Any) -> Any:
    return await awaitable


@dataclass(frozen=True)
class UnresolvedHandler:
    """A callable that resolved to nothing, or was refused: every invocation fails with ``outcome``.

    ``location`` is ``file:line`` of the error when a handler module failed to import.
    """

    callable: str
    outcome: StepOutcome
    location: str | None = None

    @property
    def ok(self) -> bool:
        """Always false: running it fails the step."""
        return False

    @property
    def message(self) -> str:
        """Why the callable did not resolve."""
        return self.outcome.error_message or ""

    def invoke(self, payload: Mapping[str, Any]) -> StepOutcome:
        """The resolution failure, for the step being run."""
        return self.outcome
