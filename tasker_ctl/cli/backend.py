"""Which task operations the commands call: the local store's, or a Tasker server's.

The root callback records ``--profile`` with :func:`select_profile`; ``TASKER_CLIENT_PROFILE``
applies when the flag is absent. ``tasks`` stands for the chosen implementation (it resolves on
first use), so a command writes ``tasks.task_status(…)`` whichever it is. Commands that need the
local engine are registered through :func:`local_only`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar, cast

if TYPE_CHECKING:
    from tasker_ctl.remote.backend import TaskOperations

_P = ParamSpec("_P")
_R = TypeVar("_R")


class _State:
    flag: str | None = None
    operations: TaskOperations | None = None


def select_profile(flag: str | None) -> None:
    """Record the ``--profile`` of this invocation (and forget any earlier choice)."""
    _State.flag = flag
    _State.operations = None


def profile_flag() -> str | None:
    """The global ``--profile`` of this invocation, if given (``TASKER_CLIENT_PROFILE`` aside)."""
    return _State.flag


def profile_name() -> str | None:
    """The profile this invocation uses: ``--profile``, else ``TASKER_CLIENT_PROFILE``, else
    None (local)."""
    from tasker_ctl.remote import selected_profile_name

    return selected_profile_name(_State.flag)


def operations() -> TaskOperations:
    """The task operations of this invocation (built once)."""
    if _State.operations is None:
        name = profile_name()
        if name is None:  # the local package itself: nothing of remote/ is imported
            from tasker_ctl import tasks as local

            _State.operations = cast("TaskOperations", local)
        else:
            from tasker_ctl.remote.backend import task_operations

            _State.operations = task_operations(name)
    return _State.operations


class _Chosen:
    """Forwards each attribute to the chosen implementation."""

    def __getattr__(self, name: str) -> Any:
        return getattr(operations(), name)


tasks = cast("TaskOperations", _Chosen())


def local_only(
    command: str, *, when: Callable[..., bool] | None = None
) -> Callable[[Callable[_P, _R]], Callable[_P, _R]]:
    """Wrap a command that needs the local engine: under a profile it is refused (``when``
    narrows that to some arguments, e.g. ``create --run``). The signature is kept for typer."""

    def wrap(function: Callable[_P, _R]) -> Callable[_P, _R]:
        @functools.wraps(function)
        def guarded(*args: _P.args, **kwargs: _P.kwargs) -> _R:
            if when is None or when(**kwargs):
                from tasker_ctl.remote.backend import require_local

                require_local(command, profile_name())
            return function(*args, **kwargs)

        return guarded

    return wrap
