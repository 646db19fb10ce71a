"""The engine's view of one step during a run, and the handler block it is called with."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tasker_ctl.engine.isolation import FrozenJson
from tasker_ctl.handlers.invoke import ResolvedHandler, UnresolvedHandler
from tasker_ctl.handlers.payload import HandlerDefinition
from tasker_ctl.retry import RetryPolicy
from tasker_ctl.store.records import StepRecord


@dataclass
class RunStep:
    """The scheduler's view of one step, kept in step with what is committed."""

    record: StepRecord
    state: str
    attempts: int
    checkpoint: dict[str, Any] | None
    result: Any = None
    frozen_result: FrozenJson | None = None  # what handlers are handed: see engine.isolation
    token: int = 0
    yields: int = 0
    invoker: ResolvedHandler | UnresolvedHandler | None = None
    policy: RetryPolicy = field(default_factory=RetryPolicy)


def handler_definition(handler: Mapping[str, Any]) -> HandlerDefinition:
    return HandlerDefinition(
        callable=str(handler.get("callable", "")),
        method=handler.get("method"),
        resolver=handler.get("resolver"),
        initialization=handler.get("initialization") or {},
    )
